/*
 * runtasks.h - --run-tasks Class.task[,...]: run each named task once, in
 * one user of its class (on_start, the task, on_stop), no master, and
 * print every response (status, time, size, first bytes, verdict) and
 * every lw_record, for debugging a task. Exit code 1 when one failed.
 */
#ifndef LW_RUNTASKS_H
#define LW_RUNTASKS_H

#include <stddef.h>

#include "cli.h"
#include "lw.h"

/* Every Class.task names a class of this binary and one of its tasks.
 * 0, or -1 with err filled (one line). */
int runtasks_check(const char *list, const lw_user_class *classes, size_t n, char *err,
                   size_t errlen);

/* Runs them in turn; returns the exit code. */
int runtasks_run(const lw_config *cfg, const lw_user_class *classes, size_t n);

#endif
