/*
 * logship.c - a ring of the worker's last LOGSHIP_KEEP log lines and the
 * rule of when to send them to the master (see logship.h).
 */
#include "logship.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct logship {
    char *lines[LOGSHIP_KEEP]; /* ring: oldest at `first` */
    const char *ordered[LOGSHIP_KEEP];
    size_t first, count;
    uint64_t total; /* lines ever added */
    uint64_t taken; /* total at the last logship_take */
    int enabled;
    int first_send; /* send once even without a new line */
    int stopped;
};

logship *logship_new(void)
{
    return calloc(1, sizeof(logship));
}

void logship_free(logship *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < LOGSHIP_KEEP; i++) {
        free(l->lines[i]);
    }
    free(l);
}

void logship_add(logship *l, const char *line)
{
    char *copy = strdup(line);
    if (!copy || l->stopped) {
        free(copy);
        return;
    }
    size_t slot = (l->first + l->count) % LOGSHIP_KEEP;
    if (l->count == LOGSHIP_KEEP) {
        slot = l->first;
        l->first = (l->first + 1) % LOGSHIP_KEEP;
    } else {
        l->count++;
    }
    free(l->lines[slot]);
    l->lines[slot] = copy;
    l->total++;
}

void logship_enable(logship *l)
{
    if (!l->enabled) {
        l->enabled = l->first_send = 1;
        l->taken = l->total; /* lines kept so far do not count as a burst */
    }
}

logship_verdict logship_take(logship *l, const char *const **lines, size_t *n)
{
    uint64_t fresh = l->total - l->taken;
    if (!l->enabled || l->stopped || (fresh == 0 && !(l->first_send && l->count))) {
        return LOGSHIP_NOTHING;
    }
    l->first_send = 0;
    l->taken = l->total;
    for (size_t i = 0; i < l->count; i++) {
        l->ordered[i] = l->lines[(l->first + i) % LOGSHIP_KEEP];
    }
    *lines = l->ordered;
    *n = l->count;
    if (fresh > LOGSHIP_BURST) {
        l->stopped = 1;
        return LOGSHIP_SEND_LAST;
    }
    return LOGSHIP_SEND;
}
