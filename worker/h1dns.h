/*
 * h1dns.h - the fast client's hosts (origins) and their resolver: c-ares
 * on the caller's libev loop, reporting each finished lookup through the
 * callback given to h1_dns_new (h1dns.c says how the table behaves).
 */
#ifndef LW_H1DNS_H
#define LW_H1DNS_H

#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>

#include "list.h"

#define H1_RESOLVE_RETRY 10.0 /* s before a host that did not resolve is tried again */
#define H1_MAX_ADDRS 4        /* addresses kept per host, tried in turn */
#define H1_ORIGIN_CACHE \
    256 /* hosts the table keeps; then the least
                                   recently used one leaves it */

typedef enum { H1_DNS_PENDING = 0, H1_DNS_OK, H1_DNS_FAILED } h1_dns_state;

typedef struct h1_dns h1_dns;

/* A host and port, resolved (or being resolved) without blocking the loop.
 * Counted references: the table, each user of it (refs++ takes one,
 * h1_origin_unref gives it back) and a lookup in flight; freed at the
 * last one. */
typedef struct h1_origin {
    h1_dns *dns;
    int refs;
    h1_dns_state state;
    char *host;      /* as in the URL, without brackets */
    char *authority; /* the Host header: host[:port] as written */
    int port;
    int tls; /* https:// */
    struct sockaddr_storage addr[H1_MAX_ADDRS];
    socklen_t addrlen[H1_MAX_ADDRS];
    int naddrs;
    int preferred;     /* the address that last connected */
    double failed_at;  /* when it did not resolve (monotonic s) */
    double used_at;    /* last asked for (monotonic s) */
    list_head waiters; /* the caller's, untouched here: who waits
                                 for the lookup */
} h1_origin;

/* A lookup is over (o->state says how); not called for lookups that
 * h1_dns_free ends. */
typedef void (*h1_dns_done_fn)(h1_origin *o, void *ctx);

/* The resolver on loop: c-ares with the system's settings
 * (/etc/resolv.conf, /etc/hosts), or the servers of $LW_DNS_SERVERS
 * ("127.0.0.1:5353,..."). NULL when it could not start. */
h1_dns *h1_dns_new(struct ev_loop *loop, h1_dns_done_fn done, void *ctx);
/* Ends lookups in flight (without callbacks) and the table. */
void h1_dns_free(h1_dns *d);
/* The origin of a URL's scheme://authority (a new reference), from the
 * table or new, its lookup started (a numeric host resolves at once); a
 * host that did not resolve is looked up again after H1_RESOLVE_RETRY s.
 * *path is set to the rest of the URL ("" for none). NULL: errtext says
 * why. */
h1_origin *h1_origin_of(h1_dns *d, const char *url, const char **path, char *errtext,
                        size_t errlen);
void h1_origin_unref(h1_origin *o);
/* Hosts in the table. */
size_t h1_dns_hosts(const h1_dns *d);

#endif
