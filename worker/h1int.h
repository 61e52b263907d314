/*
 * h1int.h - the fast HTTP/1.1 client's inside: its sessions, connections
 * and engine, which h1.c drives and h1msg.c builds requests for. The
 * layers under them keep their own types: origins and their lookups
 * (h1dns.h), the transport (h1tls.h), the cookie jar (h1cookie.h).
 */
#ifndef LW_H1INT_H
#define LW_H1INT_H

#include "list.h"
#include "buf.h"
#include "h1cookie.h"
#include "h1dns.h"
#include "h1tls.h"
#include "h1xfer.h"

#define H1_RBUF_SIZE 65536
#define H1_MAX_REDIRECTS 30

struct h1_session {
    list_head idle;           /* keep-alive connections, newest first */
    h1_jar jar;               /* its cookies */
    h1_tls_resume tls_resume; /* the TLS session of its last closed https
                                 connection, to resume */
};

struct h1_conn {
    ev_io io;
    h1_engine *h;
    h1_session *s;
    h1_xfer *x;          /* the transfer using it, or NULL when idle */
    list_link idle_link; /* in the session's idle list */
    h1_origin *origin;   /* a reference */
    int addr;            /* index of the origin's address in use */
    int tries;           /* addresses tried for this connection */
    int connecting;      /* TCP connect under way */
    h1_link link;        /* its socket and TLS */
    int served;          /* responses read on it */
    char *out;           /* request bytes not sent yet */
    size_t out_len, out_off;
};

struct h1_engine {
    struct ev_loop *loop;
    h1_done_fn done;
    void *ctx;
    int running;
    h1_dns *dns; /* the host table and resolver */
    h1_tls tls;  /* TLS settings and context */
    buf wbuf;    /* request bytes being built */
    char rbuf[H1_RBUF_SIZE];
};

#endif
