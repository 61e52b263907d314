/*
 * curl_multi.h - libcurl's multi socket API driven by a libev loop.
 *
 * The engine runs transfers on easy handles that callers prepare; when one
 * finishes, on_done is called with the handle and curl's result (after the
 * handle has left the multi handle, so it may be reused or re-added at once).
 * Easy handles are not the users': the engine keeps the idle ones in a
 * pool, and a request takes one and binds it to its user's session
 * (curl_client.c) for the time of the transfer.
 */
#ifndef LW_CURL_MULTI_H
#define LW_CURL_MULTI_H

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

/* An idle easy handle from the pool (its options as the last user left
 * them, detached from any session), or NULL when the pool is empty. */
CURL *http_easy_take(http_engine *h);
/* Back to the pool (detached from its session here); cleaned up instead
 * when the pool is full. */
void http_easy_give(http_engine *h, CURL *easy);

#endif
