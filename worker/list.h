/*
 * list.h - the worker's one doubly linked list: an intrusive link in each
 * item, a head with both ends, O(1) insert and removal. Items are found
 * from their link with LIST_ITEM.
 */
#ifndef LW_LIST_H
#define LW_LIST_H

#include <stddef.h>

typedef struct list_link {
    struct list_link *prev, *next;
} list_link;

typedef struct {
    list_link *first, *last;
} list_head;

/* The item holding link l (a member named member of type type). */
#define LIST_ITEM(l, type, member) ((type *)(void *)((char *)(l)-offsetof(type, member)))

/* Link l in between prev and next (either NULL at an end). */
static inline void list_insert(list_head *h, list_link *l, list_link *prev, list_link *next)
{
    l->prev = prev;
    l->next = next;
    *(prev ? &prev->next : &h->first) = l;
    *(next ? &next->prev : &h->last) = l;
}

static inline void list_push_front(list_head *h, list_link *l)
{
    list_insert(h, l, NULL, h->first);
}

static inline void list_push_back(list_head *h, list_link *l)
{
    list_insert(h, l, h->last, NULL);
}

static inline void list_remove(list_head *h, list_link *l)
{
    if (l->prev) {
        l->prev->next = l->next;
    } else {
        h->first = l->next;
    }
    if (l->next) {
        l->next->prev = l->prev;
    } else {
        h->last = l->prev;
    }
    l->prev = l->next = NULL;
}

#endif
