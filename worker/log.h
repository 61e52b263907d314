/*
 * log.h - log lines in Locust's format:
 *   [2026-11-27 06:14:37,123] host/INFO/locust.runners: message
 * written to stderr. One line per call; text is never split.
 */
#ifndef LW_LOG_H
#define LW_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 10, LOG_INFO = 20, LOG_WARNING = 30, LOG_ERROR = 40 } log_level;

void log_init(const char *hostname, log_level level);
int log_parse_level(const char *s, log_level *out);
int log_enabled(log_level level);
/* A function that also gets every line written (without its newline),
 * e.g. to keep the recent ones for the master. NULL: none. */
typedef void (*log_tap_fn)(const char *line, void *ctx);
void log_set_tap(log_tap_fn tap, void *ctx);

/* Replace, in place, each control character (C0, DEL, C1 such as NEL) and
 * U+2028/U+2029 with one '?'. Returns the new length. */
size_t log_clean(char *text);
void log_msg(log_level level, const char *logger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_RUNNER "locust.runners"
#define LOG_MAIN "locust.main"
#define LOG_USER "locust.user"

#endif
