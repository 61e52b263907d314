/*
 * buf.c - growth helpers (buf.h): the byte buffer and the array doubling
 * rule, both refusing sizes that would overflow.
 */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *grow_array(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap) {
        return items;
    }
    size_t n = *cap ? *cap : (first ? first : 1);
    while (n < need) {
        if (n > SIZE_MAX / 2) {
            return NULL;
        }
        n *= 2;
    }
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    void *grown = realloc(items, n * size);
    if (!grown) {
        return NULL;
    }
    *cap = n;
    return grown;
}

int buf_put(buf *b, const char *data, size_t len)
{
    if (len > SIZE_MAX - b->len - 1) {
        return -1;
    }
    char *d = grow_array(b->data, &b->cap, b->len + len + 1, 1, 256);
    if (!d) {
        return -1;
    }
    b->data = d;
    if (len) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(buf *b, const char *s)
{
    return buf_put(b, s, strlen(s));
}
