/*
 * buf.h - the worker's two growth helpers: a byte buffer kept
 * NUL-terminated (buf_put), and the one overflow-checked rule by which
 * every growing array doubles (grow_array).
 */
#ifndef LW_BUF_H
#define LW_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

/* Append len bytes (the buffer stays NUL-terminated). Returns 0, or -1
 * when out of memory or the size would overflow (the buffer unchanged). */
int buf_put(buf *b, const char *data, size_t len);
/* Append a string. */
int buf_puts(buf *b, const char *s);

/* Room for at least need items of size bytes: items is reallocated to a
 * doubled capacity (from first, at least need) and *cap updated. Returns
 * the array, or NULL when out of memory or the byte count would overflow
 * (items and *cap unchanged). When *cap >= need it returns items as is. */
void *grow_array(void *items, size_t *cap, size_t need, size_t size, size_t first);

#endif
