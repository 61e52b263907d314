/*
 * h1dns.c - the fast client's host table and resolver: names are looked up
 * with c-ares on the engine's libev loop, so a slow or dead DNS server never
 * stalls the loop (heartbeats, other users' requests). When a lookup is
 * over, the callback given to h1_dns_new says so (the engine then sends
 * what waited for it); this file calls nothing above it.
 *
 * The table keeps up to H1_ORIGIN_CACHE hosts; a new one beyond that makes
 * the least recently used leave the table (it lives on while a connection
 * or transfer still uses it), so there is no lifetime cap on hosts. A host
 * that resolved stays until it leaves the table; one that did not is looked
 * up again after H1_RESOLVE_RETRY s.
 *
 * $LW_DNS_SERVERS ("127.0.0.1:5353" or a comma-separated list, as c-ares's
 * ares_set_servers_ports_csv takes) replaces the servers of
 * /etc/resolv.conf; /etc/hosts is read first either way.
 */
#include "h1dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "list.h"
#include "log.h"
#include "procinfo.h"

/* An ev_io for one of c-ares's sockets. */
typedef struct dns_io {
    ev_io io;
    list_link link; /* in the resolver's ios */
} dns_io;

struct h1_dns {
    struct ev_loop *loop;
    h1_dns_done_fn done; /* a lookup is over */
    void *ctx;
    ares_channel channel;
    ev_timer timer;
    list_head ios;
    h1_origin **origins; /* the host table, each a reference */
    size_t norigins;
};

/* ---- c-ares on libev ---- */

static void rearm(struct h1_dns *d)
{
    struct timeval tv, *tvp = ares_timeout(d->channel, NULL, &tv);
    ev_timer_stop(d->loop, &d->timer);
    if (tvp) {
        ev_timer_set(&d->timer, (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6, 0.0);
        ev_timer_start(d->loop, &d->timer);
    }
}

static void on_dns_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct h1_dns *d = w->data;
    ares_process_fd(d->channel, revents & EV_READ ? w->fd : ARES_SOCKET_BAD,
                    revents & EV_WRITE ? w->fd : ARES_SOCKET_BAD);
    rearm(d);
}

static void on_dns_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct h1_dns *d = w->data;
    ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(d);
}

/* c-ares opens, watches or closes a socket. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct h1_dns *d = data;
    dns_io *io = NULL;
    for (list_link *l = d->ios.first; l && !io; l = l->next) {
        dns_io *each = LIST_ITEM(l, dns_io, link);
        io = each->io.fd == fd ? each : NULL;
    }
    if (io) {
        ev_io_stop(d->loop, &io->io);
    }
    if (!readable && !writable) {
        if (io) {
            list_remove(&d->ios, &io->link);
            free(io);
        }
        return;
    }
    if (!io) {
        if (!(io = calloc(1, sizeof *io))) {
            log_msg(LOG_ERROR, LOG_RUNNER, "out of memory watching a DNS socket");
            return;
        }
        list_push_front(&d->ios, &io->link);
    }
    ev_io_init(&io->io, on_dns_io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    io->io.data = d;
    ev_io_start(d->loop, &io->io);
}

h1_dns *h1_dns_new(struct ev_loop *loop, h1_dns_done_fn done, void *ctx)
{
    struct h1_dns *d = calloc(1, sizeof *d);
    if (!d || ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        free(d);
        return NULL;
    }
    d->loop = loop;
    d->done = done;
    d->ctx = ctx;
    struct ares_options opts = {.sock_state_cb = sock_state, .sock_state_cb_data = d};
    if (ares_init_options(&d->channel, &opts, ARES_OPT_SOCK_STATE_CB) != ARES_SUCCESS) {
        ares_library_cleanup();
        free(d);
        return NULL;
    }
    const char *servers = getenv("LW_DNS_SERVERS");
    if (servers && *servers && ares_set_servers_ports_csv(d->channel, servers) != ARES_SUCCESS) {
        log_msg(LOG_ERROR, LOG_RUNNER, "LW_DNS_SERVERS: not a list of servers: %s", servers);
    }
    ev_timer_init(&d->timer, on_dns_timer, 0.0, 0.0);
    d->timer.data = d;
    return d;
}

void h1_dns_free(h1_dns *d)
{
    if (!d) {
        return;
    }
    ares_destroy(d->channel); /* lookups in flight end (ARES_EDESTRUCTION) */
    ev_timer_stop(d->loop, &d->timer);
    while (d->ios.first) {
        dns_io *io = LIST_ITEM(d->ios.first, dns_io, link);
        list_remove(&d->ios, &io->link);
        ev_io_stop(d->loop, &io->io);
        free(io);
    }
    ares_library_cleanup();
    for (size_t i = 0; i < d->norigins; i++) {
        h1_origin_unref(d->origins[i]);
    }
    free(d->origins);
    free(d);
}

size_t h1_dns_hosts(const h1_dns *d)
{
    return d->norigins;
}

/* ---- origins ---- */

void h1_origin_unref(h1_origin *o)
{
    if (o && --o->refs == 0) {
        free(o);
    }
}

/* A new origin for authority a (n bytes): "h", "h:8080", "[::1]:8080";
 * tls: https:// (port 443 unless written). */
static h1_origin *origin_new(h1_dns *d, const char *a, size_t n, int tls)
{
    const char *host = a, *colon;
    size_t hl;
    if (a[0] == '[') {
        const char *end = memchr(a, ']', n);
        if (!end) {
            return NULL;
        }
        host = a + 1;
        hl = (size_t)(end - host);
        colon = (size_t)(end + 1 - a) < n && end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = memchr(a, ':', n);
        hl = colon ? (size_t)(colon - a) : n;
    }
    int port = tls ? 443 : 80;
    if (colon && colon + 1 < a + n) {
        char digits[8] = {0};
        size_t dl = (size_t)(a + n - colon - 1);
        char *end;
        if (dl >= sizeof digits) {
            return NULL;
        }
        memcpy(digits, colon + 1, dl);
        long p = strtol(digits, &end, 10);
        if (*end || p < 1 || p > 65535) {
            return NULL;
        }
        port = (int)p;
    }
    if (hl == 0) {
        return NULL;
    }
    h1_origin *o = calloc(1, sizeof *o + hl + n + 2);
    if (!o) {
        return NULL;
    }
    o->dns = d;
    o->host = (char *)(o + 1);
    memcpy(o->host, host, hl);
    o->authority = o->host + hl + 1;
    memcpy(o->authority, a, n);
    o->port = port;
    o->tls = tls;
    return o;
}

/* The table's entry for authority a over http or https, or NULL. */
static h1_origin *find(h1_dns *d, const char *a, size_t n, int tls)
{
    for (size_t i = 0; i < d->norigins; i++) {
        const char *oa = d->origins[i]->authority;
        if (d->origins[i]->tls == tls && strncmp(oa, a, n) == 0 && oa[n] == '\0') {
            return d->origins[i];
        }
    }
    return NULL;
}

/* Into the table (which holds a reference); the least recently used
 * entry leaves a full table. Returns 0 or -1. */
static int table_add(h1_dns *d, h1_origin *o)
{
    if (!d->origins && !(d->origins = calloc(H1_ORIGIN_CACHE, sizeof *d->origins))) {
        return -1;
    }
    if (d->norigins == H1_ORIGIN_CACHE) {
        size_t lru = 0;
        for (size_t i = 1; i < d->norigins; i++) {
            lru = d->origins[i]->used_at < d->origins[lru]->used_at ? i : lru;
        }
        h1_origin_unref(d->origins[lru]);
        d->origins[lru] = d->origins[--d->norigins];
    }
    d->origins[d->norigins++] = o;
    o->refs++;
    return 0;
}

static void on_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    h1_origin *o = arg;
    o->naddrs = o->preferred = 0;
    for (struct ares_addrinfo_node *a = res ? res->nodes : NULL; a && o->naddrs < H1_MAX_ADDRS;
         a = a->ai_next) {
        if (a->ai_addrlen <= sizeof o->addr[0]) {
            memcpy(&o->addr[o->naddrs], a->ai_addr, a->ai_addrlen);
            o->addrlen[o->naddrs++] = a->ai_addrlen;
        }
    }
    if (res) {
        ares_freeaddrinfo(res);
    }
    o->state = status == ARES_SUCCESS && o->naddrs > 0 ? H1_DNS_OK : H1_DNS_FAILED;
    o->failed_at = o->state == H1_DNS_FAILED ? now_mono() : 0;
    if (status != ARES_EDESTRUCTION) {
        o->dns->done(o, o->dns->ctx);
    }
    h1_origin_unref(o); /* the lookup's reference */
}

/* A numeric host (IPv4 or IPv6) needs no lookup. Returns 1 if it was. */
static int numeric(h1_origin *o)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&o->addr[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&o->addr[0];
    memset(&o->addr[0], 0, sizeof o->addr[0]);
    if (inet_pton(AF_INET, o->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)o->port);
        o->addrlen[0] = sizeof *v4;
    } else if (inet_pton(AF_INET6, o->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)o->port);
        o->addrlen[0] = sizeof *v6;
    } else {
        return 0;
    }
    o->naddrs = 1;
    o->preferred = 0;
    o->state = H1_DNS_OK;
    return 1;
}

static void lookup(h1_origin *o)
{
    struct h1_dns *d = o->dns;
    if (numeric(o)) {
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%d", o->port);
    struct ares_addrinfo_hints hints = {
        .ai_flags = ARES_AI_NUMERICSERV, .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    o->state = H1_DNS_PENDING;
    o->refs++; /* until on_resolved */
    ares_getaddrinfo(d->channel, o->host, port, &hints, on_resolved, o);
    rearm(d);
}

h1_origin *h1_origin_of(h1_dns *d, const char *url, const char **path, char *errtext, size_t errlen)
{
    if (!url_simple_http(url)) {
        snprintf(errtext, errlen, "URL not supported by the fast HTTP client: %.180s", url);
        return NULL;
    }
    int tls = url_scheme_len(url) == 8;
    const char *a = url + url_scheme_len(url);
    size_t n = strcspn(a, "/?#");
    *path = a + n;
    h1_origin *o = find(d, a, n, tls);
    if (!o) {
        if (!(o = origin_new(d, a, n, tls))) {
            snprintf(errtext, errlen, "URL using bad/illegal format or missing URL");
            return NULL;
        }
        if (table_add(d, o) != 0) {
            free(o);
            snprintf(errtext, errlen, "out of memory");
            return NULL;
        }
        lookup(o);
    } else if (o->state == H1_DNS_FAILED && now_mono() - o->failed_at >= H1_RESOLVE_RETRY) {
        lookup(o);
    }
    o->used_at = now_mono();
    o->refs++;
    return o;
}
