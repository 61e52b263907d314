/*
 * test_h1parse.c - unit tests for worker/h1parse.c, the incremental
 * HTTP/1.1 response parser.
 *
 * The responses of the table, of the limit tests and of
 * test_callback_abort go through check_splits(): each is parsed in one
 * piece, then split at every byte offset, fed one byte at a time and (when
 * short) split at every pair of offsets, and all of these must give the
 * same result: bytes consumed (or -1), status, reason, framing fields,
 * keep_alive, the headers and body the callbacks saw, and what h1_eof()
 * says afterwards.
 *
 * Most cases are rows of one table, cases[]: a response and what parsing
 * it must give (bytes consumed, how it ends, status line, Content-Length,
 * chunked, keep_alive, and where given the reason, headers and body).
 * Each row runs as a cmocka test of its own, named after the row. The
 * rows cover Content-Length and chunked bodies (extensions, trailers, bare
 * LF), HEAD, 1xx/204/304, interim responses, keep-alive rules of HTTP/1.0
 * and 1.1, bodies delimited by close, truncation, pipelined bytes left
 * unconsumed, status line forms, header values and malformed responses.
 *
 * The tests after the table have shapes of their own: line and header
 * block limits, callback aborts, no callbacks, h1_started(), that the
 * line buffer exists only while a line spans feeds, reuse after
 * h1_reset(), a 10 MB body, an empty body delimited by close, and that
 * the bytes left after a response are the next one.
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
    char headers[8192]; /* "name=value\n" per header, as far as it fits */
    size_t hlen;
    char body[8192]; /* the start of the body */
    size_t blen;
    uint64_t hash; /* of all headers and body bytes, in order */
    int nheaders;
    int abort_at_header; /* abort on this header (1-based); 0: never */
    int abort_body;      /* abort on the first body bytes */
} sink;

/* Everything a run produces; two runs of the same bytes must match. */
typedef struct {
    ssize_t rc; /* total bytes consumed, or -1 */
    int done_before_eof;
    int eof; /* h1_eof() after the feeds; -1 if rc is -1 */
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

static int on_header(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen)
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
        return 0; /* long headers: keep the first ones */
    n = snprintf(s->headers + s->hlen, sizeof s->headers - s->hlen, "%.*s=%.*s\n", (int)nlen, name,
                 (int)vlen, value);
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
    hash_bytes(&s->hash, data, len); /* a stream: no marker */
    if (len > sizeof s->body - s->blen)
        len = sizeof s->body - s->blen; /* long bodies: keep the start */
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
static void run_cuts(const char *resp, size_t len, int no_body, const size_t *cuts, size_t ncuts,
                     outcome *o)
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
            fail_msg("consumed %zd of %zu bytes but not done", n, end - prev);
        o->rc += n;
        prev = end;
    }
    record(o, &p);
    h1_reset(&p);
    if (p.line != NULL || p.done || h1_started(&p))
        fail_msg("h1_reset left state behind");
}

static void same(const outcome *a, const outcome *b, const char *how, size_t i, size_t j)
{
    if (a->rc != b->rc || a->done_before_eof != b->done_before_eof || a->eof != b->eof ||
        a->status != b->status || a->minor != b->minor || a->chunked != b->chunked ||
        a->keep_alive != b->keep_alive || a->done != b->done || a->started != b->started ||
        a->content_length != b->content_length || a->body_bytes != b->body_bytes ||
        strcmp(a->reason, b->reason) != 0 || a->s.nheaders != b->s.nheaders ||
        a->s.hash != b->s.hash || a->s.hlen != b->s.hlen ||
        memcmp(a->s.headers, b->s.headers, a->s.hlen) != 0 || a->s.blen != b->s.blen ||
        memcmp(a->s.body, b->s.body, a->s.blen) != 0)
        fail_msg("%s at %zu/%zu: rc %zd vs %zd, status %d vs %d, body %lld "
                 "vs %lld, done %d vs %d, eof %d vs %d, ka %d vs %d",
                 how, i, j, a->rc, b->rc, a->status, b->status, (long long)a->body_bytes,
                 (long long)b->body_bytes, a->done, b->done, a->eof, b->eof, a->keep_alive,
                 b->keep_alive);
}

/* Parses resp in one piece into ref, and checks that every way of
 * splitting it gives the same outcome. ref->s holds the abort settings. */
static void check_splits_n(const char *resp, size_t len, int no_body, outcome *ref)
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

/* ---- the table -------------------------------------------------------- */

/* How the bytes of a case end. */
enum ending {
    COMPLETE,  /* a whole response, known before the connection closes */
    AT_CLOSE,  /* the body is delimited by close: complete at h1_eof() */
    TRUNCATED, /* incomplete, also for h1_eof() */
    REJECTED   /* h1_feed() fails */
};

/* A response and what parsing it must give. For a REJECTED one only that
 * is checked. For the others: the bytes consumed, the ending, status,
 * minor, content_length and chunked always; keep_alive unless TRUNCATED;
 * reason, headers and body unless NULL. */
typedef struct {
    const char *name;
    const char *resp;
    size_t len;  /* of resp, which may hold NUL bytes */
    int no_body; /* the response to a HEAD request */
    enum ending end;
    size_t left; /* bytes after the response, not consumed */
    int status, minor;
    const char *reason;
    int64_t content_length; /* -1: none */
    int chunked, keep_alive;
    const char *headers; /* "name=value\n" each, as the sink keeps them */
    const char *body;
} parse_case;

#define LEN(lit) (sizeof lit - 1)
#define S(lit) lit, LEN(lit)

#define OK_LINE "HTTP/1.1 200 OK\r\n"
#define CHUNKED_HEAD OK_LINE "Transfer-Encoding: chunked\r\n\r\n"

static const char chunked_resp[] = "HTTP/1.1 200 OK\r\n"
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

/* head (a status line and headers), then a one-byte body. */
#define KEEP_ALIVE(name, head, http_minor, ka)                                                     \
    {                                                                                              \
        "keep-alive: " name, S(head "Content-Length: 1\r\n\r\nx"),                                 \
            .status = 200, .minor = http_minor, .content_length = 1, .keep_alive = ka, .body = "x" \
    }

/* A status line, then an empty body. */
#define STATUS_LINE(line, code, http_minor, why, ka)                                 \
    {                                                                                \
        "status line: " line, S(line "\r\nContent-Length: 0\r\n\r\n"),               \
            .status = code, .minor = http_minor, .reason = why, .content_length = 0, \
            .keep_alive = ka, .body = ""                                             \
    }

#define MALFORMED(name, lit)                        \
    {                                               \
        "malformed: " name, S(lit), .end = REJECTED \
    }

/* 63 bytes: what fits in h1_parser.reason */
#define LONG_REASON "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
_Static_assert(sizeof LONG_REASON == sizeof((h1_parser *)0)->reason,
               "LONG_REASON fills the reason buffer");

#define NEXT_404 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

#define INTERIM_THEN_201                                              \
    "HTTP/1.1 100 Continue\r\n\r\n"                                   \
    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n" \
    "Content-Length: 7\r\nConnection: close\r\n\r\n"                  \
    "HTTP/1.0 201 Created\r\nContent-Length: 2\r\n\r\nok"

static const parse_case cases[] = {
    /* ---- Content-Length ---- */
    {"Content-Length body", S(OK_LINE "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"),
     .status = 200, .minor = 1, .reason = "OK", .content_length = 5, .keep_alive = 1,
     .headers = "Content-Type=text/plain\nContent-Length=5\n", .body = "hello"},
    {"404 with a body",
     S("HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 12\r\n\r\n"
       "no such page"),
     .status = 404, .minor = 1, .reason = "Not Found", .content_length = 12, .keep_alive = 1,
     .headers = "Server=x\nContent-Length=12\n", .body = "no such page"},
    {"Content-Length: 0", S(OK_LINE "Content-Length: 0\r\n\r\n"), .status = 200, .minor = 1,
     .content_length = 0, .keep_alive = 1, .body = ""},
    {"bytes after the body are not consumed",
     S("HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 1\r\n\r\nxyz"), .left = LEN("yz"),
     .status = 301, .minor = 1, .reason = "Moved", .content_length = 1, .keep_alive = 1,
     .body = "x"},
    {"Content-Length with Connection: close",
     S(OK_LINE "Connection: close\r\nContent-Length: 3\r\n\r\nabc"), .status = 200, .minor = 1,
     .content_length = 3, .keep_alive = 0, .body = "abc"},

    /* ---- chunked ---- */
    {"chunked: extensions, leading zeros, trailers", S(chunked_resp), .status = 200, .minor = 1,
     .content_length = -1, .chunked = 1, .keep_alive = 1, .body = "hello world0123456789!",
     /* Trailers follow the headers, after the body. */
     .headers = "Transfer-Encoding=chunked\nX-Trailer=t1\nX-Other=t2\n"},
    {"chunked: bare LF, upper-case hex, chunked after gzip",
     S("HTTP/1.1 200 OK\nTransfer-Encoding: gzip, CHUNKED\n\n"
       "A\n0123456789\n0\n\nHTTP/1.1"),
     .left = LEN("HTTP/1.1"), .status = 200, .minor = 1, .content_length = -1, .chunked = 1,
     .keep_alive = 1, .body = "0123456789"},
    {"chunked wins over Content-Length",
     S(OK_LINE "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
               "2\r\nok\r\n0\r\n\r\n"),
     .status = 200, .minor = 1, .content_length = 100, .chunked = 1, .keep_alive = 1, .body = "ok"},
    {"chunked wins over Content-Length: 0",
     S(OK_LINE "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"
               "2\r\nok\r\n0\r\n\r\n"),
     .status = 200, .minor = 1, .content_length = 0, .chunked = 1, .keep_alive = 1, .body = "ok"},
    {"chunked: largest chunk size, then truncated", S(CHUNKED_HEAD "7fffffffffffffff\r\nabc"),
     .end = TRUNCATED, .status = 200, .minor = 1, .content_length = -1, .chunked = 1,
     .body = "abc"},
    /* A Transfer-Encoding whose last coding is not chunked: read until
     * close. */
    {"Transfer-Encoding not ending in chunked",
     S(OK_LINE "Transfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n"
               "\r\n3\r\nabc\r\n"),
     .end = AT_CLOSE, .status = 200, .minor = 1, .content_length = 2, .chunked = 0, .keep_alive = 0,
     .body = "3\r\nabc\r\n"},
    /* HTTP/1.0 with Transfer-Encoding: decoded, but the connection
     * closes. */
    {"chunked HTTP/1.0",
     S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
       "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
     .status = 200, .minor = 0, .content_length = -1, .chunked = 1, .keep_alive = 0, .body = "x"},

    /* ---- no body ---- */
    {"HEAD: Content-Length", S(OK_LINE "Content-Length: 10\r\n\r\n" OK_LINE), .no_body = 1,
     .left = LEN(OK_LINE), .status = 200, .minor = 1, .content_length = 10, .keep_alive = 1,
     .body = ""},
    {"HEAD: chunked", S(CHUNKED_HEAD), .no_body = 1, .status = 200, .minor = 1,
     .content_length = -1, .chunked = 1, .keep_alive = 1, .body = ""},
    /* The same bytes without no_body wait for the chunked body. */
    {"not HEAD: chunked head only", S(CHUNKED_HEAD), .end = TRUNCATED, .status = 200, .minor = 1,
     .content_length = -1, .chunked = 1, .body = ""},
    {"204 ignores Content-Length", S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
     .left = LEN("hello"), .status = 204, .minor = 1, .reason = "No Content", .content_length = 5,
     .keep_alive = 1, .body = ""},
    {"304 ignores Transfer-Encoding",
     S("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n"),
     .left = LEN("0\r\n\r\n"), .status = 304, .minor = 1, .content_length = -1, .chunked = 1,
     .keep_alive = 1, .body = ""},

    /* ---- interim responses ---- */
    /* Headers of interim responses are not passed on. */
    {"interim: 100 and 103 before the response", S(INTERIM_THEN_201), .status = 201, .minor = 0,
     .reason = "Created", .content_length = 2, .keep_alive = 0, .headers = "Content-Length=2\n",
     .body = "ok"},
    /* Interim responses to a HEAD request are skipped just the same. */
    {"interim: 100 and 103 before the response to HEAD", S(INTERIM_THEN_201), .no_body = 1,
     .left = LEN("ok"), .status = 201, .minor = 0, .reason = "Created", .content_length = 2,
     .keep_alive = 0, .headers = "Content-Length=2\n", .body = ""},
    /* An interim response alone is not a response. */
    {"interim: alone", S("HTTP/1.1 100 Continue\r\n\r\n"), .end = TRUNCATED, .status = 0,
     .minor = 0, .reason = "", .content_length = -1, .body = ""},
    /* 101 ends the HTTP exchange: complete, bytes after it left alone. */
    {"interim: 101 Switching Protocols",
     S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\n\r\n\x81\x05"),
     .left = LEN("\x81\x05"), .status = 101, .minor = 1, .reason = "Switching Protocols",
     .content_length = -1, .keep_alive = 0, .headers = "Upgrade=websocket\nConnection=Upgrade\n",
     .body = ""},

    /* ---- keep-alive ---- */
    KEEP_ALIVE("1.1", OK_LINE, 1, 1),
    KEEP_ALIVE("1.1 keep-alive", OK_LINE "Connection: keep-alive\r\n", 1, 1),
    KEEP_ALIVE("1.1 close", OK_LINE "Connection: close\r\n", 1, 0),
    KEEP_ALIVE("1.1 CLOSE in a list", OK_LINE "Connection: Upgrade, CLOSE\r\n", 1, 0),
    KEEP_ALIVE("1.1 close without space", OK_LINE "Connection:close \r\n", 1, 0),
    KEEP_ALIVE("1.1 closed", OK_LINE "Connection: closed\r\n", 1, 1),
    KEEP_ALIVE("1.1 keep-alive, then close",
               OK_LINE "Connection: keep-alive\r\nConnection: close\r\n", 1, 0),
    KEEP_ALIVE("1.0", "HTTP/1.0 200 OK\r\n", 0, 0),
    KEEP_ALIVE("1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", 0, 1),
    KEEP_ALIVE("1.0 Keep-Alive in a list", "HTTP/1.0 200 OK\r\nConnection: foo,\tKeep-Alive\r\n", 0,
               1),
    KEEP_ALIVE("1.0 keep-alive and close", "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n",
               0, 0),
    KEEP_ALIVE("1.0 keep-alives", "HTTP/1.0 200 OK\r\nConnection: keep-alives\r\n", 0, 0),
    {"keep-alive: 1.0 Keep-Alive, bare LF",
     S("HTTP/1.0 200 OK\nConnection: Keep-Alive\nContent-Length: 3\n\nabc"), .status = 200,
     .minor = 0, .reason = "OK", .content_length = 3, .keep_alive = 1, .body = "abc"},

    /* ---- end of connection ---- */
    {"body until close", S(OK_LINE "Connection: close\r\n\r\nuntil close"), .end = AT_CLOSE,
     .status = 200, .minor = 1, .content_length = -1, .keep_alive = 0, .body = "until close"},
    {"body until close, HTTP/1.0 keep-alive",
     S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
       "\r\nall of this\r\nis body"),
     .end = AT_CLOSE, .status = 200, .minor = 0, .content_length = -1, .keep_alive = 0,
     .body = "all of this\r\nis body"},
    {"truncated: 3 of 10 body bytes", S(OK_LINE "Content-Length: 10\r\n\r\nabc"), .end = TRUNCATED,
     .status = 200, .minor = 1, .content_length = 10, .body = "abc"},
    {"truncated: 5 of 9 body bytes", S(OK_LINE "Content-Length: 9\r\n\r\ntrunc"), .end = TRUNCATED,
     .status = 200, .minor = 1, .content_length = 9, .body = "trunc"},
    {"truncated: chunk data", S(CHUNKED_HEAD "5\r\nab"), .end = TRUNCATED, .status = 200,
     .minor = 1, .content_length = -1, .chunked = 1, .body = "ab"},
    {"truncated: before the CRLF after chunk data", S(CHUNKED_HEAD "2\r\nab"), .end = TRUNCATED,
     .status = 200, .minor = 1, .content_length = -1, .chunked = 1, .body = "ab"},
    {"truncated: after the last chunk", S(CHUNKED_HEAD "0\r\n"), .end = TRUNCATED, .status = 200,
     .minor = 1, .content_length = -1, .chunked = 1, .body = ""},
    {"truncated: in the trailers", S(CHUNKED_HEAD "0\r\nA: b\r\n"), .end = TRUNCATED, .status = 200,
     .minor = 1, .content_length = -1, .chunked = 1, .body = ""},
    {"truncated: in the headers", S(OK_LINE "Content-Length: 10\r\n"), .end = TRUNCATED,
     .status = 200, .minor = 1, .content_length = 10, .body = ""},
    {"truncated: after the status line", S(OK_LINE), .end = TRUNCATED, .status = 200, .minor = 1,
     .content_length = -1, .body = ""},
    {"truncated: in the status line", S("HTTP/1.1 200"), .end = TRUNCATED, .status = 0, .minor = 0,
     .content_length = -1, .body = ""},
    {"truncated: one byte", S("H"), .end = TRUNCATED, .status = 0, .minor = 0, .content_length = -1,
     .body = ""},

    /* ---- pipelining ---- */
    {"pipelined: after a Content-Length body", S(OK_LINE "Content-Length: 3\r\n\r\nabc" NEXT_404),
     .left = LEN(NEXT_404), .status = 200, .minor = 1, .content_length = 3, .keep_alive = 1,
     .body = "abc"},
    {"pipelined: after a chunked body", S(CHUNKED_HEAD "1\r\na\r\n0\r\n\r\n" OK_LINE),
     .left = LEN(OK_LINE), .status = 200, .minor = 1, .content_length = -1, .chunked = 1,
     .keep_alive = 1, .body = "a"},

    /* ---- status line and headers ---- */
    STATUS_LINE("HTTP/1.1 200 OK", 200, 1, "OK", 1),
    STATUS_LINE("HTTP/1.1 200", 200, 1, "", 1),
    STATUS_LINE("HTTP/1.1 200 ", 200, 1, "", 1),
    STATUS_LINE("HTTP/1.0 500 Internal Server Error", 500, 0, "Internal Server Error", 0),
    STATUS_LINE("HTTP/1.1 404  two  spaces ", 404, 1, " two  spaces ", 1),
    STATUS_LINE("HTTP/1.1 999 Odd\tbut \xc3\xa9 fine", 999, 1, "Odd\tbut \xc3\xa9 fine", 1),
    /* An interim response: no status yet. */
    {"status line: HTTP/1.1 100 Continue", S("HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n"),
     .end = TRUNCATED, .status = 0, .minor = 0, .reason = "", .content_length = -1, .body = ""},
    {"status line: reason truncated",
     S("HTTP/1.1 200 " LONG_REASON "and more that does not fit\r\n"
       "Content-Length: 0\r\n\r\n"),
     .status = 200, .minor = 1, .reason = LONG_REASON, .content_length = 0, .keep_alive = 1,
     .body = ""},
    {"header values",
     S(OK_LINE "A:b\r\n"
               "Empty:\r\n"
               "Spaces: \t  \r\n"
               "X-Tab:\t in\tside \t\r\n"
               "content-LENGTH: 1, 1\r\n"
               "Content-Length: 01\r\n"
               "Odd!#$%&'*+-.^_`|~9: v:w\r\n"
               "Utf8: \xc3\xa9\r\n"
               "\r\nz"),
     .status = 200, .minor = 1, .content_length = 1, .keep_alive = 1,
     .headers = "A=b\nEmpty=\nSpaces=\nX-Tab=in\tside\n"
                "content-LENGTH=1, 1\nContent-Length=01\n"
                "Odd!#$%&'*+-.^_`|~9=v:w\nUtf8=\xc3\xa9\n",
     .body = "z"},

    /* ---- malformed ---- */
    /* status line */
    MALFORMED("HTTP/2", "HTTP/2 200 OK\r\n\r\n"),
    MALFORMED("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n"),
    MALFORMED("no status", "HTTP/1.1\r\n\r\n"),
    MALFORMED("lower-case http", "http/1.1 200 OK\r\n\r\n"),
    MALFORMED("garbage", "garbage\r\n\r\n"),
    MALFORMED("empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n"),
    MALFORMED("two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
    MALFORMED("two-digit status alone", "HTTP/1.1 20\r\n\r\n"),
    MALFORMED("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n"),
    MALFORMED("letter in the status", "HTTP/1.1 2x0 OK\r\n\r\n"),
    MALFORMED("two spaces before the status", "HTTP/1.1  200 OK\r\n\r\n"),
    MALFORMED("status below 100", "HTTP/1.1 099 Low\r\n\r\n"),
    MALFORMED("minor version not a digit", "HTTP/1.x 200 OK\r\n\r\n"),
    MALFORMED("control byte in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n"),
    MALFORMED("CR in the reason", "HTTP/1.1 200 O\rK\r\n\r\n"),
    MALFORMED("NUL in the reason", "HTTP/1.1 200 OK\x00\r\n\r\n"),
    /* header lines */
    MALFORMED("no colon", OK_LINE "No colon\r\n\r\n"),
    MALFORMED("empty name", OK_LINE ": empty name\r\n\r\n"),
    MALFORMED("space in a name", OK_LINE "Bad Name: x\r\n\r\n"),
    MALFORMED("space before the colon", OK_LINE "Name : x\r\n\r\n"),
    MALFORMED("space before a name", OK_LINE " Lead: x\r\n\r\n"),
    MALFORMED("folded with SP after A: b", OK_LINE "A: b\r\n folded\r\n\r\n"),
    MALFORMED("folded with HTAB", OK_LINE "A: b\r\n\tfolded\r\n\r\n"),
    MALFORMED("folded with SP after X: a", OK_LINE "X: a\r\n folded\r\n\r\n"),
    MALFORMED("NUL in a value", OK_LINE "A: b\x00"
                                        "c\r\n\r\n"),
    MALFORMED("CR in a value", OK_LINE "A: b\rc\r\n\r\n"),
    MALFORMED("DEL in a value", OK_LINE "A: b\x7f\r\n\r\n"),
    MALFORMED("non-ASCII name", OK_LINE "A\x80: b\r\n\r\n"),
    MALFORMED("CR CR LF", OK_LINE "\r\r\n"),
    /* interim responses are checked too */
    MALFORMED("interim: bad header", "HTTP/1.1 100 Continue\r\nBad Name: x\r\n\r\n" OK_LINE "\r\n"),
    MALFORMED("interim: then HTTP/2", "HTTP/1.1 100 Continue\r\n\r\nHTTP/2 200 OK\r\n\r\n"),
    /* Content-Length */
    MALFORMED("Content-Length: abc", OK_LINE "Content-Length: abc\r\n\r\n"),
    MALFORMED("Content-Length: -1", OK_LINE "Content-Length: -1\r\n\r\n"),
    MALFORMED("Content-Length: +5", OK_LINE "Content-Length: +5\r\n\r\n"),
    MALFORMED("Content-Length empty", OK_LINE "Content-Length: \r\n\r\n"),
    MALFORMED("Content-Length: 1 2", OK_LINE "Content-Length: 1 2\r\n\r\n"),
    MALFORMED("Content-Length: 0x10", OK_LINE "Content-Length: 0x10\r\n\r\n"),
    MALFORMED("Content-Length: 5,", OK_LINE "Content-Length: 5,\r\n\r\n"),
    MALFORMED("Content-Length: 5, 6", OK_LINE "Content-Length: 5, 6\r\n\r\n"),
    MALFORMED("Content-Length: 2^63", OK_LINE "Content-Length: 9223372036854775808\r\n\r\n"),
    MALFORMED("Content-Length of 20 digits",
              OK_LINE "Content-Length: 99999999999999999999\r\n\r\n"),
    MALFORMED("Content-Length: 5 and 6", OK_LINE "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
    MALFORMED("Content-Length: 5 and x", OK_LINE "Content-Length: 5\r\nContent-Length: x\r\n\r\n"),
    MALFORMED("204 with Content-Length: x", "HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"),
    /* Transfer-Encoding */
    MALFORMED("Transfer-Encoding empty", OK_LINE "Transfer-Encoding: \r\n\r\n"),
    MALFORMED("Transfer-Encoding: ,", OK_LINE "Transfer-Encoding: ,\r\n\r\n"),
    /* chunk sizes and framing */
    MALFORMED("chunk size zz", CHUNKED_HEAD "zz\r\n"),
    MALFORMED("chunk size empty", CHUNKED_HEAD "\r\n"),
    MALFORMED("space before a chunk size", CHUNKED_HEAD " 5\r\n"),
    MALFORMED("chunk size 5x", CHUNKED_HEAD "5x\r\n"),
    MALFORMED("chunk size -1", CHUNKED_HEAD "-1\r\n"),
    MALFORMED("chunk size 0x5", CHUNKED_HEAD "0x5\r\n"),
    MALFORMED("chunk size 2^63", CHUNKED_HEAD "8000000000000000\r\n"),
    MALFORMED("chunk size of 17 hex digits", CHUNKED_HEAD "fffffffffffffffff\r\n"),
    MALFORMED("chunk size 2^68", CHUNKED_HEAD "100000000000000000\r\n"),
    MALFORMED("a stray byte instead of the CRLF after chunk data",
              CHUNKED_HEAD "3\r\nabcX0\r\n\r\n"),
    MALFORMED("no CRLF after chunk data", CHUNKED_HEAD "3\r\nabcX\r\n0\r\n\r\n"),
    MALFORMED("CR then X after chunk data", CHUNKED_HEAD "3\r\nabc\rX\r\n0\r\n\r\n"),
    MALFORMED("CR CR LF after chunk data", CHUNKED_HEAD "3\r\nabc\r\r\n0\r\n\r\n"),
    MALFORMED("trailer without a colon", CHUNKED_HEAD "0\r\nbad trailer\r\n\r\n"),
    MALFORMED("folded trailer", CHUNKED_HEAD "0\r\n folded: trailer\r\n\r\n"),
};

#define NCASES (sizeof cases / sizeof cases[0])

/* One row of cases[], the test's state. */
static void test_case(void **state)
{
    const parse_case *c = *state;
    outcome *o = new_outcome();

    check_splits_n(c->resp, c->len, c->no_body, o);
    assert_int_equal(o->started, 1);
    if (c->end == REJECTED) {
        assert_int_equal(o->rc, -1);
        free(o);
        return;
    }
    assert_int_equal(o->rc, (ssize_t)(c->len - c->left));
    assert_int_equal(o->done_before_eof, c->end == COMPLETE);
    assert_int_equal(o->eof, c->end != TRUNCATED);
    assert_int_equal(o->done, c->end != TRUNCATED);
    assert_int_equal(o->status, c->status);
    assert_int_equal(o->minor, c->minor);
    assert_int_equal(o->content_length, c->content_length);
    assert_int_equal(o->chunked, c->chunked);
    if (c->end != TRUNCATED)
        assert_int_equal(o->keep_alive, c->keep_alive);
    if (c->reason != NULL)
        assert_string_equal(o->reason, c->reason);
    if (c->headers != NULL)
        assert_headers(o, c->headers);
    if (c->body != NULL)
        assert_body(o, c->body);
    free(o);
}

/* ---- end of connection, pipelining ------------------------------------ */

/* An empty body delimited by close. */
static void test_empty_body_until_close(void **state)
{
    h1_parser p;

    (void)state;
    h1_init(&p, 0);
    assert_int_equal(h1_feed(&p, "HTTP/1.1 200 OK\r\n\r\n", 19, NULL, NULL), 19);
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
}

/* The bytes left after a response are the next response. */
static void test_pipelined_leftover(void **state)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                            "\r\n";
    const size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                "\r\nabc");
    h1_parser p;
    ssize_t n;

    (void)state;
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
    assert_int_equal(h1_feed(&p, chunked_resp, strlen(chunked_resp), &none, NULL),
                     (ssize_t)strlen(chunked_resp));
    assert_int_equal(p.done, 1);
    assert_int_equal(p.body_bytes, 22);
    h1_reset(&p);
    assert_int_equal(h1_feed(&p, chunked_resp, strlen(chunked_resp), NULL, NULL),
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
    assert_int_equal(h1_feed(&p, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, NULL), 25);
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
    assert_int_equal(h1_feed(&p, r + 20, strlen(r) - 20, NULL, NULL), (ssize_t)strlen(r) - 20);
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
    assert_int_equal(h1_feed(&p, r, strlen(r), NULL, NULL), (ssize_t)strlen(r));
    assert_int_equal(p.done, 1);
    h1_reset(&p);
    assert_int_equal(p.done, 0);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.content_length, -1);
    assert_int_equal(h1_feed(&p, r, strlen(r), NULL, NULL), (ssize_t)strlen(r));
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
    assert_int_equal(h1_feed(&p, head, strlen(head), NULL, NULL), (ssize_t)strlen(head));
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
    static const struct CMUnitTest others[] = {
        cmocka_unit_test(test_empty_body_until_close),
        cmocka_unit_test(test_pipelined_leftover),
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
    /* A test per row of cases[], named after it, then the others. */
    struct CMUnitTest tests[NCASES + sizeof others / sizeof others[0]];
    size_t i;

    for (i = 0; i < NCASES; i++) {
        tests[i] = (struct CMUnitTest){
            .name = cases[i].name, .test_func = test_case, .initial_state = (void *)&cases[i]};
    }
    memcpy(tests + NCASES, others, sizeof others);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
