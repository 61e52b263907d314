/*
 * h1.h - the fast HTTP/1.1 client: http:// and https:// requests on
 * non-blocking sockets driven by libev, for user classes that ask for it
 * (like Locust's FastHttpUser) or for every class with --http-client fast.
 * https:// uses OpenSSL with the peer's certificate and host name checked
 * (unless insecure); a connection's handshake happens once, when it opens.
 *
 * A session (one per user) holds that user's keep-alive connections and
 * cookie jar (scoped like requests' jar and bounded: h1cookie.c), so each
 * user keeps its own connection as with libcurl. A
 * transfer (one per request, reused) carries the request, its result and,
 * when asked to keep them, the response's headers and body. Redirects are
 * followed (up to 30), a request that finds its reused connection closed
 * by the server is retried once on a fresh one, and per-request timeouts
 * cover connect and response. Error texts match libcurl's, so the failure
 * rows of both clients are the same.
 */
#ifndef LW_H1_H
#define LW_H1_H

#include <ev.h>

#include "url.h"    /* url_simple_http, url_join */
#include "h1xfer.h" /* h1_xfer and the engine's types */

h1_engine *h1_new(struct ev_loop *loop, h1_done_fn done, void *ctx);
/* https:// without certificate or host name checks (--insecure); before
 * the first https:// request. */
void h1_set_insecure(h1_engine *h, int insecure);
void h1_free(h1_engine *h);
/* Transfers in flight. */
int h1_running(const h1_engine *h);

h1_session *h1_session_new(void);
/* Closes the session's idle connections; its transfers must be over. */
void h1_session_free(h1_session *s);

/* Set the request (method, body, timeout and keep first): its absolute
 * URL, the session's header lines and the request's own ("Name: value",
 * each a NULL-terminated array, or NULL for none). A host
 * that does not resolve fails the transfer when it starts. Returns 0, or
 * -1 when out of memory. */
int h1_xfer_set(h1_engine *h, h1_xfer *x, const char *url, const char *const *session_headers,
                const char *const *headers);
/* Start it. The done callback always follows (errors included), never
 * from inside this call. Returns 0, or -1 when it could not start. */
int h1_start(h1_engine *h, h1_session *s, h1_xfer *x);
/* Abandon a transfer in flight: no callback. */
void h1_cancel(h1_xfer *x);
/* Free a transfer's buffers (it must not be in flight). */
void h1_xfer_free(h1_xfer *x);
/* A kept response header (case-insensitive name), or NULL. */
const char *h1_header(const h1_xfer *x, const char *name);

#endif
