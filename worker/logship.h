/*
 * logship.h - the worker's recent log lines, kept for the master's Logs tab
 * (Locust 2.29+ masters take a "logs" message), the way a Python worker
 * keeps and sends them: the last LOGSHIP_KEEP lines, all of them sent every
 * 10 s when there are new ones, and sending stopped for good after a burst
 * of more than LOGSHIP_BURST new lines in one interval.
 */
#ifndef LW_LOGSHIP_H
#define LW_LOGSHIP_H

#include <stddef.h>

#define LOGSHIP_KEEP 500
#define LOGSHIP_BURST 70

typedef struct logship logship;

logship *logship_new(void);
void logship_free(logship *l);
/* Keeps a copy of one line (the oldest goes past LOGSHIP_KEEP). */
void logship_add(logship *l, const char *line);

/* The master takes "logs" messages: from now on logship_take may send
 * (first all lines kept so far). */
void logship_enable(logship *l);

typedef enum {
    LOGSHIP_NOTHING = 0, /* no new line, or sending has stopped */
    LOGSHIP_SEND,        /* send the lines */
    LOGSHIP_SEND_LAST    /* a burst: send the lines one last time */
} logship_verdict;

/* Once per interval: whether to send, and the lines to send (oldest first;
 * valid until the next logship_add). */
logship_verdict logship_take(logship *l, const char *const **lines, size_t *n);

#endif
