/*
 * dispatch.h - which class each new user of a standalone run belongs to,
 * in the order Locust's UsersDispatcher picks them for one worker: its
 * Kullback-Leibler generator over the classes sorted by name, weighted
 * (weights 5 and 1 give AAABAAAAABAA), and its ramp-up steps.
 */
#ifndef LW_DISPATCH_H
#define LW_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lw.h"

typedef struct {
    double kl; /* heap key: weight * log2(x / (x + 1)) */
    double x;  /* the next x */
    double weight;
    const char *name;
    size_t index; /* into the caller's class array */
} dispatch_slot;

typedef struct {
    dispatch_slot *slots;
    size_t n;
} dispatcher;

/* The classes with selected[i] set (NULL: all) and a weight above 0.
 * Returns 0, or -1 when out of memory. */
int dispatch_init(dispatcher *d, const lw_user_class *classes, size_t n, const int *selected);
void dispatch_free(dispatcher *d);
/* The class index of the next user, or -1 when no class can be picked. */
long dispatch_next(dispatcher *d);

/* Locust's ramp: users added per step (max(1, floor(rate))) and the
 * seconds between steps (that count / rate). */
int64_t dispatch_step_users(double spawn_rate);
double dispatch_step_seconds(double spawn_rate);

#endif
