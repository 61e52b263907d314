/*
 * dispatch.c - Locust's _kl_generator (locust/dispatch.py): a heap of
 * (kl, x, weight, name) tuples, compared as Python compares tuples; the
 * smallest is yielded and replaced by (weight * log2(x / (x + 1)), x + 1,
 * weight, name). With a handful of classes a linear scan for the smallest
 * gives the same order as the heap.
 */
#include "dispatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(((const dispatch_slot *)a)->name, ((const dispatch_slot *)b)->name);
}

int dispatch_init(dispatcher *d, const lw_user_class *classes, size_t n, const int *selected)
{
    d->n = 0;
    d->slots = calloc(n ? n : 1, sizeof *d->slots);
    if (!d->slots) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double w = classes[i].weight;
        if ((selected && !selected[i]) || !(w > 0)) {
            continue;
        }
        d->slots[d->n++] = (dispatch_slot){w * log2(w / (w + 1.0)), w + 1.0, w, classes[i].name, i};
    }
    qsort(d->slots, d->n, sizeof *d->slots, by_name);
    return 0;
}

void dispatch_free(dispatcher *d)
{
    free(d->slots);
    d->slots = NULL;
    d->n = 0;
}

/* Python's tuple order: kl, then x, then weight, then name. */
static int less(const dispatch_slot *a, const dispatch_slot *b)
{
    if (a->kl != b->kl) {
        return a->kl < b->kl;
    }
    if (a->x != b->x) {
        return a->x < b->x;
    }
    if (a->weight != b->weight) {
        return a->weight < b->weight;
    }
    return strcmp(a->name, b->name) < 0;
}

long dispatch_next(dispatcher *d)
{
    if (d->n == 0) {
        return -1;
    }
    dispatch_slot *best = &d->slots[0];
    for (size_t i = 1; i < d->n; i++) {
        if (less(&d->slots[i], best)) {
            best = &d->slots[i];
        }
    }
    double x = best->x;
    best->kl = best->weight * log2(x / (x + 1.0));
    best->x = x + 1.0;
    return (long)best->index;
}

int64_t dispatch_step_users(double spawn_rate)
{
    double f = floor(spawn_rate);
    return f < 1 ? 1 : f > 1e12 ? (int64_t)1e12 : (int64_t)f;
}

double dispatch_step_seconds(double spawn_rate)
{
    return (double)dispatch_step_users(spawn_rate) / spawn_rate;
}
