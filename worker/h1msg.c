/*
 * h1msg.c - the fast HTTP/1.1 client's messages: a transfer's URL, origin
 * (h1dns.c) and target, redirect targets (checked by url.c), its header
 * lines and the bytes of its request (cookies: h1cookie.c).
 */
#include "h1msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

/* x->target from the part of the URL after the authority. */
static int set_target(h1_xfer *x, const char *rest)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strcspn(rest, "#");
    int bad = 0;
    x->target.len = 0;
    if (rest[0] != '/') {
        bad |= buf_put(&x->target, "/", 1);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c > 0x20 && c < 0x7f) {
            bad |= buf_put(&x->target, rest + i, 1);
        } else { /* a space, a control or a non-ASCII byte: escaped, as requests does */
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            bad |= buf_put(&x->target, esc, 3);
        }
    }
    return bad ? -1 : 0;
}

/* Parse x->url into origin and target; a failure is kept for h1_start. */
static int aim(h1_xfer *x)
{
    const char *rest = NULL;
    h1_origin *o = h1_origin_of(x->h->dns, x->url.data, &rest, x->errtext, sizeof x->errtext);
    h1_origin_unref(x->origin);
    x->origin = o;
    if (!o) {
        x->result = H1_ERR_CONNECTION;
        return 0;
    }
    return set_target(x, rest);
}

/* The header lines of one list (NULL-terminated, or NULL) into x->hdrs:
 * a Host line replaces the client's own; Content-Length is the client's
 * to write; a line without a value is left out. Sets *accept when an
 * Accept line is among them. */
static int put_lines(h1_xfer *x, const char *const *lines, int *accept)
{
    int bad = 0;
    for (size_t i = 0; lines && lines[i]; i++) {
        const char *hd = lines[i];
        const char *colon = strchr(hd, ':');
        if (colon && colon[1 + strspn(colon + 1, " \t")] != '\0' &&
            strncasecmp(hd, "content-length:", 15) != 0) {
            *accept |= strncasecmp(hd, "accept:", 7) == 0;
            x->user_host |= strncasecmp(hd, "host:", 5) == 0;
            bad |= buf_puts(&x->hdrs, hd) | buf_put(&x->hdrs, "\r\n", 2);
        }
    }
    return bad;
}

/* The session's and the request's header lines, each ending in CRLF;
 * Accept: *\/\* unless the task sends an Accept. */
static int header_lines(h1_xfer *x, const char *const *sess, const char *const *own)
{
    int accept = 0;
    x->hdrs.len = 0;
    x->user_host = 0;
    int bad = put_lines(x, sess, &accept) | put_lines(x, own, &accept);
    if (!accept) {
        bad |= buf_puts(&x->hdrs, "Accept: */*\r\n");
    }
    return bad ? -1 : 0;
}

int h1_msg_set(h1_xfer *x, const char *url, const char *const *session_headers,
               const char *const *headers)
{
    x->result = H1_OK;
    x->errtext[0] = '\0';
    x->redirects = 0;
    x->url.len = 0;
    free(x->url_msg);
    x->url_msg = NULL;
    if (buf_puts(&x->url, url) != 0 || header_lines(x, session_headers, headers) != 0) {
        return -1;
    }
    return aim(x);
}

void h1_drop_headers(h1_xfer *x, const char *const *names)
{
    size_t out = 0;
    for (size_t at = 0; at < x->hdrs.len;) {
        const char *line = x->hdrs.data + at;
        const char *eol = memchr(line, '\n', x->hdrs.len - at);
        size_t n = eol ? (size_t)(eol - line) + 1 : x->hdrs.len - at;
        int drop = 0;
        for (size_t i = 0; names[i] && !drop; i++) {
            drop = strncasecmp(line, names[i], strlen(names[i])) == 0;
        }
        if (!drop) {
            memmove(x->hdrs.data + out, line, n);
            out += n;
        }
        at += n;
    }
    x->hdrs.len = out;
    if (x->hdrs.data) {
        x->hdrs.data[out] = '\0';
    }
}

int h1_retarget(h1_xfer *x, const char *loc)
{
    buf old = x->url;
    x->url = (buf){0};
    int bad = 0;
    size_t scheme =
        strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (scheme > 0 && loc[scheme] == ':') {
        bad = buf_puts(&x->url, loc); /* absolute: http(s) or unsupported, checked below */
    } else {
        const char *a = old.data + 7;
        size_t auth_end = 7 + strcspn(a, "/?#");
        size_t path_end = auth_end + strcspn(old.data + auth_end, "?#");
        if (loc[0] == '?' || loc[0] == '#' || loc[0] == '\0') {
            size_t keep = loc[0] == '?' ? path_end : path_end + strcspn(old.data + path_end, "#");
            bad = buf_put(&x->url, old.data, keep) | buf_puts(&x->url, loc);
        } else if (loc[0] == '/' && loc[1] == '/') {
            bad = buf_put(&x->url, "http:", 5) | buf_puts(&x->url, loc);
        } else if (loc[0] == '/') {
            bad = buf_put(&x->url, old.data, auth_end) | buf_puts(&x->url, loc);
        } else {
            size_t keep = path_end;
            while (keep > auth_end && old.data[keep - 1] != '/') {
                keep--;
            }
            bad = buf_put(&x->url, old.data, keep > auth_end ? keep : auth_end);
            if (keep <= auth_end) {
                bad |= buf_put(&x->url, "/", 1);
            }
            bad |= buf_puts(&x->url, loc);
        }
    }
    free(old.data);
    if (bad) {
        return -1;
    }
    free(x->url_msg);
    x->url_msg = NULL;
    if (url_check(x->url.data, &x->url_kind, &x->url_msg) != 0) {
        snprintf(x->errtext, sizeof x->errtext, "%s", x->url_msg ? x->url_msg : "out of memory");
        x->result = H1_ERR_URL;
        return 0;
    }
    if (!url_simple_http(x->url.data)) {
        snprintf(x->errtext, sizeof x->errtext,
                 "Redirect to a URL the fast HTTP client does not support: %.150s", x->url.data);
        x->result = H1_ERR_CONNECTION;
        return 0;
    }
    return aim(x);
}

int h1_build(buf *b, const h1_xfer *x)
{
    const h1_origin *o = x->origin;
    b->len = 0;
    int bad =
        buf_puts(b, x->method) | buf_put(b, " ", 1) | buf_put(b, x->target.data, x->target.len) |
        buf_puts(b, " HTTP/1.1\r\n") |
        (x->user_host ? 0
                      : buf_puts(b, "Host: ") | buf_puts(b, o->authority) | buf_put(b, "\r\n", 2)) |
        buf_put(b, x->hdrs.data, x->hdrs.len) |
        h1_cookies_put(b, &x->s->jar, o->host, x->target.data, o->tls);
    if (x->has_body) {
        char cl[40];
        int n = snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", x->body_len);
        bad |= buf_put(b, cl, (size_t)n);
    }
    bad |= buf_put(b, "\r\n", 2);
    if (x->has_body) {
        bad |= buf_put(b, x->body, x->body_len);
    }
    return bad ? -1 : 0;
}
