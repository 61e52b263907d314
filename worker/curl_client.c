/*
 * curl_client.c - the libcurl transport (transport.h), like Locust's
 * HttpUser: http, https, proxies.
 *
 * The engine is curl_multi.c's multi handle on the loop with its pool of
 * idle easy handles. A session is a share handle holding the user's
 * cookies and, once it needs one, its connection cache; a paced user's
 * plain http:// connection is kept by curl_conn.c instead; plus the user's
 * headers as a curl list. A transfer takes an easy handle for the time of
 * its request and binds it to the session; its result is told in
 * requests' terms (tr_response).
 */
#include "curl_client.h"

#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "curl_conn.h"
#include "curl_multi.h"
#include "url.h"
#include "lw.h"

#define SPARE_BUF_MAX 65536 /* bytes an idle transfer may keep allocated */

typedef struct {
    http_engine *multi;
    int insecure;
} engine;

typedef struct {
    CURLSH *share;              /* cookies; connections once conns is set */
    int conns;                  /* the share holds a connection cache */
    curl_conn kept;             /* the user's idle http:// connection */
    struct curl_slist *headers; /* the user's, as last given */
    size_t nheaders;
} session;

typedef struct {
    tr_xfer_head head;              /* engine, callback, response */
    CURL *easy;                     /* taken for the time of a request */
    struct curl_slist *req_headers; /* session + request headers, or NULL */
    buf body;                       /* the response body, when kept */
    int keep;
    int body_cut; /* the body went on beyond it */
    char reason[64];
    char errbuf[CURL_ERROR_SIZE];
    char *url_msg;     /* a refused redirect's message */
    curl_conn_xfer cx; /* the sockets (curl_conn.c) */
    session *s;        /* the request's session */
    int64_t body_len;  /* bytes of request body */
    int retried;       /* ran again on a fresh connection */
    double tried_ms;   /* the first attempt's time */
} xfer;

static engine *eng_of(const xfer *x)
{
    return x->head.engine;
}

static void on_done(CURL *easy, CURLcode rc, void *ctx);

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    if (!x->keep) {
        return n;
    }
    size_t keep = n, room = LW_RESPONSE_BODY_MAX - x->body.len;
    if (keep > room) {
        x->body_cut = 1; /* read and counted, not kept */
        keep = room;
    }
    if (keep && buf_put(&x->body, ptr, keep) != 0) {
        return 0; /* curl reports a write error */
    }
    return n;
}

/* Keeps the reason phrase of the last status line ("HTTP/1.1 404 Not Found"). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    if (n > 12 && memcmp(ptr, "HTTP/", 5) == 0) {
        const char *sp = memchr(ptr, ' ', n);
        const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - ptr)) : NULL;
        size_t len = 0;
        if (sp2) {
            const char *end = ptr + n;
            sp2++;
            while (end > sp2 && (end[-1] == '\r' || end[-1] == '\n')) {
                end--;
            }
            len = (size_t)(end - sp2);
            if (len >= sizeof x->reason) {
                len = sizeof x->reason - 1;
            }
            memcpy(x->reason, sp2, len);
        }
        x->reason[len] = '\0';
    }
    return n;
}

/* libcurl reads its own built-in CA bundle path, not OpenSSL's
 * $SSL_CERT_FILE and $SSL_CERT_DIR: set so, they apply to both clients. */
static int set_ca_env(CURL *e)
{
    const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
    int bad = 0;
    if (file && *file) {
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, file) != CURLE_OK;
    }
    if (dir && *dir) {
        bad |= curl_easy_setopt(e, CURLOPT_CAPATH, dir) != CURLE_OK;
    }
    return bad;
}

/* A new easy handle with the options every request of the process shares. */
static CURL *easy_new(const engine *eng)
{
    CURL *e = curl_easy_init();
    if (!e) {
        return NULL;
    }
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_COOKIEFILE, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, 30L) != CURLE_OK;
    /* http and https only, redirects included (no file://, gopher://...) */
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    if (eng->insecure) {
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
    }
    bad |= set_ca_env(e);
    if (bad) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

/* An easy handle for the transfer: from the engine's pool or new, bound to
 * the transfer and to its user's session (cookies, and libcurl's
 * connections). */
static CURL *easy_bind(xfer *x, session *s)
{
    CURL *e = http_easy_take(eng_of(x)->multi);
    if (!e && !(e = easy_new(eng_of(x)))) {
        return NULL;
    }
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SHARE, s->share) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    if (bad) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

/*
 * The easy handle goes back to the engine's pool. libcurl 7.88 (Debian 12)
 * counts its "connection died, retry on a fresh connection" attempts per
 * easy handle and never resets the count between transfers, so a
 * long-lived handle eventually reports "tried 5 times" for a request it
 * never retried. A retry always opens a connection: a handle whose
 * transfer opened one, or was cancelled, is freed instead (libcurl never
 * retries on the kept connections of curl_conn.c, which it takes for new).
 * The user's connections and cookies live in its session, not in the
 * handle.
 */
static void easy_release(xfer *x, int cancelled)
{
    long connects = 0;
    if (!x->easy) {
        return;
    }
    int kept = x->cx.mode == CURL_CONN_KEPT;
    curl_conn_abandon(&x->cx);
    if (cancelled ||
        (!kept && (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
                   connects > 0))) {
        curl_easy_cleanup(x->easy);
    } else {
        http_easy_give(eng_of(x)->multi, x->easy);
    }
    x->easy = NULL;
}

static int set_method(CURL *e, const tr_request *req)
{
    const char *m = req->method;
    int bad = curl_easy_setopt(e, CURLOPT_NOBODY, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) != CURLE_OK;
    if (req->body) {
        bad |=
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body) != CURLE_OK;
        if (strcmp(m, "POST") != 0) {
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m) != CURLE_OK;
        }
    } else if (strcmp(m, "HEAD") == 0) {
        bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
        if (strcmp(m, "GET") != 0) {
            bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m) != CURLE_OK;
        }
    }
    return bad ? -1 : 0;
}

static int has_content_type(const char *const *a, const char *const *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *const *l = pass ? b : a;
        for (size_t i = 0; l && l[i]; i++) {
            if (strncasecmp(l[i], "content-type:", 13) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int append(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n) {
        curl_slist_free_all(*list);
        *list = NULL;
        return -1;
    }
    *list = n;
    return 0;
}

static int append_all(struct curl_slist **list, const char *const *lines)
{
    for (size_t i = 0; lines && lines[i]; i++) {
        if (append(list, lines[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

static size_t count(const char *const *lines)
{
    size_t n = 0;
    while (lines && lines[n]) {
        n++;
    }
    return n;
}

/* The session's curl list follows the user's headers, which only grow. */
static int session_headers(session *s, const char *const *lines)
{
    size_t n = count(lines);
    if (n == s->nheaders) {
        return 0;
    }
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    s->nheaders = 0;
    if (append_all(&s->headers, lines) != 0) {
        return -1;
    }
    s->nheaders = n;
    return 0;
}

/* The session's headers, then the request's. A body without a
 * Content-Type goes without one, as with Python requests (and the fast
 * client): "Content-Type:" stops libcurl adding its form-urlencoded one. */
static int set_headers(xfer *x, session *s, const tr_request *req)
{
    if (session_headers(s, req->session_headers) != 0) {
        return -1;
    }
    struct curl_slist *list = s->headers;
    int untyped = req->body && !has_content_type(req->session_headers, req->headers);
    if ((req->headers && req->headers[0]) || untyped) {
        struct curl_slist *own = NULL;
        if (append_all(&own, req->session_headers) != 0 || append_all(&own, req->headers) != 0 ||
            (untyped && append(&own, "Content-Type:") != 0)) {
            curl_slist_free_all(own);
            return -1;
        }
        x->req_headers = own;
        list = own;
    }
    return curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, list) == CURLE_OK ? 0 : -1;
}

/* In whole milliseconds, rounded up: a timeout under 1 ms stays a timeout
 * (curl reads 0 as none). */
static long timeout_ms(double seconds)
{
    double ms = ceil(seconds * 1000.0);
    return ms < 1 ? 1 : (long)ms;
}

/* A paced user's plain http:// goes on its kept connection (curl_conn.c);
 * the rest on connections in the user's share, which gets its connection
 * cache on the first such request. One made while another request of the
 * user holds the share (it cannot change then) goes on a connection of its
 * own. */
static curl_conn_mode conn_mode(session *s, const tr_request *req)
{
    if (req->paced && curl_conn_enabled() && strncasecmp(req->url, "http://", 7) == 0) {
        return CURL_CONN_KEPT;
    }
    if (!s->conns &&
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) == CURLSHE_OK) {
        s->conns = 1;
    }
    return s->conns ? CURL_CONN_LIBCURL : CURL_CONN_ONCE;
}

static int prepare(void *xp, void *sp, const tr_request *req)
{
    xfer *x = xp;
    session *s = sp;
    x->keep = req->keep;
    x->reason[0] = x->errbuf[0] = '\0';
    x->s = s;
    x->body_len = req->body ? (int64_t)req->body_len : 0;
    x->retried = 0;
    curl_conn_mode mode = conn_mode(s, req); /* before the share is bound */
    if (!x->easy && !(x->easy = easy_bind(x, s))) {
        return -1;
    }
    if (curl_conn_setup(&x->cx, x->easy, &s->kept, mode, x->body_len) != 0 ||
        curl_easy_setopt(x->easy, CURLOPT_URL, req->url) != CURLE_OK || set_method(x->easy, req) ||
        set_headers(x, s, req) ||
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms(req->timeout)) != CURLE_OK) {
        return -1;
    }
    return 0;
}

static int start(void *xp)
{
    xfer *x = xp;
    return http_start(eng_of(x)->multi, x->easy);
}

/* libcurl's codes for a failed TLS handshake or a refused certificate:
 * requests raises SSLError for these. */
static int is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        return 1;
    default:
        return 0;
    }
}

/* A redirect to a URL requests refuses (file://, a bad host): curl stops
 * at it (CURLOPT_REDIR_PROTOCOLS_STR); the result names requests'
 * exception. */
static int redirect_refused(xfer *x, CURLcode rc)
{
    char *url = NULL;
    const char *kind = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &url) != CURLE_OK || !url) {
        url = NULL;
        if (rc != CURLE_UNSUPPORTED_PROTOCOL ||
            curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url) {
            return 0;
        }
    }
    if (url_check(url, &kind, &x->url_msg) == 0) {
        return 0;
    }
    x->head.resp.result = TR_ERR_URL;
    x->head.resp.url_kind = kind;
    x->head.resp.url_msg = x->url_msg ? x->url_msg : "out of memory";
    return 1;
}

static void read_result(xfer *x, CURLcode rc)
{
    tr_response *r = &x->head.resp;
    curl_off_t total_us = 0, size = 0;
    char *url = NULL;
    *r = (tr_response){.result = TR_OK, .text = "", .reason = x->reason, .url = ""};
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) {
        r->url = url;
    }
    r->time_ms = (double)total_us / 1000.0 + (x->retried ? x->tried_ms : 0.0);
    r->bytes = (int64_t)size;
    r->open_errno = x->cx.open_errno;
    if (rc == CURLE_OK || redirect_refused(x, rc)) {
        return;
    }
    r->result = rc == CURLE_OPERATION_TIMEDOUT ? TR_ERR_TIMEOUT
                : is_tls_error(rc)             ? TR_ERR_TLS
                                               : TR_ERR_CONNECTION;
    r->text = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
}

/* The user's kept connection died under the request before any answer:
 * once more on a fresh connection, as libcurl does with its own pooled
 * connections; the time of both attempts counts. Returns 1 when started. */
static int retry_fresh(xfer *x, CURLcode rc)
{
    curl_off_t total_us = 0;
    if (!curl_conn_done(&x->cx, rc) || x->retried) {
        return 0;
    }
    curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    if (curl_conn_setup(&x->cx, x->easy, &x->s->kept, CURL_CONN_KEPT, x->body_len) != 0 ||
        http_start(eng_of(x)->multi, x->easy) != 0) {
        curl_conn_abandon(&x->cx);
        return 0;
    }
    x->retried = 1;
    x->tried_ms = (double)total_us / 1000.0;
    x->reason[0] = x->errbuf[0] = '\0';
    return 1;
}

static void on_done(CURL *easy, CURLcode rc, void *ctx)
{
    (void)ctx;
    xfer *x = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x) != CURLE_OK || !x) {
        return;
    }
    if (retry_fresh(x, rc)) {
        return;
    }
    read_result(x, rc);
    x->head.done(x->head.arg);
}

static void cancel(void *xp)
{
    xfer *x = xp;
    if (x->easy) {
        http_cancel(eng_of(x)->multi, x->easy);
        easy_release(x, 1);
    }
}

/* Per-request state dropped; a large body's buffer is not kept. */
static void finish(void *xp)
{
    xfer *x = xp;
    easy_release(x, 0);
    curl_slist_free_all(x->req_headers);
    x->req_headers = NULL;
    free(x->url_msg);
    x->url_msg = NULL;
    x->body.len = 0;
    x->body_cut = 0;
    if (x->body.data) {
        x->body.data[0] = '\0'; /* no text of an earlier response */
    }
    if (x->body.cap > SPARE_BUF_MAX) {
        free(x->body.data);
        x->body = (buf){0};
    }
}

static const char *body(void *xp, size_t *len, int *cut)
{
    xfer *x = xp;
    return transport_kept_body(&x->body, x->body_cut, len, cut);
}

static const char *header(void *xp, const char *name)
{
    xfer *x = xp;
    struct curl_header *h = NULL;
    if (!x->easy || curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK) {
        return NULL;
    }
    return h->value;
}

static void *xfer_new(void *eng, tr_done_fn done, void *arg)
{
    return transport_xfer_alloc(sizeof(xfer), eng, done, arg);
}

static void xfer_free(void *xp)
{
    xfer *x = xp;
    if (!x) {
        return;
    }
    curl_conn_abandon(&x->cx);
    if (x->easy) {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->req_headers);
    free(x->url_msg);
    free(x->body.data);
    free(x);
}

/* DNS answers are not a user's: they stay in the multi handle's cache, for
 * the whole process. libcurl 7.88 gives each share that holds connections
 * a cache of its own (a hash table and an internal easy handle): a session
 * gets one only when it needs it (conn_mode). */
static void *session_new(void *eng)
{
    (void)eng;
    session *s = calloc(1, sizeof *s);
    if (!s || !(s->share = curl_share_init()) ||
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE)) {
        if (s && s->share) {
            curl_share_cleanup(s->share);
        }
        free(s);
        return NULL;
    }
    curl_conn_init(&s->kept);
    return s;
}

static void session_free(void *eng, void *sp)
{
    (void)eng;
    session *s = sp;
    if (s) {
        curl_share_cleanup(s->share);
        curl_conn_close(&s->kept);
        curl_slist_free_all(s->headers);
        free(s);
    }
}

static void *engine_new(const tr_config *cfg)
{
    engine *e = calloc(1, sizeof *e);
    if (!e || !(e->multi = http_new(cfg->loop, on_done, NULL))) {
        free(e);
        return NULL;
    }
    e->insecure = cfg->insecure;
    return e;
}

static void engine_free(void *ep)
{
    engine *e = ep;
    if (e) {
        http_free(e->multi);
        free(e);
    }
}

/* Everything requests sends: http:// and https://, proxies included. */
static int supports(const char *url)
{
    (void)url;
    return 1;
}

const transport curl_transport = TRANSPORT_TABLE("curl");
