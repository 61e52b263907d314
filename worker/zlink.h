/*
 * zlink.h - the ZeroMQ DEALER connection to the master, inside a libev loop.
 *
 * ZMQ_FD is edge-triggered: the socket is drained while ZMQ_EVENTS says
 * POLLIN, after every wake-up and after every send. A socket monitor reports
 * when the ZMTP handshake with a master succeeds and when the connection is
 * lost (the master closed it, or stayed silent for 60 s: ZMTP heartbeats
 * every second; a shorter partition or freeze keeps the connection open).
 * ZMQ_IMMEDIATE keeps messages from queueing while no master is connected,
 * so nothing stale reaches a restarted master.
 *
 * Frames from the master are at most ZLINK_MAX_FRAME bytes (ZMQ_MAXMSGSIZE).
 * The largest a stock master sends is its spawn message: measured with
 * Locust 2.47, 1.5 KB for 10 classes, 64 KB for 1,000 classes with
 * 60-character names, 516 KB for 5,000 classes with 100-character names
 * (parsed_options is under 1 KB). Decoding takes up to about 24 bytes of
 * memory per byte of frame (msgpack-c), so the bound also caps that at
 * about 50 MB. A bigger frame is refused by libzmq before it is read; the
 * connection is logged as dropped and opened again with the same identity.
 */
#define ZLINK_MAX_FRAME (2 << 20)
#ifndef LW_ZLINK_H
#define LW_ZLINK_H

#include <stddef.h>
#include <ev.h>

typedef struct zlink zlink;

typedef struct {
    void (*on_message)(const char *buf, size_t len, void *ctx);
    void (*on_connected)(void *ctx);
    void (*on_disconnected)(void *ctx);
    void *ctx;
} zlink_events;

/* endpoint like "tcp://127.0.0.1:5557". Returns NULL with err filled. */
zlink *zlink_new(struct ev_loop *loop, const char *endpoint, int ipv6, zlink_events events,
                 char *err, size_t errlen);
/* (Re)create the socket with this identity and connect. 0 or -1. */
int zlink_open(zlink *z, const char *identity);
/* Send one frame without blocking. 0, or -1 (no master connected, or HWM). */
int zlink_send(zlink *z, const void *buf, size_t len);
int zlink_connected(const zlink *z);
/* Close (lingering up to linger_ms for queued frames) and free. */
void zlink_free(zlink *z, int linger_ms);

#endif
