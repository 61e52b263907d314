/*
 * zlink.c - ZeroMQ plumbing for the master connection: socket options,
 * monitor events and edge-triggered draining of ZMQ_FD in libev.
 *
 * Frames from the master are bounded by ZMQ_MAXMSGSIZE (zlink.h). libzmq
 * refuses a bigger frame from its header, before allocating it, and drops
 * the connection as a protocol error: unlike any other disconnect, it then
 * never reconnects (no CONNECT_RETRIED event follows DISCONNECTED). A
 * disconnect with no retry within DROPPED_WAIT_S is taken as that: one
 * WARNING line, and a new socket with the same identity.
 */
#include "zlink.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

/* ZMTP heartbeats every second; a master silent this long is gone. A
 * shorter partition or freeze keeps the connection, and what was sent
 * meanwhile is delivered when the master answers again. */
#define SILENT_MASTER_MS 60000
#define DROPPED_WAIT_S 0.5 /* libzmq schedules its retry at once */

struct zlink {
    struct ev_loop *loop;
    void *ctx;
    void *sock;
    void *mon;
    ev_io sock_io;
    ev_io mon_io;
    ev_timer kick;    /* re-drain after sends (edge-triggered fd) */
    ev_timer dropped; /* a disconnect that libzmq does not retry */
    zlink_events ev;
    char endpoint[600];
    char identity[512];
    int ipv6;
    int connected;
    int retried;         /* libzmq scheduled a reconnect since the disconnect */
    unsigned generation; /* monitor endpoint name per socket */
};

static void drain_sock(zlink *z);
static void drain_mon(zlink *z);

static int has_pollin(void *s)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(s, ZMQ_EVENTS, &events, &len) != 0) {
        return 0;
    }
    return (events & ZMQ_POLLIN) != 0;
}

static void on_sock(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    drain_sock(w->data);
}

static void on_mon(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    drain_mon(w->data);
}

static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    zlink *z = w->data;
    drain_mon(z);
    drain_sock(z);
}

static void kick(zlink *z)
{
    if (!ev_is_active(&z->kick)) {
        ev_timer_set(&z->kick, 0.0, 0.0);
        ev_timer_start(z->loop, &z->kick);
    }
}

/* Skip the rest of a multi-frame message: a master sends one frame. */
static void skip_more(void *s)
{
    int more = 0;
    size_t len = sizeof more;
    while (zmq_getsockopt(s, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        zmq_msg_close(&m);
    }
}

static void drain_sock(zlink *z)
{
    void *s = z->sock;
    while (s && s == z->sock && has_pollin(s)) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        skip_more(s);
        z->ev.on_message(zmq_msg_data(&m), zmq_msg_size(&m), z->ev.ctx);
        zmq_msg_close(&m);
    }
}

/* A monitor event is two frames: [u16 event, u32 value] and the endpoint. */
static int read_event(void *mon, uint16_t *event)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    int ok = zmq_msg_size(&m) >= 6;
    if (ok) {
        memcpy(event, zmq_msg_data(&m), sizeof *event);
    }
    zmq_msg_close(&m);
    skip_more(mon);
    return ok ? 0 : -1;
}

static void handle_event(zlink *z, uint16_t event)
{
    if (event == ZMQ_EVENT_CONNECT_RETRIED) {
        z->retried = 1;
        ev_timer_stop(z->loop, &z->dropped);
    } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !z->connected) {
        z->connected = 1;
        z->ev.on_connected(z->ev.ctx);
    } else if (event == ZMQ_EVENT_DISCONNECTED && z->connected) {
        z->connected = 0;
        z->retried = 0;
        ev_timer_stop(z->loop, &z->dropped);
        ev_timer_set(&z->dropped, DROPPED_WAIT_S, 0.0);
        ev_timer_start(z->loop, &z->dropped);
        z->ev.on_disconnected(z->ev.ctx);
    }
}

/* The connection is gone for good: libzmq refused a frame. Start over. */
static void on_dropped(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    zlink *z = w->data;
    drain_mon(z); /* a busy loop may not have read the retry event yet */
    if (z->retried || z->connected) {
        return;
    }
    log_msg(LOG_WARNING, LOG_RUNNER,
            "ZeroMQ dropped the connection to the master on a protocol error, "
            "most likely a frame over the %d MB limit (ZMQ_MAXMSGSIZE); reconnecting",
            ZLINK_MAX_FRAME >> 20);
    zlink_open(z, z->identity);
}

static void drain_mon(zlink *z)
{
    void *mon = z->mon;
    while (mon && mon == z->mon && has_pollin(mon)) {
        uint16_t event;
        if (read_event(mon, &event) == 0) {
            handle_event(z, event);
        }
    }
}

zlink *zlink_new(struct ev_loop *loop, const char *endpoint, int ipv6, zlink_events events,
                 char *err, size_t errlen)
{
    zlink *z = calloc(1, sizeof *z);
    if (!z || !(z->ctx = zmq_ctx_new())) {
        snprintf(err, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        free(z);
        return NULL;
    }
    z->loop = loop;
    z->ev = events;
    z->ipv6 = ipv6;
    snprintf(z->endpoint, sizeof z->endpoint, "%s", endpoint);
    ev_timer_init(&z->kick, on_kick, 0.0, 0.0);
    z->kick.data = z;
    ev_timer_init(&z->dropped, on_dropped, 0.0, 0.0);
    z->dropped.data = z;
    return z;
}

static void close_socket(zlink *z, int linger_ms)
{
    if (z->sock) {
        ev_io_stop(z->loop, &z->sock_io);
        zmq_setsockopt(z->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
        zmq_close(z->sock);
        z->sock = NULL;
    }
    if (z->mon) {
        int zero = 0;
        ev_io_stop(z->loop, &z->mon_io);
        zmq_setsockopt(z->mon, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(z->mon);
        z->mon = NULL;
    }
    z->connected = 0;
}

static int set_int(void *s, int opt, int value)
{
    return zmq_setsockopt(s, opt, &value, sizeof value);
}

static int configure(zlink *z, const char *identity)
{
    void *s = z->sock;
    if (zmq_setsockopt(s, ZMQ_ROUTING_ID, identity, strlen(identity)) ||
        set_int(s, ZMQ_TCP_KEEPALIVE, 1) || set_int(s, ZMQ_TCP_KEEPALIVE_IDLE, 30) ||
        set_int(s, ZMQ_HEARTBEAT_IVL, 1000) ||
        set_int(s, ZMQ_HEARTBEAT_TIMEOUT, SILENT_MASTER_MS) || set_int(s, ZMQ_IMMEDIATE, 1) ||
        set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000) || set_int(s, ZMQ_IPV6, z->ipv6) ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &(int64_t){ZLINK_MAX_FRAME}, sizeof(int64_t))) {
        return -1;
    }
    return 0;
}

static int fd_of(void *s, int *fd)
{
    size_t len = sizeof *fd;
    return zmq_getsockopt(s, ZMQ_FD, fd, &len);
}

static int open_monitor(zlink *z)
{
    char addr[64];
    snprintf(addr, sizeof addr, "inproc://lw-monitor-%u", ++z->generation);
    int fd;
    if (zmq_socket_monitor(z->sock, addr,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED) ||
        !(z->mon = zmq_socket(z->ctx, ZMQ_PAIR)) || zmq_connect(z->mon, addr) ||
        fd_of(z->mon, &fd)) {
        return -1;
    }
    ev_io_init(&z->mon_io, on_mon, fd, EV_READ);
    z->mon_io.data = z;
    ev_io_start(z->loop, &z->mon_io);
    return 0;
}

int zlink_open(zlink *z, const char *identity)
{
    int fd;
    if (identity != z->identity) {
        snprintf(z->identity, sizeof z->identity, "%s", identity);
    }
    ev_timer_stop(z->loop, &z->dropped);
    close_socket(z, 0);
    if (!(z->sock = zmq_socket(z->ctx, ZMQ_DEALER)) || configure(z, identity) || open_monitor(z) ||
        zmq_connect(z->sock, z->endpoint) || fd_of(z->sock, &fd)) {
        log_msg(LOG_ERROR, LOG_RUNNER, "cannot open the master connection to %s: %s", z->endpoint,
                zmq_strerror(errno));
        close_socket(z, 0);
        return -1;
    }
    ev_io_init(&z->sock_io, on_sock, fd, EV_READ);
    z->sock_io.data = z;
    ev_io_start(z->loop, &z->sock_io);
    kick(z);
    return 0;
}

int zlink_send(zlink *z, const void *buf, size_t len)
{
    if (!z->sock) {
        return -1;
    }
    int rc = zmq_send(z->sock, buf, len, ZMQ_DONTWAIT);
    kick(z);
    return rc < 0 ? -1 : 0;
}

int zlink_connected(const zlink *z)
{
    return z->connected;
}

void zlink_free(zlink *z, int linger_ms)
{
    if (!z) {
        return;
    }
    ev_timer_stop(z->loop, &z->kick);
    ev_timer_stop(z->loop, &z->dropped);
    close_socket(z, linger_ms);
    zmq_ctx_term(z->ctx);
    free(z);
}
