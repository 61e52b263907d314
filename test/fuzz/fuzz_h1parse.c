/*
 * fuzz_h1parse.c - libFuzzer target for the HTTP/1.1 response parser
 * (worker/h1parse.c).
 *
 * The first input byte picks a split position, the rest is what a server
 * sent. Each input is parsed as the response to GET and to HEAD, three ways:
 * in one piece, in two pieces cut at the chosen position, and (when short)
 * one byte at a time; then h1_eof() and h1_reset(). Under ASan/UBSan
 * nothing may crash, read out of bounds, leak or overflow, and:
 *   - the three ways agree on bytes consumed, results, h1_eof() and on what
 *     the callbacks saw;
 *   - body_bytes is the sum of on_body lengths, never more than the bytes
 *     consumed, 0 for HEAD, 1xx, 204 and 304, and equal to Content-Length
 *     when a non-chunked response with one completed by itself;
 *   - header names are non-empty tokens and values are trimmed and hold no
 *     CR, LF or NUL; the reason is NUL-terminated;
 *   - the line buffer is gone once the response is done or has failed.
 *
 * Seeds: test/fuzz/corpus/h1parse.
 * Build and run: make fuzz [FUZZ_SECONDS=60].
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/h1parse.h"

#define BYTEWISE_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    ssize_t rc; /* bytes consumed, or -1 */
    int done_before_eof, eof;
    int status, chunked, keep_alive;
    int64_t content_length, body_bytes, body_seen;
    uint64_t hash; /* of the headers and body the callbacks saw */
    int nheaders;
} result;

static void hash_bytes(uint64_t *h, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        *h ^= (unsigned char)p[i];
        *h *= 1099511628211u;
    }
}

static int bad_char(const char *p, size_t n)
{
    return memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL || memchr(p, '\0', n) != NULL;
}

static int on_header(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
{
    result *r = ctx;

    if (nlen == 0 || bad_char(name, nlen) || bad_char(value, vlen) ||
        memchr(name, ' ', nlen) != NULL || memchr(name, ':', nlen) != NULL)
        abort();
    if (vlen > 0 &&
        (value[0] == ' ' || value[0] == '\t' || value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        abort();
    r->nheaders++;
    hash_bytes(&r->hash, "\n", 1);
    hash_bytes(&r->hash, name, nlen);
    hash_bytes(&r->hash, ":", 1);
    hash_bytes(&r->hash, value, vlen);
    return 0;
}

static int on_body(void *ctx, const char *p, size_t len)
{
    result *r = ctx;

    if (len == 0)
        abort();
    r->body_seen += (int64_t)len;
    hash_bytes(&r->hash, p, len);
    return 0;
}

static const h1_callbacks callbacks = {on_header, on_body};

/* Feeds one piece; returns 0 to go on, 1 when the parser failed. */
static int feed(h1_parser *p, const char *data, size_t n, result *r)
{
    ssize_t got = h1_feed(p, data, n, &callbacks, r);

    if (got < 0) {
        /* Failed for good, and the line buffer is gone. */
        if (p->line != NULL || h1_feed(p, data, n, &callbacks, r) != -1)
            abort();
        r->rc = -1;
        return 1;
    }
    /* Bytes are left over only after the end of the response. */
    if ((size_t)got > n || ((size_t)got < n && !p->done))
        abort();
    r->rc += got;
    return 0;
}

/* Feeds data[0..cut), then the rest in pieces of at most piece bytes. */
static void run(const char *data, size_t len, size_t cut, size_t piece, int no_body, result *r)
{
    h1_parser p;
    size_t pos = cut;
    int failed;

    memset(r, 0, sizeof *r);
    r->hash = 14695981039346656037u;
    h1_init(&p, no_body);
    failed = feed(&p, data, cut, r);
    while (!failed && pos < len) {
        size_t n = len - pos < piece ? len - pos : piece;
        failed = feed(&p, data + pos, n, r);
        pos += n;
    }
    r->done_before_eof = p.done;
    if ((p.done && p.line != NULL) || memchr(p.reason, '\0', sizeof p.reason) == NULL)
        abort();
    r->eof = r->rc < 0 ? -1 : h1_eof(&p);
    if (r->eof == 1 && (!p.done || (!r->done_before_eof && p.keep_alive)))
        abort();
    r->status = p.status;
    r->chunked = p.chunked;
    r->keep_alive = p.keep_alive;
    r->content_length = p.content_length;
    r->body_bytes = p.body_bytes;
    h1_reset(&p);
    if (p.line != NULL || p.done || p.status != 0)
        abort();
}

static void check(const result *r, int no_body)
{
    int bodiless = no_body || r->status / 100 == 1 || r->status == 204 || r->status == 304;

    if (r->body_bytes != r->body_seen || r->body_bytes < 0)
        abort();
    if (r->rc >= 0 && r->body_bytes > r->rc)
        abort();
    if (bodiless && r->body_bytes != 0)
        abort();
    if (r->done_before_eof && !r->chunked && r->content_length >= 0 && r->body_bytes > 0 &&
        r->body_bytes != r->content_length)
        abort();
}

static void same(const result *a, const result *b)
{
    if (a->rc != b->rc || a->done_before_eof != b->done_before_eof || a->eof != b->eof ||
        a->status != b->status || a->chunked != b->chunked || a->keep_alive != b->keep_alive ||
        a->content_length != b->content_length || a->body_bytes != b->body_bytes ||
        a->hash != b->hash || a->nheaders != b->nheaders)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *resp = (const char *)data + 1;
    size_t len, cut;
    result whole, split, bytes;
    int no_body;

    if (size == 0)
        return 0;
    len = size - 1;
    cut = len == 0 ? 0 : (size_t)data[0] * len / 255;
    for (no_body = 0; no_body <= 1; no_body++) {
        run(resp, len, len, 1, no_body, &whole);
        check(&whole, no_body);
        run(resp, len, cut, len, no_body, &split);
        same(&whole, &split);
        if (len <= BYTEWISE_MAX) {
            run(resp, len, len > 0, 1, no_body, &bytes);
            same(&whole, &bytes);
        }
    }
    return 0;
}
