/*
 * taskpick.h - which tasks of a user class may run, and the weighted choice
 * among them. The master's user steers the selection two ways, as with
 * Python workers: `--tags` / `--exclude-tags` (Locust's
 * _filter_tasks_by_tags, applied at the start of each test) and the web
 * UI's class picker (update_user_class: the tasks selected by name, and a
 * host for the class). Running users pick from the selection at once.
 */
#ifndef LW_TASKPICK_H
#define LW_TASKPICK_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"
#include "lw.h"

typedef struct {
    const lw_user_class *cls;
    unsigned char *tag_ok; /* per task: passes the test's tags */
    unsigned char *picked; /* per task: selected in the class picker */
    int64_t total;         /* weight of the tasks that may run */
    char *host;            /* the class picker's host, or NULL */
    int warned;            /* "no task left" said for this test */
} taskpick;

/* 0, or -1 when out of memory. Every task may run. */
int taskpick_init(taskpick *t, const lw_user_class *cls);
void taskpick_free(taskpick *t);

/* A new test's tags (NULL, None or an empty list: no filter). Returns the
 * number of tasks that may run now. */
size_t taskpick_tags(taskpick *t, const proto_option *tags, const proto_option *exclude);

/* The class picker's selection: the tasks named, by lw_task.name. Returns
 * the number of tasks that may run now. */
size_t taskpick_select(taskpick *t, char *const *names, size_t n);

/* The class picker's host ("" or NULL: the test's). 0 or -1 (memory). */
int taskpick_set_host(taskpick *t, const char *host);

/* A task chosen at random by weight among those that may run; r in [0, 1).
 * NULL when none may run. */
const lw_task *taskpick_choose(const taskpick *t, double r);

#endif
