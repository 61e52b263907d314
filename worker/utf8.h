/*
 * utf8.h - cutting UTF-8 text to a byte bound without splitting a
 * character.
 */
#ifndef LW_UTF8_H
#define LW_UTF8_H

#include <stddef.h>

/*
 * The length to keep of the first len bytes of s so that at most max bytes
 * are kept and no UTF-8 character is cut: len itself when len <= max, else
 * the largest cut at or below max that falls before a byte which starts a
 * character (is not 10xxxxxx). At most 3 bytes are given back: a longer run
 * of continuation bytes is not valid UTF-8 anyway and is cut at max.
 */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
