/*
 * h1msg.c - the fast HTTP/1.1 client's messages: URLs (their origins:
 * h1dns.c), redirect targets and the bytes of a request (cookies:
 * h1cookie.c).
 */
#include "h1int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1url.h"
#include "procinfo.h"

int h1_buf_put(h1_buf *b, const char *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) {
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    if (len) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
    b->data[b->len] = '\0';
    return 0;
}

static int put_str(h1_buf *b, const char *s)
{
    return h1_buf_put(b, s, strlen(s));
}

size_t h1_scheme_len(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
}

int h1_supports(const char *url)
{
    size_t skip = h1_scheme_len(url);
    if (!skip) {
        return 0;
    }
    size_t n = strcspn(url + skip, "/?#");
    return n > 0 && !memchr(url + skip, '@', n);
}

/* x->target from the part of the URL after the authority. */
static int set_target(h1_xfer *x, const char *rest)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strcspn(rest, "#");
    int bad = 0;
    x->target.len = 0;
    if (rest[0] != '/') {
        bad |= h1_buf_put(&x->target, "/", 1);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c > 0x20 && c < 0x7f) {
            bad |= h1_buf_put(&x->target, rest + i, 1);
        } else {   /* a space, a control or a non-ASCII byte: escaped, as requests does */
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            bad |= h1_buf_put(&x->target, esc, 3);
        }
    }
    return bad ? -1 : 0;
}

/* Parse x->url into origin and target; a failure is kept for h1_start. */
static int aim(h1_xfer *x)
{
    const char *rest = NULL;
    h1_origin *o = h1_origin_of(x->h, x->url.data, &rest, x->errtext, sizeof x->errtext);
    h1_origin_unref(x->origin);
    x->origin = o;
    if (!o) {
        x->result = H1_ERR_CONNECTION;
        return 0;
    }
    return set_target(x, rest);
}

/* The session's and the request's header lines, each ending in CRLF. A
 * Host line replaces the client's own; Content-Length is the client's to
 * write; Accept: *\/\* unless the task sends an Accept. */
static int header_lines(h1_xfer *x, const char *const *sess, const char *const *own)
{
    int accept = 0, bad = 0;
    x->hdrs.len = 0;
    x->user_host = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *const *l = pass == 0 ? sess : own;
        for (size_t i = 0; l && l[i]; i++) {
            const char *hd = l[i];
            const char *colon = strchr(hd, ':');
            if (colon && colon[1 + strspn(colon + 1, " \t")] != '\0' &&
                strncasecmp(hd, "content-length:", 15) != 0) {
                accept |= strncasecmp(hd, "accept:", 7) == 0;
                x->user_host |= strncasecmp(hd, "host:", 5) == 0;
                bad |= put_str(&x->hdrs, hd) | h1_buf_put(&x->hdrs, "\r\n", 2);
            }
        }
    }
    if (!accept) {
        bad |= put_str(&x->hdrs, "Accept: */*\r\n");
    }
    return bad ? -1 : 0;
}

int h1_join_url(h1_buf *out, const char *base, const char *path)
{
    out->len = 0;
    int bad = 0;
    if (strncasecmp(path, "http://", 7) != 0 && strncasecmp(path, "https://", 8) != 0) {
        size_t bl = base ? strlen(base) : 0;
        if (bl == 0) {
            return -2;
        }
        if (base[bl - 1] == '/' && path[0] == '/') {
            bl--;   /* "http://x/" + "/a" */
        }
        bad |= h1_buf_put(out, base, bl);
    }
    bad |= put_str(out, path);
    return bad ? -1 : 0;
}

int h1_xfer_set(h1_engine *h, h1_xfer *x, const char *url,
                const char *const *session_headers,
                const char *const *headers)
{
    x->h = h;
    x->result = H1_OK;
    x->errtext[0] = '\0';
    x->redirects = 0;
    x->url.len = 0;
    free(x->url_msg);
    x->url_msg = NULL;
    if (put_str(&x->url, url) != 0 || header_lines(x, session_headers, headers) != 0) {
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
    h1_buf old = x->url;
    x->url = (h1_buf){0};
    int bad = 0;
    size_t scheme = strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (scheme > 0 && loc[scheme] == ':') {
        bad = put_str(&x->url, loc);   /* absolute: http(s) or unsupported, checked below */
    } else {
        const char *a = old.data + 7;
        size_t auth_end = 7 + strcspn(a, "/?#");
        size_t path_end = auth_end + strcspn(old.data + auth_end, "?#");
        if (loc[0] == '?' || loc[0] == '#' || loc[0] == '\0') {
            size_t keep = loc[0] == '?' ? path_end : path_end + strcspn(old.data + path_end, "#");
            bad = h1_buf_put(&x->url, old.data, keep) | put_str(&x->url, loc);
        } else if (loc[0] == '/' && loc[1] == '/') {
            bad = h1_buf_put(&x->url, "http:", 5) | put_str(&x->url, loc);
        } else if (loc[0] == '/') {
            bad = h1_buf_put(&x->url, old.data, auth_end) | put_str(&x->url, loc);
        } else {
            size_t keep = path_end;
            while (keep > auth_end && old.data[keep - 1] != '/') {
                keep--;
            }
            bad = h1_buf_put(&x->url, old.data, keep > auth_end ? keep : auth_end);
            if (keep <= auth_end) {
                bad |= h1_buf_put(&x->url, "/", 1);
            }
            bad |= put_str(&x->url, loc);
        }
    }
    free(old.data);
    if (bad) {
        return -1;
    }
    free(x->url_msg);
    x->url_msg = NULL;
    if (h1_url_check(x->url.data, &x->url_kind, &x->url_msg) != 0) {
        snprintf(x->errtext, sizeof x->errtext, "%s", x->url_msg ? x->url_msg : "out of memory");
        x->result = H1_ERR_URL;
        return 0;
    }
    if (!h1_supports(x->url.data)) {
        snprintf(x->errtext, sizeof x->errtext,
                 "Redirect to a URL the fast HTTP client does not support: %.150s", x->url.data);
        x->result = H1_ERR_CONNECTION;
        return 0;
    }
    return aim(x);
}

int h1_build(h1_engine *h, h1_xfer *x)
{
    h1_buf *b = &h->wbuf;
    const h1_origin *o = x->origin;
    b->len = 0;
    int bad = put_str(b, x->method) | h1_buf_put(b, " ", 1) |
              h1_buf_put(b, x->target.data, x->target.len) |
              put_str(b, " HTTP/1.1\r\n") |
              (x->user_host ? 0 : put_str(b, "Host: ") | put_str(b, o->authority) |
                                  h1_buf_put(b, "\r\n", 2)) |
              h1_buf_put(b, x->hdrs.data, x->hdrs.len) |
              h1_cookies_put(b, x->s, o->host, x->target.data, o->tls);
    if (x->has_body) {
        char cl[40];
        int n = snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", x->body_len);
        bad |= h1_buf_put(b, cl, (size_t)n);
    }
    bad |= h1_buf_put(b, "\r\n", 2);
    if (x->has_body) {
        bad |= h1_buf_put(b, x->body, x->body_len);
    }
    return bad ? -1 : 0;
}
