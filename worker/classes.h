/*
 * classes.h - checking the compiled-in user classes before the worker
 * starts: lw_main refuses a table that cannot run (exit 2, one line).
 */
#ifndef LW_CLASSES_H
#define LW_CLASSES_H

#include <stddef.h>

#include "lw.h"

/*
 * 0 when every class can run; else -1 with err naming the first problem:
 * no classes, a class without a name or with a name used twice, an
 * invalid wait_time or client, no tasks, a task without a function or with
 * a weight below 1, task weights whose sum does not fit in an int.
 */
int classes_check(const lw_user_class *c, size_t n, char *err, size_t len);

#endif
