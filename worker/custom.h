/*
 * custom.h - the worker's side of the any-protocol API of lw.h (lw_record,
 * task holds, timers, the cleanup hook, lw_worker_index).
 */
#ifndef LW_CUSTOM_H
#define LW_CUSTOM_H

#include <stdint.h>

#include "lw.h"

/* Extension state of one user: pending timers and the cleanup hook. */
struct user_ext;

/* The user is being freed: pending timers are dropped, the cleanup hook
 * runs (its records and releases are ignored). */
void custom_user_free(lw_user *u);

/* The master's ack gave this index (-1: none); a standalone run sets 0. */
void custom_set_worker_index(long index);

/* Called with every operation lw_record counts (--run-tasks prints them),
 * or NULL. */
typedef void (*custom_record_fn)(const char *type, const char *name, double ms, int64_t len,
                                 const char *error);
void custom_set_record_tap(custom_record_fn tap);

#endif
