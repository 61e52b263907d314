/*
 * h1parse.c - incremental HTTP/1.1 response parser (see h1parse.h).
 *
 * A state machine driven one step at a time: each step either consumes at
 * least one byte or completes the response, so h1_feed() is a plain loop
 * with no recursion. Line-oriented states (status line, headers, chunk
 * sizes, trailers) take a whole line from next_line(), which points into
 * the caller's bytes when the line is complete in them and otherwise
 * gathers it in p->line. Body states pass the caller's bytes straight to
 * on_body.
 */
#include "h1parse.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum {
    ST_STATUS,     /* status line */
    ST_HEADER,     /* header lines up to the empty line */
    ST_BODY_LEN,   /* Content-Length body: remaining bytes */
    ST_BODY_CLOSE, /* body delimited by the connection closing */
    ST_CHUNK_SIZE, /* chunk-size line */
    ST_CHUNK_DATA, /* chunk data: remaining bytes */
    ST_CHUNK_CR,   /* CR (or LF) after chunk data */
    ST_CHUNK_LF,   /* LF after chunk data and CR */
    ST_TRAILER,    /* trailer lines up to the empty line */
    ST_DONE,
    ST_ERROR
};

enum {
    F_CONN_CLOSE = 1, /* Connection: close */
    F_CONN_KEEP = 2,  /* Connection: keep-alive */
    F_TE = 4,         /* a Transfer-Encoding header was seen */
    F_INTERIM = 8     /* this head is a 1xx to skip */
};

#define LINE_MIN_CAP 256

/* ---- characters and small parsers ------------------------------------ */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_tchar(unsigned char c)
{
    if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* HTAB, SP, visible ASCII and obs-text: what a value or reason may hold. */
static int is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int all_text(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_text((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ows((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*s)[*n - 1]))
        (*n)--;
}

/* Case-insensitive match of s[0..n) against a lowercase literal. */
static int equals_lower(const char *s, size_t n, const char *lit)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (lit[i] == '\0' || c != (unsigned char)lit[i])
            return 0;
    }
    return lit[n] == '\0';
}

/* The next element of a comma-separated list, trimmed, starting at *pos;
 * moves *pos past its comma (beyond n after the last element). */
static void list_item(const char *s, size_t n, size_t *pos, const char **item, size_t *ilen)
{
    const char *comma = memchr(s + *pos, ',', n - *pos);
    size_t end = comma != NULL ? (size_t)(comma - s) : n;

    *item = s + *pos;
    *ilen = end - *pos;
    trim(item, ilen);
    *pos = end + 1;
}

/* Decimal digits only, up to INT64_MAX. */
static int parse_decimal(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* chunk-size [ BWS ";" chunk-ext ]: hex digits up to INT64_MAX. */
static int parse_chunk_size(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i;
    int d;

    for (i = 0; i < n && (d = hex_value((unsigned char)s[i])) >= 0; i++) {
        if (v > (INT64_MAX >> 4))
            return -1;
        v = (v << 4) | d;
    }
    if (i == 0)
        return -1;
    while (i < n && is_ows(s[i]))
        i++;
    if (i < n && s[i] != ';')
        return -1;
    *out = v;
    return 0;
}

/* ---- state changes ---------------------------------------------------- */

static void free_line(h1_parser *p)
{
    free(p->line);
    p->line = NULL;
    p->line_len = 0;
    p->line_cap = 0;
}

static ssize_t fail(h1_parser *p)
{
    free_line(p);
    p->state = ST_ERROR;
    return -1;
}

static void finish(h1_parser *p)
{
    free_line(p);
    p->state = ST_DONE;
    p->done = 1;
}

/* Results and head state back to "no status line yet". */
static void clear_head(h1_parser *p)
{
    p->status = 0;
    p->minor = 0;
    p->reason[0] = '\0';
    p->content_length = -1;
    p->chunked = 0;
    p->keep_alive = 0;
    p->flags = 0;
    p->head_bytes = 0;
    p->state = ST_STATUS;
}

void h1_init(h1_parser *p, int no_body)
{
    memset(p, 0, sizeof *p);
    clear_head(p);
    p->no_body = no_body != 0;
}

void h1_reset(h1_parser *p)
{
    free_line(p);
    h1_init(p, p->no_body);
}

/* ---- lines ------------------------------------------------------------ */

static int line_append(h1_parser *p, const char *data, size_t n)
{
    size_t need = (size_t)p->line_len + n;
    size_t cap = p->line_cap;
    /* doubling from LINE_MIN_CAP never passes H1P_MAX_LINE, which need
       never exceeds (next_line) */
    char *grown = grow_array(p->line, &cap, need, 1, LINE_MIN_CAP);
    if (grown == NULL)
        return -1;
    p->line = grown;
    p->line_cap = (uint32_t)cap;
    memcpy(p->line + p->line_len, data, n);
    p->line_len = (uint32_t)need;
    return 0;
}

/* Takes bytes up to and including the next LF (their count in *used).
 * Returns 1 with the line (without the LF) in *line and *llen when it is
 * complete, 0 when all of data was gathered and the line goes on, -1 when
 * the line is too long or out of memory. */
static int next_line(h1_parser *p, const char *data, size_t len, size_t *used, const char **line,
                     size_t *llen)
{
    const char *nl = memchr(data, '\n', len);
    size_t take = nl != NULL ? (size_t)(nl - data) + 1 : len;

    *used = take;
    if (take > H1P_MAX_LINE - (size_t)p->line_len)
        return -1;
    if (p->line_len == 0 && nl != NULL) {
        *line = data;
        *llen = take - 1;
        return 1;
    }
    if (line_append(p, data, take) != 0)
        return -1;
    if (nl == NULL)
        return 0;
    *line = p->line;
    *llen = (size_t)p->line_len - 1;
    p->line_len = 0;
    return 1;
}

/* Counts a line (terminator included) against the block limit. */
static int count_head(h1_parser *p, size_t raw)
{
    if (raw > H1P_MAX_HEAD - (size_t)p->head_bytes)
        return -1;
    p->head_bytes += (uint32_t)raw;
    return 0;
}

/* ---- status line and headers ----------------------------------------- */

/* The reason phrase, s[0..n), truncated into p->reason. */
static int set_reason(h1_parser *p, const char *s, size_t n)
{
    if (!all_text(s, n))
        return -1;
    if (n > sizeof p->reason - 1)
        n = sizeof p->reason - 1;
    memcpy(p->reason, s, n);
    p->reason[n] = '\0';
    return 0;
}

/* "HTTP/1.<d> <ddd>[ <reason>]" */
static int parse_status(h1_parser *p, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(u[7]) || s[8] != ' ' ||
        !is_digit(u[9]) || !is_digit(u[10]) || !is_digit(u[11]) || (n > 12 && s[12] != ' '))
        return -1;
    p->minor = s[7] - '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status < 100)
        return -1;
    if (n > 13 && set_reason(p, s + 13, n - 13) != 0)
        return -1;
    if (p->status / 100 == 1 && p->status != 101)
        p->flags |= F_INTERIM;
    return 0;
}

static int content_length(h1_parser *p, const char *v, size_t n)
{
    size_t pos = 0;
    const char *item;
    size_t ilen;
    int64_t cl;

    while (pos <= n) {
        list_item(v, n, &pos, &item, &ilen);
        if (parse_decimal(item, ilen, &cl) != 0)
            return -1;
        if (p->content_length >= 0 && p->content_length != cl)
            return -1;
        p->content_length = cl;
    }
    return 0;
}

static int transfer_encoding(h1_parser *p, const char *v, size_t n)
{
    size_t pos = 0, ilen, last_len = 0;
    const char *item, *last = NULL;

    while (pos <= n) {
        list_item(v, n, &pos, &item, &ilen);
        if (ilen > 0) {
            last = item;
            last_len = ilen;
        }
    }
    if (last == NULL)
        return -1;
    p->flags |= F_TE;
    p->chunked = equals_lower(last, last_len, "chunked");
    return 0;
}

static void connection(h1_parser *p, const char *v, size_t n)
{
    size_t pos = 0, ilen;
    const char *item;

    while (pos <= n) {
        list_item(v, n, &pos, &item, &ilen);
        if (equals_lower(item, ilen, "close"))
            p->flags |= F_CONN_CLOSE;
        else if (equals_lower(item, ilen, "keep-alive"))
            p->flags |= F_CONN_KEEP;
    }
}

/* The headers that frame the response or decide keep-alive. */
static int interpret(h1_parser *p, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (equals_lower(name, nlen, "content-length"))
        return content_length(p, value, vlen);
    if (equals_lower(name, nlen, "transfer-encoding"))
        return transfer_encoding(p, value, vlen);
    if (equals_lower(name, nlen, "connection"))
        connection(p, value, vlen);
    return 0;
}

/* A header or trailer line "name: value". Headers of a final response are
 * interpreted; those of an interim one are only checked. */
static int field_line(h1_parser *p, const char *s, size_t n, const h1_callbacks *cb, void *ctx)
{
    const char *colon = memchr(s, ':', n);
    const char *value;
    size_t nlen, vlen, i;

    if (colon == NULL || colon == s)
        return -1;
    nlen = (size_t)(colon - s);
    for (i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)s[i]))
            return -1;
    value = colon + 1;
    vlen = n - nlen - 1;
    trim(&value, &vlen);
    if (!all_text(value, vlen))
        return -1;
    if (p->flags & F_INTERIM)
        return 0;
    if (p->state == ST_HEADER && interpret(p, s, nlen, value, vlen) != 0)
        return -1;
    if (cb != NULL && cb->on_header != NULL && cb->on_header(ctx, s, nlen, value, vlen) != 0)
        return -1;
    return 0;
}

static int keep_alive(const h1_parser *p)
{
    if (p->flags & F_CONN_CLOSE || p->status == 101)
        return 0;
    if (p->minor == 0)
        return (p->flags & F_CONN_KEEP) && !(p->flags & F_TE);
    return 1;
}

static int has_body(const h1_parser *p)
{
    return !p->no_body && p->status >= 200 && p->status != 204 && p->status != 304;
}

/* The empty line after the headers: choose how the body is framed. */
static void end_of_head(h1_parser *p)
{
    if (p->flags & F_INTERIM) {
        clear_head(p);
        return;
    }
    p->keep_alive = keep_alive(p);
    if (!has_body(p) || (!(p->flags & F_TE) && p->content_length == 0)) {
        finish(p);
    } else if (p->chunked) {
        p->state = ST_CHUNK_SIZE;
    } else if (!(p->flags & F_TE) && p->content_length > 0) {
        p->remaining = p->content_length;
        p->state = ST_BODY_LEN;
    } else {
        p->keep_alive = 0;
        p->state = ST_BODY_CLOSE;
    }
}

/* ---- steps ------------------------------------------------------------ */

static int on_line(h1_parser *p, const char *s, size_t n, const h1_callbacks *cb, void *ctx)
{
    int64_t size;
    size_t raw = n + 1;

    if (n > 0 && s[n - 1] == '\r')
        n--;
    switch (p->state) {
    case ST_STATUS:
        if (count_head(p, raw) != 0 || parse_status(p, s, n) != 0)
            return -1;
        p->state = ST_HEADER;
        return 0;
    case ST_HEADER:
    case ST_TRAILER:
        if (count_head(p, raw) != 0)
            return -1;
        if (n > 0)
            return field_line(p, s, n, cb, ctx);
        if (p->state == ST_HEADER)
            end_of_head(p);
        else
            finish(p);
        return 0;
    case ST_CHUNK_SIZE:
        if (parse_chunk_size(s, n, &size) != 0)
            return -1;
        p->remaining = size;
        p->head_bytes = 0;
        p->state = size > 0 ? ST_CHUNK_DATA : ST_TRAILER;
        return 0;
    default:
        return -1;
    }
}

static ssize_t step_line(h1_parser *p, const char *data, size_t len, const h1_callbacks *cb,
                         void *ctx)
{
    const char *line = NULL;
    size_t used, llen = 0;
    int rc = next_line(p, data, len, &used, &line, &llen);

    if (rc < 0)
        return -1;
    if (rc == 1 && on_line(p, line, llen, cb, ctx) != 0)
        return -1;
    return (ssize_t)used;
}

static ssize_t step_body(h1_parser *p, const char *data, size_t len, const h1_callbacks *cb,
                         void *ctx)
{
    size_t n = len;

    if (p->state != ST_BODY_CLOSE && (uint64_t)p->remaining < n)
        n = (size_t)p->remaining;
    if ((uint64_t)n > (uint64_t)(INT64_MAX - p->body_bytes))
        return -1;
    if (cb != NULL && cb->on_body != NULL && cb->on_body(ctx, data, n) != 0)
        return -1;
    p->body_bytes += (int64_t)n;
    if (p->state == ST_BODY_CLOSE)
        return (ssize_t)n;
    p->remaining -= (int64_t)n;
    if (p->remaining == 0) {
        if (p->state == ST_BODY_LEN)
            finish(p);
        else
            p->state = ST_CHUNK_CR;
    }
    return (ssize_t)n;
}

/* The CRLF (or bare LF) that ends chunk data. */
static ssize_t step_crlf(h1_parser *p, char c)
{
    if (p->state == ST_CHUNK_CR && c == '\r') {
        p->state = ST_CHUNK_LF;
        return 1;
    }
    if (c != '\n')
        return -1;
    p->state = ST_CHUNK_SIZE;
    return 1;
}

static ssize_t step(h1_parser *p, const char *data, size_t len, const h1_callbacks *cb, void *ctx)
{
    switch (p->state) {
    case ST_STATUS:
    case ST_HEADER:
    case ST_CHUNK_SIZE:
    case ST_TRAILER:
        return step_line(p, data, len, cb, ctx);
    case ST_BODY_LEN:
    case ST_BODY_CLOSE:
    case ST_CHUNK_DATA:
        return step_body(p, data, len, cb, ctx);
    case ST_CHUNK_CR:
    case ST_CHUNK_LF:
        return step_crlf(p, data[0]);
    default:
        return -1;
    }
}

/* ---- API -------------------------------------------------------------- */

ssize_t h1_feed(h1_parser *p, const char *data, size_t len, const h1_callbacks *cb, void *ctx)
{
    size_t pos = 0;

    if (p->state == ST_ERROR)
        return -1;
    if (p->state == ST_DONE || len == 0)
        return 0;
    if (data == NULL)
        return fail(p);
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    p->started = 1;
    while (pos < len && p->state != ST_DONE) {
        ssize_t n = step(p, data + pos, len - pos, cb, ctx);
        if (n < 0)
            return fail(p);
        pos += (size_t)n;
    }
    return (ssize_t)pos;
}

int h1_eof(h1_parser *p)
{
    if (p->state == ST_BODY_CLOSE) {
        p->keep_alive = 0;
        finish(p);
        return 1;
    }
    return p->state == ST_DONE;
}

int h1_started(const h1_parser *p)
{
    return p->started;
}
