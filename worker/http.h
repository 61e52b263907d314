/*
 * http.h - libcurl's multi socket API driven by a libev loop.
 *
 * The engine runs transfers on easy handles that callers prepare; when one
 * finishes, on_done is called with the handle and curl's result (after the
 * handle has left the multi handle, so it may be reused or re-added at once).
 * Sessions (one per user) are curl share handles holding that user's
 * connection cache, cookies and DNS cache, so each user keeps its own
 * keep-alive connection like Locust's HttpUser.
 */
#ifndef LW_HTTP_H
#define LW_HTTP_H

#include <curl/curl.h>
#include <ev.h>

typedef void (*http_done_fn)(CURL *easy, CURLcode result, void *ctx);

typedef struct http_engine http_engine;

/* Returns NULL on failure. */
http_engine *http_new(struct ev_loop *loop, http_done_fn on_done, void *ctx);
void http_free(http_engine *h);

/* Add a prepared easy handle. Returns 0 or -1. */
int http_start(http_engine *h, CURL *easy);
/* Remove a running transfer; on_done is not called. */
void http_cancel(http_engine *h, CURL *easy);
/* Transfers in flight. */
int http_running(const http_engine *h);

/* A session: a share handle for connections, cookies and DNS. NULL on failure. */
CURLSH *http_session_new(void);
void http_session_free(CURLSH *sh);

#endif
