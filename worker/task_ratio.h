/*
 * task_ratio.h - `--show-task-ratio-json`: the share of each class and of
 * each of its tasks, in the JSON shape `locust --show-task-ratio-json`
 * prints ("per_class": task ratios within the class; "total": of all
 * tasks), so a worker's task names and weights can be compared with the
 * locustfile's.
 */
#ifndef LW_TASK_RATIO_H
#define LW_TASK_RATIO_H

#include <stddef.h>
#include <stdio.h>

#include "lw.h"

void task_ratio_print(FILE *out, const lw_user_class *classes, size_t n);

#endif
