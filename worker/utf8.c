/*
 * utf8.c - cutting UTF-8 text to a byte bound without splitting a
 * character (stats names, log lines).
 */
#include "utf8.h"

static int continuation(unsigned char b)
{
    return (b & 0xc0) == 0x80;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }
    for (size_t cut = max;; cut--) {
        if (!continuation((unsigned char)s[cut])) {
            return cut;
        }
        if (cut == 0 || max - cut == 3) {
            return max;
        }
    }
}
