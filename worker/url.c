/*
 * url.c - the URL checks both HTTP clients share, after Python requests
 * and urllib3 (requests' prepare_url and get_adapter, urllib3's parse_url
 * and create_connection), with their exception texts, and the URL helpers
 * of the fast client (scheme, whether it takes a URL, base + path). See
 * url.h.
 */
#include "url.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error_key.h"

/* The strings of a NULL-terminated list joined, malloc'd. */
static char *join(const char *first, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        n += strlen(s);
    }
    va_end(ap);
    char *out = malloc(n + 1), *o = out;
    if (!out) {
        return NULL;
    }
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t l = strlen(s);
        memcpy(o, s, l);
        o += l;
    }
    va_end(ap);
    *o = '\0';
    return out;
}

/* Python's repr() of the first n bytes of s, malloc'd. */
static char *repr_n(const char *s, size_t n)
{
    char *copy = strndup(s, n);
    char *r = copy ? py_repr_str(copy) : NULL;
    free(copy);
    return r;
}

/* prefix + repr(s[0..n)) + suffix, malloc'd. */
static char *with_repr(const char *prefix, const char *s, size_t n, const char *suffix)
{
    char *r = repr_n(s, n);
    char *out = r ? join(prefix, r, suffix, (const char *)NULL) : NULL;
    free(r);
    return out;
}

static int fail(const char **kind, char **msg, const char *k, char *m)
{
    *kind = k;
    *msg = m;
    return -1;
}

/* urllib3's _HOST_INVALID_CHAR_RE: [\x00-\x20\x7f]. */
static const char *invalid_char(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f) {
            return s + i;
        }
    }
    return NULL;
}

static int bad_char(const char *s, size_t n, const char *c, const char **kind, char **msg)
{
    char *h = repr_n(s, n), *ch = repr_n(c, 1);
    char *m = h && ch ? join("Failed to parse: Host ", h, " contains invalid character ", ch,
                             (const char *)NULL)
                      : NULL;
    free(h);
    free(ch);
    return fail(kind, msg, "InvalidURL", m);
}

/* urllib3's reg-name: no [ ] : / ? #, and % only as %XX. */
static int reg_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr("[]:/?#\\", s[i])) {
            return 0;
        }
        if (s[i] == '%' && (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
                            !isxdigit((unsigned char)s[i + 2]))) {
            return 0;
        }
    }
    return 1;
}

/* Split host[:port] like urllib3's _HOST_PORT_RE. Returns 0 when it
 * matches; *port is -1 without a port, else its value (up to 99999). */
static int split(const char *hp, size_t n, size_t *hlen, long *port)
{
    size_t h;
    if (n > 0 && hp[0] == '[') {
        const char *end = memchr(hp, ']', n);
        if (!end || strspn(hp + 1, "0123456789abcdefABCDEF:.%") < (size_t)(end - hp - 1)) {
            return -1;
        }
        h = (size_t)(end - hp) + 1;
    } else {
        const char *colon = memchr(hp, ':', n);
        h = colon ? (size_t)(colon - hp) : n;
        if (!reg_name(hp, h)) {
            return -1;
        }
    }
    *hlen = h;
    *port = -1;
    if (h == n) {
        return 0;
    }
    if (hp[h] != ':') {
        return -1;
    }
    const char *p = hp + h + 1, *end = hp + n;
    while (p < end && *p == '0' && end - p > 1) {
        p++;
    }
    size_t digits = (size_t)(end - p);
    if (digits > 5 || strspn(p, "0123456789") < digits) {
        return -1;
    }
    *port = digits ? strtol(p, NULL, 10) : -1;
    return 0;
}

/* Python's "idna" codec on an ASCII name: every label 1..63 bytes (the
 * last may be empty: a trailing dot). */
static int labels_ok(const char *host, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || host[i] == '.') {
            size_t len = i - start;
            if (len >= 64 || (len == 0 && i != n)) {
                return 0;
            }
            start = i + 1;
        }
    }
    return 1;
}

static int check_host(const char *url, const char *hp, size_t n, const char **kind, char **msg)
{
    size_t hlen = 0;
    long port = -1;
    const char *c;
    if (split(hp, n, &hlen, &port) != 0) {
        if ((c = invalid_char(hp, n))) {
            return bad_char(hp, n, c, kind, msg);
        }
        return fail(kind, msg, "InvalidURL",
                    with_repr("Failed to parse: ", hp, n, " is not a valid host or port"));
    }
    if ((c = invalid_char(hp, hlen))) {
        return bad_char(hp, hlen, c, kind, msg);
    }
    if (port > 65535) {
        return fail(kind, msg, "InvalidURL", join("Failed to parse: ", url, (const char *)NULL));
    }
    if (hlen == 0) {
        return fail(kind, msg, "InvalidURL",
                    with_repr("Invalid URL ", url, strlen(url), ": No host supplied"));
    }
    if (hp[0] != '[' && !labels_ok(hp, hlen)) {
        char *lower = strndup(hp, hlen);
        for (char *p = lower; p && *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        char *m = lower ? join("Failed to parse: '", lower, "', label empty or too long",
                               (const char *)NULL)
                        : NULL;
        free(lower);
        return fail(kind, msg, "LocationParseError", m);
    }
    return 0;
}

int url_check(const char *url, const char **kind, char **msg)
{
    size_t skip = url_scheme_len(url);
    if (skip == 0 && !strchr(url, ':')) {
        size_t n = strlen(url);
        char *r = repr_n(url, n);
        char *m = r ? join("Invalid URL ", r, ": No scheme supplied. Perhaps you meant https://",
                           url, "?", (const char *)NULL)
                    : NULL;
        free(r);
        return fail(kind, msg, "MissingSchema", m);
    }
    if (skip == 0) {
        return fail(kind, msg, "InvalidSchema",
                    with_repr("No connection adapters were found for ", url, strlen(url), ""));
    }
    const char *a = url + skip;
    size_t n = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        at = a[i] == '@' ? a + i : at;
    }
    const char *hp = at ? at + 1 : a;
    return check_host(url, hp, (size_t)(a + n - hp), kind, msg);
}

int url_escape(buf *out, const char *url)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *p = strstr(url, "://");
    size_t auth = p ? (size_t)(p + 3 - url) : 0;
    auth += strcspn(url + auth, "/?#");
    out->len = 0;
    int bad = buf_put(out, url, auth);
    for (const char *s = url + auth; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c > 0x20 && c < 0x7f) {
            bad |= buf_put(out, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            bad |= buf_put(out, esc, 3);
        }
    }
    return bad ? -1 : 0;
}

size_t url_scheme_len(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ? 7 : strncasecmp(url, "https://", 8) == 0 ? 8 : 0;
}

int url_simple_http(const char *url)
{
    size_t skip = url_scheme_len(url);
    if (!skip) {
        return 0;
    }
    size_t n = strcspn(url + skip, "/?#");
    return n > 0 && !memchr(url + skip, '@', n);
}

int url_join(buf *out, const char *base, const char *path)
{
    out->len = 0;
    int bad = 0;
    if (strncasecmp(path, "http://", 7) != 0 && strncasecmp(path, "https://", 8) != 0) {
        size_t bl = base ? strlen(base) : 0;
        if (bl == 0) {
            return -2;
        }
        if (base[bl - 1] == '/' && path[0] == '/') {
            bl--; /* "http://x/" + "/a" */
        }
        bad |= buf_put(out, base, bl);
    }
    bad |= buf_puts(out, path);
    return bad ? -1 : 0;
}
