/*
 * fuzz_h1cookie.c - libFuzzer target for the fast client's cookie jar
 * (worker/h1cookie.c): Set-Cookie values as a hostile server sends them.
 *
 * The input is split at its newlines into Set-Cookie values, each stored
 * for a request to one of two hosts (the first byte of a line picks it and
 * the path); after each, the Cookie line for a request to either host over
 * http and https is built. Under ASan/UBSan nothing may crash, read out of
 * bounds or leak, and:
 *   - the jar stays within its bounds (cookies per session);
 *   - a Cookie line starts with "Cookie: ", ends with CRLF and holds no
 *     other CR or LF.
 * Seeds: test/fuzz/corpus/h1cookie.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/h1cookie.h"

static const char *const hosts[] = {"a.example.com", "example.com"};
static const char *const targets[] = {"/", "/admin/x?y=1"};

static void check_line(const buf *b)
{
    if (b->len == 0) {
        return;
    }
    if (b->len < 10 || memcmp(b->data, "Cookie: ", 8) != 0 ||
        memcmp(b->data + b->len - 2, "\r\n", 2) != 0) {
        abort();
    }
    for (size_t i = 0; i + 2 < b->len; i++) {
        if (b->data[i] == '\r' || b->data[i] == '\n') {
            abort();
        }
    }
}

static void put_all(h1_jar *s)
{
    for (int h = 0; h < 2; h++) {
        for (int https = 0; https < 2; https++) {
            buf b = {0};
            if (h1_cookies_put(&b, s, hosts[h], targets[h], https) == 0) {
                check_line(&b);
            }
            free(b.data);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h1_jar *s = calloc(1, sizeof *s);
    if (!s) {
        return 0;
    }
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            int pick = (unsigned char)p[0] & 1;
            h1_cookie_set(s, hosts[pick], targets[pick], p + 1, len - 1);
            if (s->ncookies > H1_COOKIES_PER_SESSION) {
                abort();
            }
            put_all(s);
        }
        p += len + 1;
    }
    h1_cookies_free(s);
    free(s);
    return 0;
}
