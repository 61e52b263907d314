/*
 * classes.c - checking the compiled-in user classes (classes.h). A table
 * that passes can run: every user has a task to pick, and picking one
 * (user.c sums the task weights in an int) cannot overflow.
 */
#include "classes.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "wait_time.h"

static int check_name(const lw_user_class *c, size_t i, char *err, size_t len)
{
    if (!c[i].name || !*c[i].name) {
        snprintf(err, len, "user class %zu has no name", i);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(c[i].name, c[j].name) == 0) {
            snprintf(err, len, "user class name '%s' appears twice", c[i].name);
            return -1;
        }
    }
    return 0;
}

static int check_tasks(const lw_user_class *c, char *err, size_t len)
{
    long long sum = 0;
    if (!c->tasks || c->ntasks == 0) {
        snprintf(err, len, "user class '%s' has no tasks", c->name);
        return -1;
    }
    for (size_t t = 0; t < c->ntasks; t++) {
        if (!c->tasks[t].fn || c->tasks[t].weight < 1) {
            snprintf(err, len, "user class '%s': task %zu needs a function and a weight >= 1",
                     c->name, t);
            return -1;
        }
        sum += c->tasks[t].weight;
        if (sum > INT_MAX) {
            snprintf(err, len, "user class '%s': the task weights add up to more than %d", c->name,
                     INT_MAX);
            return -1;
        }
    }
    return 0;
}

int classes_check(const lw_user_class *c, size_t n, char *err, size_t len)
{
    if (!c || n == 0) {
        snprintf(err, len, "no user classes");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_name(c, i, err, len)) {
            return -1;
        }
        if (wait_time_valid(&c[i].wait_time)) {
            snprintf(err, len, "user class '%s' has an invalid wait_time", c[i].name);
            return -1;
        }
        if (c[i].client != LW_CLIENT_CURL && c[i].client != LW_CLIENT_FAST) {
            snprintf(err, len, "user class '%s' has an invalid client (%d)", c[i].name,
                     (int)c[i].client);
            return -1;
        }
        if (check_tasks(&c[i], err, len)) {
            return -1;
        }
    }
    return 0;
}
