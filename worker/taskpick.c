/*
 * taskpick.c - the tasks of a class that may run (tags, class picker) and
 * the weighted random choice among them (see taskpick.h).
 */
#include "taskpick.h"

#include <stdlib.h>
#include <string.h>

static void recount(taskpick *t)
{
    t->total = 0;
    for (size_t i = 0; i < t->cls->ntasks; i++) {
        if (t->tag_ok[i] && t->picked[i] && t->cls->tasks[i].weight > 0) {
            t->total += t->cls->tasks[i].weight;
        }
    }
}

static size_t runnable(const taskpick *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cls->ntasks; i++) {
        n += t->tag_ok[i] && t->picked[i];
    }
    return n;
}

int taskpick_init(taskpick *t, const lw_user_class *cls)
{
    size_t n = cls->ntasks ? cls->ntasks : 1;
    memset(t, 0, sizeof *t);
    t->cls = cls;
    t->tag_ok = malloc(n);
    t->picked = malloc(n);
    if (!t->tag_ok || !t->picked) {
        taskpick_free(t);
        return -1;
    }
    memset(t->tag_ok, 1, n);
    memset(t->picked, 1, n);
    recount(t);
    return 0;
}

void taskpick_free(taskpick *t)
{
    free(t->tag_ok);
    free(t->picked);
    free(t->host);
    t->tag_ok = t->picked = NULL;
    t->host = NULL;
}

/* A list option that filters: present, a list, and not empty (Locust:
 * `if parsed_options.tags`). */
static int filters(const proto_option *o)
{
    return o && o->is_list && o->nitems > 0;
}

static int has_tag(const lw_task *task, const proto_option *o)
{
    for (const char *const *tag = task->tags; tag && *tag; tag++) {
        for (size_t i = 0; i < o->nitems; i++) {
            if (strcmp(*tag, o->items[i]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

size_t taskpick_tags(taskpick *t, const proto_option *tags, const proto_option *exclude)
{
    for (size_t i = 0; i < t->cls->ntasks; i++) {
        const lw_task *task = &t->cls->tasks[i];
        int ok = 1;
        if (filters(tags)) {
            ok = has_tag(task, tags);
        }
        if (filters(exclude)) {
            ok = ok && !has_tag(task, exclude);
        }
        t->tag_ok[i] = (unsigned char)ok;
    }
    t->warned = 0;
    recount(t);
    return runnable(t);
}

size_t taskpick_select(taskpick *t, char *const *names, size_t n)
{
    for (size_t i = 0; i < t->cls->ntasks; i++) {
        const char *name = t->cls->tasks[i].name;
        t->picked[i] = 0;
        for (size_t j = 0; name && j < n; j++) {
            if (strcmp(name, names[j]) == 0) {
                t->picked[i] = 1;
            }
        }
    }
    t->warned = 0;
    recount(t);
    return runnable(t);
}

int taskpick_set_host(taskpick *t, const char *host)
{
    char *copy = NULL;
    if (host && *host && !(copy = strdup(host))) {
        return -1;
    }
    free(t->host);
    t->host = copy;
    return 0;
}

const lw_task *taskpick_choose(const taskpick *t, double r)
{
    if (t->total <= 0) {
        return NULL;
    }
    int64_t pick = (int64_t)(r * (double)t->total);
    const lw_task *last = NULL;
    for (size_t i = 0; i < t->cls->ntasks; i++) {
        const lw_task *task = &t->cls->tasks[i];
        if (!t->tag_ok[i] || !t->picked[i] || task->weight <= 0) {
            continue;
        }
        if (pick < task->weight) {
            return task;
        }
        pick -= task->weight;
        last = task;
    }
    return last; /* r * total rounded up to total */
}
