/*
 * h1cookie.c - the fast client's cookie jar, one per session, scoped like
 * Python requests' jar (http.cookiejar) and bounded like a browser's:
 *
 *   - without Domain a cookie is host-only: sent back to that host only;
 *     Domain=example.com (set by example.com or a subdomain) is sent to
 *     example.com and its subdomains; a Domain the host is not inside, or
 *     one without an inner dot ("test", "localhost"), is refused.
 *     Ports do not count, as in requests and browsers;
 *   - Path (default: the directory of the request's path) limits the
 *     paths it goes to ("/admin" matches "/admin" and "/admin/x", not
 *     "/administrator"); longer paths first in the Cookie line;
 *   - Secure cookies go over https only, so never from this http client;
 *   - Max-Age (or Expires, read as http.cookiejar reads it: h1date.c) sets when
 *     it goes away; 0, a negative value or a past date deletes it; an
 *     Expires that is not a date is ignored;
 *   - a cookie is (name, domain, path): the same again replaces it in its
 *     place; the Cookie line lists longer paths first, else oldest first;
 *   - bounds: a name=value over H1_COOKIE_MAX_BYTES is ignored, at most
 *     H1_COOKIES_PER_DOMAIN per domain and H1_COOKIES_PER_SESSION in all
 *     (the oldest goes first).
 */
#include "h1cookie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "h1date.h"

/* The next attribute of "; a=1; b=2" at or after *p (before end): its
 * start, and its length without trailing blanks in *n. NULL: none left.
 * *p moves past it. */
static const char *next_attr(const char **p, const char *end, size_t *n)
{
    const char *a = *p;
    while (a < end && (*a == ';' || *a == ' ' || *a == '\t')) {
        a++;
    }
    const char *e = a;
    while (e < end && *e != ';') {
        e++;
    }
    *p = e;
    while (e > a && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    *n = (size_t)(e - a);
    return a < end ? a : NULL;
}

/* The value of attribute name (with its '=') in "; a=1; b=2", copied. */
static int cookie_attr(const char *attrs, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name), n;
    int found = 0;
    const char *a, *p = attrs, *end = attrs + len;
    while ((a = next_attr(&p, end, &n))) {
        if (n >= nl && strncasecmp(a, name, nl) == 0) {
            size_t vl = n - nl < outlen - 1 ? n - nl : outlen - 1;
            memcpy(out, a + nl, vl);
            out[vl] = '\0';
            found = 1; /* the last one wins, as in requests */
        }
    }
    return found;
}

/* A flag attribute ("Secure") among the attributes. */
static int cookie_flag(const char *attrs, size_t len, const char *name)
{
    size_t nl = strlen(name), n;
    const char *a, *p = attrs, *end = attrs + len;
    while ((a = next_attr(&p, end, &n))) {
        if (n == nl && strncasecmp(a, name, nl) == 0) {
            return 1;
        }
    }
    return 0;
}

/* When the cookie ends: 0 for a session cookie, -1 when it is already
 * gone (Max-Age <= 0, or without Max-Age an Expires in the past). */
static time_t cookie_end(const char *attrs, size_t len)
{
    char value[64];
    time_t now = time(NULL);
    if (cookie_attr(attrs, len, "max-age=", value, sizeof value)) {
        char *end;
        long long age = strtoll(value, &end, 10);
        if (end != value) {
            return age <= 0 ? -1 : now + (age > 400LL * 86400 ? 400LL * 86400 : age);
        }
    }
    if (cookie_attr(attrs, len, "expires=", value, sizeof value)) {
        time_t t = h1_cookie_date(value);
        if (t != -1) {
            return t <= now ? -1 : t;
        }
    }
    return 0;
}

/* Whether host is inside domain (equal, or a subdomain of it). An IP
 * address has no subdomains. */
static int domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (hl == dl) {
        return strcasecmp(host, domain) == 0;
    }
    if (hl < dl + 1 || host[hl - dl - 1] != '.' || strcasecmp(host + hl - dl, domain) != 0) {
        return 0;
    }
    return strspn(host, "0123456789.") != hl && !strchr(host, ':');
}

/* RFC 6265's path-match. */
static int path_match(const char *req, size_t rl, const char *cpath)
{
    size_t cl = strlen(cpath);
    if (rl < cl || strncmp(req, cpath, cl) != 0) {
        return 0;
    }
    return rl == cl || cpath[cl - 1] == '/' || req[cl] == '/';
}

#define COOKIE_OF(l) LIST_ITEM(l, h1_cookie, link)

static void unlink_free(h1_jar *jar, h1_cookie *c)
{
    list_remove(&jar->cookies, &c->link);
    jar->ncookies--;
    free(c);
}

/* The oldest cookie of a domain (or of all, domain NULL) goes: the jar
 * is kept oldest first. */
static void evict_oldest(h1_jar *jar, const char *domain)
{
    for (list_link *l = jar->cookies.first; l; l = l->next) {
        if (!domain || strcasecmp(COOKIE_OF(l)->domain, domain) == 0) {
            unlink_free(jar, COOKIE_OF(l));
            return;
        }
    }
}

static size_t count_domain(const h1_jar *jar, const char *domain)
{
    size_t n = 0;
    for (const list_link *l = jar->cookies.first; l; l = l->next) {
        n += strcasecmp(COOKIE_OF(l)->domain, domain) == 0;
    }
    return n;
}

/* The default path: the request path up to its last '/' ("/" if none). */
static size_t default_path(const char *req, size_t rl)
{
    size_t n = rl;
    while (n > 0 && req[n - 1] != '/') {
        n--;
    }
    return n > 1 ? n - 1 : 0;
}

static h1_cookie *cookie_new(const char *pair, size_t plen, size_t name_len, const char *domain,
                             const char *path, size_t path_len)
{
    size_t dl = strlen(domain);
    h1_cookie *c = malloc(sizeof *c + plen + dl + path_len + 3);
    if (!c) {
        return NULL;
    }
    c->name_len = name_len;
    memcpy(c->pair, pair, plen);
    c->pair[plen] = '\0';
    c->domain = c->pair + plen + 1;
    memcpy(c->domain, domain, dl + 1);
    c->path = c->domain + dl + 1;
    memcpy(c->path, path, path_len);
    c->path[path_len] = '\0';
    return c;
}

/* The cookie (name, domain, host_only, path), or NULL. */
static h1_cookie *find_same(h1_jar *jar, const char *v, size_t name_len, const char *domain,
                            int host_only, const char *path)
{
    for (list_link *l = jar->cookies.first; l; l = l->next) {
        h1_cookie *c = COOKIE_OF(l);
        if (c->name_len == name_len && memcmp(c->pair, v, name_len) == 0 &&
            c->host_only == host_only && strcasecmp(c->domain, domain) == 0 &&
            strcmp(c->path, path) == 0) {
            return c;
        }
    }
    return NULL;
}

/* The cookie's domain: the host (host-only) or its Domain attribute without
 * a leading dot. Returns -1 for a Domain the host is not inside, or one
 * without an inner dot ("test", "localhost"), refused as requests does. */
static int cookie_domain(const char *host, const char *attrs, size_t alen, char *domain,
                         size_t size, int *host_only)
{
    *host_only = !cookie_attr(attrs, alen, "domain=", domain, size) || !domain[0];
    if (*host_only) {
        return snprintf(domain, size, "%s", host) < (int)size ? 0 : -1;
    }
    if (domain[0] == '.') {
        memmove(domain, domain + 1, strlen(domain));
    }
    return domain[0] && strchr(domain, '.') && domain_match(host, domain) ? 0 : -1;
}

/* The cookie's Path, or the default path of the request. -1: too long. */
static int cookie_path(const char *req_path, const char *attrs, size_t alen, char *path,
                       size_t size)
{
    if (cookie_attr(attrs, alen, "path=", path, size) && path[0] == '/') {
        return strlen(path) + 1 < size ? 0 : -1; /* not cut */
    }
    size_t pl = default_path(req_path, strcspn(req_path, "?#"));
    if (pl >= size) {
        return -1;
    }
    memcpy(path, pl ? req_path : "/", pl ? pl : 1);
    path[pl ? pl : 1] = '\0';
    return 0;
}

/* Into the jar: in place of the same cookie (its place in the order kept,
 * as in requests' jar), else last, after making room. */
static void store(h1_jar *jar, h1_cookie *same, h1_cookie *c)
{
    if (same) {
        list_insert(&jar->cookies, &c->link, same->link.prev, same->link.next);
        free(same);
        return;
    }
    if (count_domain(jar, c->domain) >= H1_COOKIES_PER_DOMAIN) {
        evict_oldest(jar, c->domain);
    }
    if (jar->ncookies >= H1_COOKIES_PER_SESSION) {
        evict_oldest(jar, NULL);
    }
    list_push_back(&jar->cookies, &c->link);
    jar->ncookies++;
}

/* A control byte (CR, LF, NUL, ...; tab is allowed) makes the whole
 * cookie invalid (RFC 6265): it could only end up in a Cookie line. */
static int has_control(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 1;
        }
    }
    return 0;
}

void h1_cookie_set(h1_jar *jar, const char *host, const char *req_path, const char *v, size_t len)
{
    size_t pair = 0;
    while (pair < len && v[pair] != ';') {
        pair++;
    }
    while (pair > 0 && (v[pair - 1] == ' ' || v[pair - 1] == '\t')) {
        pair--;
    }
    const char *eq = memchr(v, '=', pair);
    if (!eq || eq == v || pair > H1_COOKIE_MAX_BYTES || has_control(v, len)) {
        return;
    }
    const char *attrs = v + pair;
    size_t alen = len - pair, name_len = (size_t)(eq - v);
    char domain[256], path[1024];
    int host_only;
    if (cookie_domain(host, attrs, alen, domain, sizeof domain, &host_only) != 0 ||
        cookie_path(req_path, attrs, alen, path, sizeof path) != 0) {
        return;
    }
    h1_cookie *same = find_same(jar, v, name_len, domain, host_only, path);
    time_t end = cookie_end(attrs, alen);
    if (end < 0) {
        if (same) {
            unlink_free(jar, same); /* deleted by Max-Age <= 0 or a past date */
        }
        return;
    }
    h1_cookie *c = cookie_new(v, pair, name_len, domain, path, strlen(path));
    if (!c) {
        return;
    }
    c->host_only = host_only;
    c->secure = cookie_flag(attrs, alen, "secure");
    c->expires = end;
    store(jar, same, c);
}

void h1_cookies_free(h1_jar *jar)
{
    while (jar->cookies.first) {
        unlink_free(jar, COOKIE_OF(jar->cookies.first));
    }
}

/* Whether c goes with a request to host and path (a Secure cookie over
 * https only). */
static int cookie_goes(const h1_cookie *c, const char *host, const char *path, size_t pl, int https)
{
    if (c->secure && !https) {
        return 0;
    }
    if (c->host_only ? strcasecmp(host, c->domain) != 0 : !domain_match(host, c->domain)) {
        return 0;
    }
    return path_match(path, pl, c->path);
}

int h1_cookies_put(buf *b, h1_jar *jar, const char *host, const char *target, int https)
{
    const h1_cookie *pick[H1_COOKIES_PER_SESSION];
    size_t n = 0, pl = strcspn(target, "?#");
    time_t now = time(NULL);
    for (list_link *l = jar->cookies.first, *next; l; l = next) {
        h1_cookie *c = COOKIE_OF(l);
        next = l->next;
        if (c->expires > 0 && c->expires <= now) {
            unlink_free(jar, c); /* its time is up */
            continue;
        }
        if (n < H1_COOKIES_PER_SESSION && cookie_goes(c, host, target, pl, https)) {
            pick[n++] = c;
        }
    }
    /* longer paths first, as requests does; otherwise oldest first */
    for (size_t i = 1; i < n; i++) {
        const h1_cookie *c = pick[i];
        size_t j = i, len = strlen(c->path);
        for (; j > 0 && strlen(pick[j - 1]->path) < len; j--) {
            pick[j] = pick[j - 1];
        }
        pick[j] = c;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad |= buf_put(b, i ? "; " : "Cookie: ", i ? 2 : 8);
        bad |= buf_put(b, pick[i]->pair, strlen(pick[i]->pair));
    }
    if (n) {
        bad |= buf_put(b, "\r\n", 2);
    }
    return bad;
}
