/*
 * h1cookie.h - the fast client's cookie jar, one per session: what a
 * response's Set-Cookie stores and what a request's Cookie line carries
 * (h1cookie.c says by which rules).
 */
#ifndef LW_H1COOKIE_H
#define LW_H1COOKIE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "list.h"

#define H1_COOKIE_MAX_BYTES 4096   /* name=value; a longer cookie is ignored */
#define H1_COOKIES_PER_DOMAIN 50   /* then the domain's oldest goes */
#define H1_COOKIES_PER_SESSION 500 /* then the session's oldest goes */

/* A cookie of a jar. */
typedef struct h1_cookie {
    list_link link; /* in the jar, oldest first */
    size_t name_len;
    char *domain; /* lowercase host or domain, no leading dot */
    char *path;
    int host_only; /* no Domain attribute: that host only */
    int secure;
    time_t expires; /* 0: end of session */
    char pair[];    /* "name=value\0domain\0path" */
} h1_cookie;

/* A jar: all zero is an empty one. */
typedef struct {
    list_head cookies; /* oldest first */
    size_t ncookies;
} h1_jar;

/* A Set-Cookie header value from a response to host (no port) and the
 * request target (path and query). */
void h1_cookie_set(h1_jar *j, const char *host, const char *target, const char *value, size_t len);
/* The Cookie line (with its CRLF) of a request to host and target (over
 * https or not), or nothing; drops cookies whose time is up. Returns 0 or
 * -1. */
int h1_cookies_put(buf *b, h1_jar *j, const char *host, const char *target, int https);
/* Empties the jar. */
void h1_cookies_free(h1_jar *j);

#endif
