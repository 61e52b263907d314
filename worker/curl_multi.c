/*
 * curl_multi.c - glue between libcurl's multi socket interface and libev, after
 * curl's evhiperfifo example: CURLMOPT_SOCKETFUNCTION maps each socket to an
 * ev_io, CURLMOPT_TIMERFUNCTION to one ev_timer (timeouts in seconds as
 * doubles: no integer division), and finished transfers are collected with
 * curl_multi_info_read after every socket action.
 */
#include "curl_multi.h"

#include <stdlib.h>

#include "log.h"

#define HTTP_POOL_MAX 256 /* idle easy handles kept; then they are freed */

struct http_engine {
    struct ev_loop *loop;
    CURLM *multi;
    CURL *pool[HTTP_POOL_MAX]; /* idle easy handles */
    int pooled;
    ev_timer timer;
    http_done_fn on_done;
    void *ctx;
    int running;
};

typedef struct {
    ev_io io;
    http_engine *h;
    curl_socket_t fd;
} http_sock;

static void collect_done(http_engine *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(h->multi, easy);
        h->running--;
        h->on_done(easy, rc, h->ctx);
    }
}

static void socket_action(http_engine *h, curl_socket_t fd, int flags)
{
    int still;
    CURLMcode rc = curl_multi_socket_action(h->multi, fd, flags, &still);
    if (rc != CURLM_OK) {
        log_msg(LOG_ERROR, LOG_RUNNER, "curl_multi_socket_action: %s", curl_multi_strerror(rc));
    }
    collect_done(h);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    http_sock *s = (http_sock *)w;
    int flags =
        (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    socket_action(s->h, s->fd, flags);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    socket_action((http_engine *)w->data, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_engine *h = userp;
    ev_timer_stop(h->loop, &h->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.0);
        ev_timer_start(h->loop, &h->timer);
    }
    return 0;
}

static int sock_events(int what)
{
    return (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    http_engine *h = userp;
    http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(h->loop, &s->io);
            free(s);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) {
            return -1;
        }
        s->h = h;
        s->fd = fd;
        curl_multi_assign(h->multi, fd, s);
    } else {
        ev_io_stop(h->loop, &s->io);
    }
    ev_io_init(&s->io, on_io, fd, sock_events(what));
    ev_io_start(h->loop, &s->io);
    return 0;
}

http_engine *http_new(struct ev_loop *loop, http_done_fn on_done, void *ctx)
{
    http_engine *h = calloc(1, sizeof *h);
    if (!h) {
        return NULL;
    }
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    h->loop = loop;
    h->on_done = on_done;
    h->ctx = ctx;
    ev_timer_init(&h->timer, on_timer, 0.0, 0.0);
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void http_free(http_engine *h)
{
    if (!h) {
        return;
    }
    ev_timer_stop(h->loop, &h->timer);
    while (h->pooled > 0) {
        curl_easy_cleanup(h->pool[--h->pooled]);
    }
    curl_multi_cleanup(h->multi);
    free(h);
}

int http_start(http_engine *h, CURL *easy)
{
    CURLMcode rc = curl_multi_add_handle(h->multi, easy);
    if (rc != CURLM_OK) {
        log_msg(LOG_ERROR, LOG_RUNNER, "curl_multi_add_handle: %s", curl_multi_strerror(rc));
        return -1;
    }
    h->running++;
    return 0;
}

void http_cancel(http_engine *h, CURL *easy)
{
    if (curl_multi_remove_handle(h->multi, easy) == CURLM_OK) {
        h->running--;
    }
}

int http_running(const http_engine *h)
{
    return h->running;
}

CURL *http_easy_take(http_engine *h)
{
    return h->pooled > 0 ? h->pool[--h->pooled] : NULL;
}

void http_easy_give(http_engine *h, CURL *easy)
{
    if (curl_easy_setopt(easy, CURLOPT_SHARE, NULL) != CURLE_OK || h->pooled == HTTP_POOL_MAX) {
        curl_easy_cleanup(easy);
        return;
    }
    h->pool[h->pooled++] = easy;
}
