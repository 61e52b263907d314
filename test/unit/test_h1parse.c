/*
 * test_h1parse.c - unit tests for worker/h1parse.c, the incremental
 * HTTP/1.1 response parser.
 *
 * Every response here goes through check_splits(): it is parsed in one
 * piece, then split at every byte offset, fed one byte at a time and (when
 * short) split at every pair of offsets, and all of these must give the
 * same result: bytes consumed (or -1), status, reason, framing fields,
 * keep_alive, the headers and body the callbacks saw, and what h1_eof()
 * says afterwards. On top of that each test checks the values themselves:
 * Content-Length and chunked bodies (extensions, trailers, bare LF), HEAD,
 * 1xx/204/304, interim responses, keep-alive rules of HTTP/1.0 and 1.1,
 * bodies delimited by close, truncation, pipelined bytes left unconsumed,
 * malformed responses, line and header block limits, callback aborts,
 * h1_started(), and that the line buffer exists only while a line spans
 * feeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/h1parse.h"

/* What the callbacks saw, and when to abort. */
typedef struct {
    char headers[8192];   /* "name=value\n" per header, as far as it fits */
    size_t hlen;
    char body[8192];      /* the start of the body */
    size_t blen;
    uint64_t hash;        /* of all headers and body bytes, in order */
    int nheaders;
    int abort_at_header;  /* abort on this header (1-based); 0: never */
    int abort_body;       /* abort on the first body bytes */
} sink;

/* Everything a run produces; two runs of the same bytes must match. */
typedef struct {
    ssize_t rc;           /* total bytes consumed, or -1 */
    int done_before_eof;
    int eof;              /* h1_eof() after the feeds; -1 if rc is -1 */
    int status, minor, chunked, keep_alive, done, started;
    int64_t content_length, body_bytes;
    char reason[64];
    sink s;
} outcome;

/* FNV-1a */
static void hash_bytes(uint64_t *h, const char *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        *h ^= (unsigned char)data[i];
        *h *= 1099511628211u;
    }
}

static int on_header(void *ctx, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
    sink *s = ctx;
    int n;

    s->nheaders++;
    if (s->abort_at_header == s->nheaders)
        return 1;
    hash_bytes(&s->hash, "H", 1);
    hash_bytes(&s->hash, name, nlen);
    hash_bytes(&s->hash, "=", 1);
    hash_bytes(&s->hash, value, vlen);
    if (nlen + vlen + 2 >= sizeof s->headers - s->hlen)
        return 0;   /* long headers: keep the first ones */
    n = snprintf(s->headers + s->hlen, sizeof s->headers - s->hlen,
                 "%.*s=%.*s\n", (int)nlen, name, (int)vlen, value);
    if (n < 0 || (size_t)n >= sizeof s->headers - s->hlen)
        fail_msg("snprintf failed");
    s->hlen += (size_t)n;
    return 0;
}

static int on_body(void *ctx, const char *data, size_t len)
{
    sink *s = ctx;

    if (len == 0)
        fail_msg("on_body called with no bytes");
    if (s->abort_body)
        return 1;
    hash_bytes(&s->hash, data, len);   /* a stream: no marker */
    if (len > sizeof s->body - s->blen)
        len = sizeof s->body - s->blen;   /* long bodies: keep the start */
    memcpy(s->body + s->blen, data, len);
    s->blen += len;
    return 0;
}

static const h1_callbacks sink_cb = {on_header, on_body};

static void record(outcome *o, h1_parser *p)
{
    o->done_before_eof = p->done;
    o->eof = o->rc < 0 ? -1 : h1_eof(p);
    o->status = p->status;
    o->minor = p->minor;
    o->chunked = p->chunked;
    o->keep_alive = p->keep_alive;
    o->done = p->done;
    o->started = h1_started(p);
    o->content_length = p->content_length;
    o->body_bytes = p->body_bytes;
    memcpy(o->reason, p->reason, sizeof o->reason);
}

/* Feeds resp in pieces ending at cuts[0..ncuts) (ascending) and len. */
static void run_cuts(const char *resp, size_t len, int no_body,
                     const size_t *cuts, size_t ncuts, outcome *o)
{
    h1_parser p;
    size_t prev = 0, i;

    h1_init(&p, no_body);
    o->rc = 0;
    o->s.hlen = o->s.blen = 0;
    o->s.nheaders = 0;
    o->s.hash = 14695981039346656037u;
    for (i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        ssize_t n = h1_feed(&p, resp + prev, end - prev, &sink_cb, &o->s);
        if (n < 0) {
            o->rc = -1;
            break;
        }
        /* Bytes are left over only after the end of the response. */
        if ((size_t)n < end - prev && !p.done)
            fail_msg("consumed %zd of %zu bytes but not done", n,
                     end - prev);
        o->rc += n;
        prev = end;
    }
    record(o, &p);
    h1_reset(&p);
    if (p.line != NULL || p.done || h1_started(&p))
        fail_msg("h1_reset left state behind");
}

static void same(const outcome *a, const outcome *b, const char *how,
                 size_t i, size_t j)
{
    if (a->rc != b->rc || a->done_before_eof != b->done_before_eof ||
        a->eof != b->eof || a->status != b->status ||
        a->minor != b->minor || a->chunked != b->chunked ||
        a->keep_alive != b->keep_alive || a->done != b->done ||
        a->started != b->started ||
        a->content_length != b->content_length ||
        a->body_bytes != b->body_bytes ||
        strcmp(a->reason, b->reason) != 0 ||
        a->s.nheaders != b->s.nheaders || a->s.hash != b->s.hash ||
        a->s.hlen != b->s.hlen ||
        memcmp(a->s.headers, b->s.headers, a->s.hlen) != 0 ||
        a->s.blen != b->s.blen ||
        memcmp(a->s.body, b->s.body, a->s.blen) != 0)
        fail_msg("%s at %zu/%zu: rc %zd vs %zd, status %d vs %d, body %lld "
                 "vs %lld, done %d vs %d, eof %d vs %d, ka %d vs %d", how, i,
                 j, a->rc, b->rc, a->status, b->status,
                 (long long)a->body_bytes, (long long)b->body_bytes, a->done,
                 b->done, a->eof, b->eof, a->keep_alive, b->keep_alive);
}

/* Parses resp in one piece into ref, and checks that every way of
 * splitting it gives the same outcome. ref->s holds the abort settings. */
static void check_splits_n(const char *resp, size_t len, int no_body,
                           outcome *ref)
{
    outcome *o = calloc(1, sizeof *o);
    size_t *cuts = calloc(len + 1, sizeof *cuts);
    size_t i, j, step = len <= 4096 ? 1 : 997;

    assert_non_null(o);
    assert_non_null(cuts);
    o->s.abort_at_header = ref->s.abort_at_header;
    o->s.abort_body = ref->s.abort_body;
    run_cuts(resp, len, no_body, NULL, 0, ref);
    for (i = 0; i <= len; i += step) {
        run_cuts(resp, len, no_body, &i, 1, o);
        same(ref, o, "split", i, i);
    }
    for (i = 1; i < len; i++)
        cuts[i - 1] = i;
    run_cuts(resp, len, no_body, cuts, len > 0 ? len - 1 : 0, o);
    same(ref, o, "byte by byte", 0, 0);
    for (i = 0; len <= 256 && i <= len; i++) {
        for (j = i; j <= len; j++) {
            cuts[0] = i;
            cuts[1] = j;
            run_cuts(resp, len, no_body, cuts, 2, o);
            same(ref, o, "two splits", i, j);
        }
    }
    free(cuts);
    free(o);
}

static void check_splits(const char *resp, int no_body, outcome *ref)
{
    check_splits_n(resp, strlen(resp), no_body, ref);
}

static outcome *new_outcome(void)
{
    outcome *o = calloc(1, sizeof *o);
    assert_non_null(o);
    return o;
}

/* The body as a string (the tests' bodies are short). */
static void assert_body(const outcome *o, const char *want)
{
    assert_int_equal(o->s.blen, strlen(want));
    assert_memory_equal(o->s.body, want, o->s.blen);
    assert_int_equal(o->body_bytes, (int64_t)strlen(want));
}

static void assert_headers(const outcome *o, const char *want)
{
    assert_int_equal(o->s.hlen, strlen(want));
    assert_memory_equal(o->s.headers, want, o->s.hlen);
}

/* ---- Content-Length --------------------------------------------------- */

static void test_simple_200(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 5\r\n\r\nhello";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->status, 200);
    assert_int_equal(o->minor, 1);
    assert_string_equal(o->reason, "OK");
    assert_int_equal(o->content_length, 5);
    assert_int_equal(o->chunked, 0);
    assert_int_equal(o->keep_alive, 1);
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->eof, 1);
    assert_int_equal(o->started, 1);
    assert_headers(o, "Content-Type=text/plain\nContent-Length=5\n");
    assert_body(o, "hello");
    free(o);
}

/* A few shapes of response, each at every split (check_splits). */
static void test_split_everywhere(void **state)
{
    static const char *const rs[] = {
        "HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 12\r\n\r\n"
        "no such page",
        "HTTP/1.0 200 OK\nConnection: Keep-Alive\nContent-Length: 3\n\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 1\r\n\r\nxyz",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ntrunc",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
    };
    outcome *o = new_outcome();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof rs / sizeof rs[0]; i++)
        check_splits(rs[i], 0, o);
    /* The last one: obsolete line folding is rejected at every split. */
    assert_int_equal(o->rc, -1);
    free(o);
}

/* ---- chunked ---------------------------------------------------------- */

static const char chunked_resp[] =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=val\r\nhello\r\n"
    "6 ; ext=\"quoted;x\"\r\n world\r\n"
    "a\r\n0123456789\r\n"
    "00000000000000000000000000000000000000000001\r\n!\r\n"
    "0;last\r\n"
    "X-Trailer: t1\r\n"
    "X-Other:  t2 \r\n"
    "\r\n";

static void test_chunked(void **state)
{
    outcome *o = new_outcome();

    (void)state;
    check_splits(chunked_resp, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(chunked_resp));
    assert_int_equal(o->chunked, 1);
    assert_int_equal(o->content_length, -1);
    assert_int_equal(o->keep_alive, 1);
    assert_int_equal(o->done_before_eof, 1);
    assert_body(o, "hello world0123456789!");
    /* Trailers follow the headers, after the body. */
    assert_headers(o, "Transfer-Encoding=chunked\nX-Trailer=t1\nX-Other=t2\n");
    free(o);
}

static void test_chunked_variants(void **state)
{
    /* bare LF, no trailers, upper-case hex, chunked after gzip */
    static const char lf[] = "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, "
                             "CHUNKED\n\nA\n0123456789\n0\n\nHTTP/1.1";
    /* chunked wins over Content-Length */
    static const char both[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"
                               "2\r\nok\r\n0\r\n\r\n";
    /* largest chunk size: parsed, then the body is truncated */
    static const char big[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                              "\r\n\r\n7fffffffffffffff\r\nabc";
    outcome *o = new_outcome();

    (void)state;
    check_splits(lf, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(lf) - 8);
    assert_int_equal(o->chunked, 1);
    assert_body(o, "0123456789");
    check_splits(both, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(both));
    assert_int_equal(o->chunked, 1);
    assert_int_equal(o->content_length, 100);
    assert_body(o, "ok");
    check_splits(big, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(big));
    assert_int_equal(o->done, 0);
    assert_int_equal(o->eof, 0);
    assert_body(o, "abc");
    free(o);
}

/* A Transfer-Encoding whose last coding is not chunked: read until close. */
static void test_transfer_encoding_not_chunked(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, "
                            "gzip\r\nContent-Length: 2\r\n\r\n3\r\nabc\r\n";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->chunked, 0);
    assert_int_equal(o->done_before_eof, 0);
    assert_int_equal(o->eof, 1);
    assert_int_equal(o->keep_alive, 0);
    assert_body(o, "3\r\nabc\r\n");
    free(o);
}

/* HTTP/1.0 with Transfer-Encoding: decoded, but the connection closes. */
static void test_http10_chunked(void **state)
{
    static const char r[] = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"
                            "1\r\nx\r\n0\r\n\r\n";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->keep_alive, 0);
    assert_body(o, "x");
    free(o);
}

/* ---- no body ---------------------------------------------------------- */

static void test_head(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                            "HTTP/1.1 200 OK\r\n";
    static const char rc[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                             "\r\n\r\n";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 1, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r) - 17);
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->content_length, 10);
    assert_int_equal(o->keep_alive, 1);
    assert_body(o, "");
    check_splits(rc, 1, o);
    assert_int_equal(o->rc, (ssize_t)strlen(rc));
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->chunked, 1);
    assert_int_equal(o->keep_alive, 1);
    /* The same bytes without no_body wait for the chunked body. */
    check_splits(rc, 0, o);
    assert_int_equal(o->done_before_eof, 0);
    assert_int_equal(o->eof, 0);
    free(o);
}

static void test_204_304(void **state)
{
    static const char r204[] = "HTTP/1.1 204 No Content\r\nContent-Length: 5"
                               "\r\n\r\nhello";
    static const char r304[] = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding"
                               ": chunked\r\n\r\n0\r\n\r\n";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r204, 0, o);
    assert_int_equal(o->status, 204);
    assert_int_equal(o->rc, (ssize_t)strlen(r204) - 5);
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->keep_alive, 1);
    assert_body(o, "");
    check_splits(r304, 0, o);
    assert_int_equal(o->status, 304);
    assert_int_equal(o->rc, (ssize_t)strlen(r304) - 5);
    assert_int_equal(o->done_before_eof, 1);
    assert_body(o, "");
    free(o);
}

/* ---- interim responses ------------------------------------------------ */

static void test_100_continue(void **state)
{
    static const char r[] =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n"
        "Content-Length: 7\r\nConnection: close\r\n\r\n"
        "HTTP/1.0 201 Created\r\nContent-Length: 2\r\n\r\nok";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->status, 201);
    assert_int_equal(o->minor, 0);
    assert_string_equal(o->reason, "Created");
    assert_int_equal(o->content_length, 2);
    assert_int_equal(o->keep_alive, 0);
    /* Headers of interim responses are not passed on. */
    assert_headers(o, "Content-Length=2\n");
    assert_body(o, "ok");
    /* Interim responses to a HEAD request are skipped just the same. */
    check_splits(r, 1, o);
    assert_int_equal(o->status, 201);
    assert_int_equal(o->rc, (ssize_t)strlen(r) - 2);
    assert_body(o, "");
    free(o);
}

/* An interim response alone is not a response. */
static void test_interim_only(void **state)
{
    static const char r[] = "HTTP/1.1 100 Continue\r\n\r\n";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->status, 0);
    assert_int_equal(o->done, 0);
    assert_int_equal(o->eof, 0);
    assert_int_equal(o->started, 1);
    free(o);
}

/* 101 ends the HTTP exchange: complete, bytes after it left alone. */
static void test_101(void **state)
{
    static const char r[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
                            "websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r) - 2);
    assert_int_equal(o->status, 101);
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->keep_alive, 0);
    assert_headers(o, "Upgrade=websocket\nConnection=Upgrade\n");
    free(o);
}

/* ---- keep-alive ------------------------------------------------------- */

static void test_keep_alive_rules(void **state)
{
    static const struct {
        const char *head;
        int keep_alive;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection:close \r\n", 0},
        {"HTTP/1.1 200 OK\r\nConnection: closed\r\n", 1},
        {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close"
         "\r\n", 0},
        {"HTTP/1.0 200 OK\r\n", 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nConnection: foo,\tKeep-Alive\r\n", 1},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n", 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alives\r\n", 0},
    };
    outcome *o = new_outcome();
    char r[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = snprintf(r, sizeof r, "%sContent-Length: 1\r\n\r\nx",
                         cases[i].head);
        assert_true(n > 0 && (size_t)n < sizeof r);
        check_splits(r, 0, o);
        if (o->rc != n || o->keep_alive != cases[i].keep_alive)
            fail_msg("case %zu: rc %zd, keep_alive %d", i, o->rc,
                     o->keep_alive);
    }
    free(o);
}

static void test_connection_close(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                            "Content-Length: 3\r\n\r\nabc";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->done_before_eof, 1);
    assert_int_equal(o->keep_alive, 0);
    assert_body(o, "abc");
    free(o);
}

/* ---- end of connection ------------------------------------------------ */

static void test_read_until_close(void **state)
{
    static const char r[] = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                            "\r\nall of this\r\nis body";
    outcome *o = new_outcome();
    h1_parser p;

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->done_before_eof, 0);
    assert_int_equal(o->eof, 1);
    assert_int_equal(o->done, 1);
    assert_int_equal(o->keep_alive, 0);
    assert_int_equal(o->content_length, -1);
    assert_body(o, "all of this\r\nis body");
    /* An empty body delimited by close. */
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, "HTTP/1.1 200 OK\r\n\r\n", 19, NULL, NULL),
                     19);
    assert_int_equal(p.done, 0);
    /* Known not to be reusable as soon as the headers end. */
    assert_int_equal(p.keep_alive, 0);
    assert_int_equal(h1_eof(&p), 1);
    assert_int_equal(p.done, 1);
    assert_int_equal(p.body_bytes, 0);
    /* Nothing more is taken once done. */
    assert_int_equal(h1_feed(&p, "xx", 2, NULL, NULL), 0);
    assert_int_equal(h1_eof(&p), 1);
    h1_reset(&p);
    free(o);
}

static void test_truncated(void **state)
{
    static const char *const rs[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200",
        "H",
    };
    outcome *o = new_outcome();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        check_splits(rs[i], 0, o);
        if (o->rc != (ssize_t)strlen(rs[i]) || o->eof != 0 || o->done != 0 ||
            o->started != 1)
            fail_msg("case %zu: rc %zd, eof %d, done %d", i, o->rc, o->eof,
                     o->done);
    }
    free(o);
}

/* ---- pipelining ------------------------------------------------------- */

static void test_pipelined_leftover(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                            "\r\n";
    static const char rc[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                             "\r\n\r\n1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    const size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                "\r\nabc");
    outcome *o = new_outcome();
    h1_parser p;
    ssize_t n;

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)first);
    assert_body(o, "abc");
    check_splits(rc, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(rc) - 17);
    /* The leftover is the next response. */
    h1_init(&p, 0);
    n = h1_feed(&p, r, strlen(r), NULL, NULL);
    assert_int_equal(n, (ssize_t)first);
    h1_init(&p, 0);
    n = h1_feed(&p, r + first, strlen(r) - first, NULL, NULL);
    assert_int_equal(n, (ssize_t)(strlen(r) - first));
    assert_int_equal(p.status, 404);
    assert_string_equal(p.reason, "Not Found");
    assert_int_equal(p.done, 1);
    h1_reset(&p);
    free(o);
}

/* ---- status line and headers ------------------------------------------ */

static void test_status_line_forms(void **state)
{
    static const struct {
        const char *line;
        int status, minor;
        const char *reason;
    } cases[] = {
        {"HTTP/1.1 200 OK", 200, 1, "OK"},
        {"HTTP/1.1 200", 200, 1, ""},
        {"HTTP/1.1 200 ", 200, 1, ""},
        {"HTTP/1.0 500 Internal Server Error", 500, 0,
         "Internal Server Error"},
        {"HTTP/1.1 404  two  spaces ", 404, 1, " two  spaces "},
        {"HTTP/1.1 999 Odd\tbut \xc3\xa9 fine", 999, 1,
         "Odd\tbut \xc3\xa9 fine"},
        {"HTTP/1.1 100 Continue", 0, 0, ""},
    };
    outcome *o = new_outcome();
    char r[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = snprintf(r, sizeof r, "%s\r\nContent-Length: 0\r\n\r\n",
                         cases[i].line);
        assert_true(n > 0 && (size_t)n < sizeof r);
        check_splits(r, 0, o);
        if (o->rc != n || o->status != cases[i].status ||
            o->minor != cases[i].minor ||
            strcmp(o->reason, cases[i].reason) != 0)
            fail_msg("case %zu: rc %zd status %d minor %d reason '%s'", i,
                     o->rc, o->status, o->minor, o->reason);
    }
    free(o);
}

static void test_reason_truncated(void **state)
{
    char r[512];
    char want[64];
    outcome *o = new_outcome();
    int n;

    (void)state;
    memset(want, 'r', 63);
    want[63] = '\0';
    n = snprintf(r, sizeof r, "HTTP/1.1 200 %s%s\r\nContent-Length: 0\r\n"
                 "\r\n", want, "and more that does not fit");
    assert_true(n > 0 && (size_t)n < sizeof r);
    check_splits(r, 0, o);
    assert_int_equal(o->rc, n);
    assert_string_equal(o->reason, want);
    free(o);
}

static void test_header_values(void **state)
{
    static const char r[] =
        "HTTP/1.1 200 OK\r\n"
        "A:b\r\n"
        "Empty:\r\n"
        "Spaces: \t  \r\n"
        "X-Tab:\t in\tside \t\r\n"
        "content-LENGTH: 1, 1\r\n"
        "Content-Length: 01\r\n"
        "Odd!#$%&'*+-.^_`|~9: v:w\r\n"
        "Utf8: \xc3\xa9\r\n"
        "\r\nz";
    outcome *o = new_outcome();

    (void)state;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, (ssize_t)strlen(r));
    assert_int_equal(o->content_length, 1);
    assert_headers(o, "A=b\nEmpty=\nSpaces=\nX-Tab=in\tside\n"
                      "content-LENGTH=1, 1\nContent-Length=01\n"
                      "Odd!#$%&'*+-.^_`|~9=v:w\nUtf8=\xc3\xa9\n");
    assert_body(o, "z");
    free(o);
}

/* ---- malformed -------------------------------------------------------- */

#define S(lit) {lit, sizeof lit - 1}

static void test_malformed(void **state)
{
    static const struct {
        const char *r;
        size_t len;
    } bad[] = {
        /* status line */
        S("HTTP/2 200 OK\r\n\r\n"),
        S("HTTP/2.0 200 OK\r\n\r\n"),
        S("HTTP/1.1\r\n\r\n"),
        S("http/1.1 200 OK\r\n\r\n"),
        S("garbage\r\n\r\n"),
        S("\r\nHTTP/1.1 200 OK\r\n\r\n"),
        S("HTTP/1.1 20 OK\r\n\r\n"),
        S("HTTP/1.1 20\r\n\r\n"),
        S("HTTP/1.1 2000 OK\r\n\r\n"),
        S("HTTP/1.1 2x0 OK\r\n\r\n"),
        S("HTTP/1.1  200 OK\r\n\r\n"),
        S("HTTP/1.1 099 Low\r\n\r\n"),
        S("HTTP/1.x 200 OK\r\n\r\n"),
        S("HTTP/1.1 200 O\x01K\r\n\r\n"),
        S("HTTP/1.1 200 O\rK\r\n\r\n"),
        S("HTTP/1.1 200 OK\x00\r\n\r\n"),
        /* header lines */
        S("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nName : x\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\n Lead: x\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA: b\r\n\tfolded\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA: b\x00" "c\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nA\x80: b\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\n\r\r\n"),
        /* interim responses are checked too */
        S("HTTP/1.1 100 Continue\r\nBad Name: x\r\n\r\n"
          "HTTP/1.1 200 OK\r\n\r\n"),
        S("HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200 OK\r\n\r\n"),
        /* Content-Length */
        S("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: x\r\n\r\n"),
        S("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"),
        /* Transfer-Encoding */
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n"),
        /* chunk sizes and framing */
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "8000000000000000\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "fffffffffffffffff\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "100000000000000000\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabcX\r\n0\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\rX\r\n0\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\r\n0\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\nbad trailer\r\n\r\n"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\n folded: trailer\r\n\r\n"),
    };
    outcome *o = new_outcome();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        check_splits_n(bad[i].r, bad[i].len, 0, o);
        if (o->rc != -1)
            fail_msg("malformed case %zu accepted: rc %zd", i, o->rc);
    }
    free(o);
}

/* ---- limits ----------------------------------------------------------- */

/* A response whose one header line is exactly len bytes with its CRLF. */
static char *long_header_response(size_t len, size_t *total)
{
    static const char head[] = "HTTP/1.1 200 OK\r\n";
    static const char tail[] = "Content-Length: 0\r\n\r\n";
    size_t n = strlen(head) + len + strlen(tail);
    char *r = malloc(n + 1);

    assert_non_null(r);
    memcpy(r, head, strlen(head));
    memcpy(r + strlen(head), "X: ", 3);
    memset(r + strlen(head) + 3, 'v', len - 5);
    memcpy(r + strlen(head) + len - 2, "\r\n", 2);
    memcpy(r + strlen(head) + len, tail, strlen(tail) + 1);
    *total = n;
    return r;
}

static void test_line_limit(void **state)
{
    outcome *o = new_outcome();
    size_t total;
    char *r;

    (void)state;
    r = long_header_response(H1P_MAX_LINE, &total);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, (ssize_t)total);
    assert_int_equal(o->done, 1);
    free(r);
    r = long_header_response(H1P_MAX_LINE + 1, &total);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, -1);
    free(r);
    /* An endless line fails before its end. */
    r = malloc(3 * H1P_MAX_LINE);
    assert_non_null(r);
    memcpy(r, "HTTP/1.1 200 ", 13);
    memset(r + 13, 'x', 3 * H1P_MAX_LINE - 13);
    check_splits_n(r, 3 * H1P_MAX_LINE, 0, o);
    assert_int_equal(o->rc, -1);
    free(r);
    free(o);
}

static void test_chunk_line_limit(void **state)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n1;";
    size_t n = strlen(head) + H1P_MAX_LINE + 16;
    char *r = malloc(n);
    outcome *o = new_outcome();

    (void)state;
    assert_non_null(r);
    memcpy(r, head, strlen(head));
    memset(r + strlen(head), 'e', n - strlen(head));
    memcpy(r + n - 5, "\r\nx\r\n", 5);
    check_splits_n(r, n, 0, o);
    assert_int_equal(o->rc, -1);
    free(r);
    free(o);
}

/* Header blocks (and trailer blocks) up to H1P_MAX_HEAD bytes. */
static char *many_headers(const char *start, size_t block, size_t *total)
{
    size_t slen = strlen(start), pos = slen, i = 0;
    char *r = malloc(slen + block + 1);

    assert_non_null(r);
    memcpy(r, start, slen);
    /* Lines of 1000 bytes and one of whatever is left, then CRLF. */
    while (pos - slen + 2 < block) {
        size_t left = block - (pos - slen) - 2;
        size_t len = left >= 1000 + 10 ? 1000 : left;
        int n = snprintf(r + pos, 16, "H%zu:", i++);
        assert_true(n > 0 && (size_t)n + 2 <= len);
        memset(r + pos + n, 'v', len - (size_t)n - 2);
        memcpy(r + pos + len - 2, "\r\n", 2);
        pos += len;
    }
    memcpy(r + pos, "\r\n", 3);
    *total = pos + 2;
    return r;
}

static void test_head_limit(void **state)
{
    static const char status[] = "HTTP/1.1 200 OK\r\n";
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                  "chunked\r\n\r\n0\r\n";
    outcome *o = new_outcome();
    size_t total;
    char *r;

    (void)state;
    /* The status line counts towards the header block. */
    r = many_headers(status, H1P_MAX_HEAD - strlen(status), &total);
    assert_int_equal(total, H1P_MAX_HEAD);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, (ssize_t)total);
    assert_int_equal(o->eof, 1);
    free(r);
    r = many_headers(status, H1P_MAX_HEAD - strlen(status) + 1, &total);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, -1);
    free(r);
    /* Trailers have a block of their own. */
    r = many_headers(chunked, H1P_MAX_HEAD, &total);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, (ssize_t)total);
    assert_int_equal(o->done, 1);
    free(r);
    r = many_headers(chunked, H1P_MAX_HEAD + 1, &total);
    check_splits_n(r, total, 0, o);
    assert_int_equal(o->rc, -1);
    free(r);
    free(o);
}

/* ---- callbacks -------------------------------------------------------- */

static void test_callback_abort(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n"
                            "Content-Length: 2\r\n\r\nhi";
    outcome *o = new_outcome();
    h1_parser p;
    sink s;

    (void)state;
    o->s.abort_at_header = 2;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, -1);
    assert_headers(o, "A=1\n");
    o->s.abort_at_header = 0;
    o->s.abort_body = 1;
    check_splits(r, 0, o);
    assert_int_equal(o->rc, -1);
    assert_int_equal(o->body_bytes, 0);
    /* A trailer callback may abort too. */
    o->s.abort_body = 0;
    o->s.abort_at_header = 2;
    check_splits(chunked_resp, 0, o);
    assert_int_equal(o->rc, -1);
    /* After an abort every feed fails. */
    memset(&s, 0, sizeof s);
    s.abort_body = 1;
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, r, strlen(r), &sink_cb, &s), -1);
    assert_int_equal(h1_feed(&p, "x", 1, &sink_cb, &s), -1);
    assert_int_equal(h1_eof(&p), 0);
    assert_null(p.line);
    h1_reset(&p);
    free(o);
}

/* No callbacks at all: the results are still filled in. */
static void test_no_callbacks(void **state)
{
    static const h1_callbacks none = {NULL, NULL};
    h1_parser p;

    (void)state;
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, chunked_resp, strlen(chunked_resp), &none,
                             NULL),
                     (ssize_t)strlen(chunked_resp));
    assert_int_equal(p.done, 1);
    assert_int_equal(p.body_bytes, 22);
    h1_reset(&p);
    assert_int_equal(h1_feed(&p, chunked_resp, strlen(chunked_resp), NULL,
                             NULL),
                     (ssize_t)strlen(chunked_resp));
    assert_int_equal(p.body_bytes, 22);
    h1_reset(&p);
}

/* ---- state, memory ---------------------------------------------------- */

static void test_started(void **state)
{
    h1_parser p;

    (void)state;
    h1_init(&p, 0);
    assert_int_equal(h1_started(&p), 0);
    assert_int_equal(h1_eof(&p), 0);
    assert_int_equal(h1_feed(&p, "", 0, NULL, NULL), 0);
    assert_int_equal(h1_started(&p), 0);
    assert_int_equal(h1_feed(&p, "H", 1, NULL, NULL), 1);
    assert_int_equal(h1_started(&p), 1);
    assert_int_equal(h1_eof(&p), 0);
    h1_reset(&p);
    assert_int_equal(h1_started(&p), 0);
    /* Also after an interim response and after a malformed start. */
    assert_int_equal(h1_feed(&p, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL,
                             NULL),
                     25);
    assert_int_equal(p.status, 0);
    assert_int_equal(h1_started(&p), 1);
    h1_reset(&p);
    assert_int_equal(h1_feed(&p, "x\n", 2, NULL, NULL), -1);
    assert_int_equal(h1_started(&p), 1);
    h1_reset(&p);
}

/* The line buffer exists only while a line spans feeds. */
static void test_line_buffer(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    h1_parser p;

    (void)state;
    assert_true(sizeof p - sizeof p.reason < 200);
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, r, 20, NULL, NULL), 20);
    assert_non_null(p.line);
    assert_int_equal(p.status, 200);
    assert_int_equal(h1_feed(&p, r + 20, strlen(r) - 20, NULL, NULL),
                     (ssize_t)strlen(r) - 20);
    assert_int_equal(p.done, 1);
    assert_null(p.line);
    h1_reset(&p);
    /* Whole lines never allocate. */
    assert_int_equal(h1_feed(&p, r, 17, NULL, NULL), 17);
    assert_null(p.line);
    /* Discarding a parser in the middle of a line frees the buffer (ASan
     * would report the leak). */
    assert_int_equal(h1_feed(&p, r + 17, 3, NULL, NULL), 3);
    assert_non_null(p.line);
    h1_reset(&p);
    assert_null(p.line);
    /* So does a malformed line. */
    assert_int_equal(h1_feed(&p, "HTTP/1.1 2", 10, NULL, NULL), 10);
    assert_non_null(p.line);
    assert_int_equal(h1_feed(&p, "x0 OK\r\n", 7, NULL, NULL), -1);
    assert_null(p.line);
    h1_reset(&p);
}

/* h1_reset keeps no_body and makes the parser ready for a new response. */
static void test_reset_reuse(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
    h1_parser p;

    (void)state;
    h1_init(&p, 1);
    assert_int_equal(h1_feed(&p, r, strlen(r), NULL, NULL),
                     (ssize_t)strlen(r));
    assert_int_equal(p.done, 1);
    h1_reset(&p);
    assert_int_equal(p.done, 0);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.content_length, -1);
    assert_int_equal(h1_feed(&p, r, strlen(r), NULL, NULL),
                     (ssize_t)strlen(r));
    assert_int_equal(p.done, 1);
    assert_int_equal(p.body_bytes, 0);
    h1_reset(&p);
}

/* A large Content-Length body in many feeds. */
static void test_large_body(void **state)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: "
                               "10000000\r\n\r\n";
    char buf[4096];
    h1_parser p;
    int64_t fed = 0;

    (void)state;
    memset(buf, 'b', sizeof buf);
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, head, strlen(head), NULL, NULL),
                     (ssize_t)strlen(head));
    while (!p.done) {
        ssize_t n = h1_feed(&p, buf, sizeof buf, NULL, NULL);
        assert_true(n > 0);
        fed += n;
    }
    assert_int_equal(fed, 10000000);
    assert_int_equal(p.body_bytes, 10000000);
    h1_reset(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_200),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_variants),
        cmocka_unit_test(test_transfer_encoding_not_chunked),
        cmocka_unit_test(test_http10_chunked),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_204_304),
        cmocka_unit_test(test_100_continue),
        cmocka_unit_test(test_interim_only),
        cmocka_unit_test(test_101),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_read_until_close),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_pipelined_leftover),
        cmocka_unit_test(test_status_line_forms),
        cmocka_unit_test(test_reason_truncated),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_chunk_line_limit),
        cmocka_unit_test(test_head_limit),
        cmocka_unit_test(test_callback_abort),
        cmocka_unit_test(test_no_callbacks),
        cmocka_unit_test(test_started),
        cmocka_unit_test(test_line_buffer),
        cmocka_unit_test(test_reset_reuse),
        cmocka_unit_test(test_large_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
