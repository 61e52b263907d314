/*
 * request.c - lw_request_send and the response side of the public API.
 *
 * Each request takes a slot from the user's spares, or makes one; it goes
 * through the fast client (an h1 transfer on the user's h1 session) when the
 * user's class or --http-client asks for it and the URL is http:// or
 * https://, else through libcurl (an easy handle bound to the user's curl session;
 * both are made on first use). When the request finishes, the default
 * verdict is set (a transport error or a status >= 400 is a failure, with
 * error texts shaped like Python requests' exceptions), the task's callback
 * may change it or chain another request, and then the request is logged in
 * stats: once, in the interval it finished. Cancelled requests are never
 * logged.
 */
#include "request.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "error_key.h"
#include "h1url.h"
#include "log.h"
#include "ratelimit.h"
#include "runtasks.h"
#include "procinfo.h"

#define SPARE_BUF_MAX 65536   /* bytes a spare slot may keep allocated */

struct lw_response {
    CURL *easy;                      /* libcurl handle, made on first use */
    h1_xfer x;                       /* the fast client's transfer */
    int fast;                        /* this request went through x */
    buf req_body;                    /* the fast client's copy of the body */
    buf url;                         /* the request's absolute URL */
    lw_user *u;
    req_slot *prev, *next;
    struct curl_slist *req_headers;  /* session + request headers, or NULL */
    lw_response_fn cb;
    void *arg;
    char method[16];
    buf name;                        /* stats name, up to STATS_NAME_MAX */
    int named;                       /* the task gave a name= */
    buf body;                        /* libcurl's response body, when kept */
    int keep_body;
    int body_cut;                    /* libcurl's body went on beyond it */
    char reason[64];
    char errbuf[CURL_ERROR_SIZE];
    long status;
    double rt_ms;
    int64_t content_length;
    char *error;                     /* verdict: NULL means success */
    int open_errno;                  /* errno of a failed socket() */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_slot *s = userdata;
    size_t n = size * nmemb;
    if (!s->keep_body) {
        return n;
    }
    size_t keep = n, room = LW_RESPONSE_BODY_MAX - s->body.len;
    if (keep > room) {
        s->body_cut = 1;    /* read and counted, not kept */
        keep = room;
    }
    if (keep && buf_put(&s->body, ptr, keep) != 0) {
        return 0;   /* curl reports a write error */
    }
    return n;
}

/* Keeps the reason phrase of the last status line ("HTTP/1.1 404 Not Found"). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    req_slot *s = userdata;
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
            if (len >= sizeof s->reason) {
                len = sizeof s->reason - 1;
            }
            memcpy(s->reason, sp2, len);
        }
        s->reason[len] = '\0';
    }
    return n;
}

/* curl's socket(): the same call, but a failure's errno is kept so that
 * running out of file descriptors can be told apart from a refused connect. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
                                 struct curl_sockaddr *addr)
{
    req_slot *s = clientp;
    (void)purpose;
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
    if (fd == CURL_SOCKET_BAD) {
        s->open_errno = errno;
    }
    return fd;
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
static CURL *easy_new(const user_env *env)
{
    CURL *e = curl_easy_init();
    if (!e) {
        return NULL;
    }
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_COOKIEFILE, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, 30L) != CURLE_OK;
    /* http and https only, redirects included (no file://, gopher://...) */
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
    if (env->insecure) {
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

/* An easy handle for the slot's request: from the engine's pool or new,
 * bound to the slot and to its user's session (connections and cookies). */
static CURL *easy_bind(req_slot *s)
{
    lw_user *u = s->u;
    if (!u->session && !(u->session = http_session_new())) {
        return NULL;
    }
    CURL *e = http_easy_take(u->env->http);
    if (!e && !(e = easy_new(u->env))) {
        return NULL;
    }
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SHARE, u->session) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s) != CURLE_OK;
    if (bad) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

static req_slot *slot_new(lw_user *u)
{
    req_slot *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->u = u;
    return s;
}

/*
 * The slot's easy handle goes back to the engine's pool. libcurl 7.88
 * (Debian 12) counts its "connection died, retry on a fresh connection"
 * attempts per easy handle and never resets the count between transfers,
 * so a long-lived handle eventually reports "tried 5 times" for a request
 * it never retried. A retry always opens a connection: a handle whose
 * transfer opened one, or was cancelled, is freed instead. The user's
 * connections and cookies live in its share, not in the handle.
 */
static void easy_release(req_slot *s, int cancelled)
{
    long connects = 0;
    if (!s->easy) {
        return;
    }
    if (cancelled || curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
        connects > 0) {
        curl_easy_cleanup(s->easy);
    } else {
        http_easy_give(s->u->env->http, s->easy);
    }
    s->easy = NULL;
}

static void slot_destroy(req_slot *s)
{
    if (s->easy) {
        curl_easy_cleanup(s->easy);
    }
    h1_xfer_free(&s->x);
    free(s->req_body.data);
    free(s->name.data);
    free(s->url.data);
    curl_slist_free_all(s->req_headers);
    free(s->body.data);
    free(s->error);
    free(s);
}

static void list_remove(req_slot **head, req_slot *s)
{
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        *head = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    s->prev = s->next = NULL;
}

static void list_push(req_slot **head, req_slot *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head) {
        (*head)->prev = s;
    }
    *head = s;
}

/* A spare slot does not hold on to a large body's buffer. */
static void shrink(buf *b)
{
    if (b->cap > SPARE_BUF_MAX) {
        free(b->data);
        *b = (buf){0};
    }
}

/* Back to the spares, with per-request state dropped. */
static void slot_release(req_slot *s)
{
    lw_user *u = s->u;
    easy_release(s, 0);
    curl_slist_free_all(s->req_headers);
    s->req_headers = NULL;
    free(s->error);
    s->error = NULL;
    s->body.len = 0;
    s->body_cut = 0;
    if (s->body.data) {
        s->body.data[0] = '\0';   /* no text of an earlier response */
    }
    shrink(&s->body);
    shrink(&s->x.rbody);
    list_remove(&u->busy, s);
    list_push(&u->spare, s);
    u->inflight--;
}

static void set_error(req_slot *s, const char *kind, const char *text)
{
    char *r = py_repr_str(text);
    free(s->error);
    s->error = NULL;
    if (!r) {
        return;
    }
    size_t n = strlen(kind) + strlen(r) + 3;
    s->error = malloc(n);
    if (s->error) {
        snprintf(s->error, n, "%s(%s)", kind, r);
    }
    free(r);
}

static int set_method(req_slot *s, const lw_request *req, size_t body_len)
{
    CURL *e = s->easy;
    const char *m = s->method;
    int bad = curl_easy_setopt(e, CURLOPT_NOBODY, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) != CURLE_OK;
    if (req->body) {
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)body_len) != CURLE_OK;
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

static int has_content_type(const struct curl_slist *l, const char *const *own)
{
    for (; l; l = l->next) {
        if (strncasecmp(l->data, "content-type:", 13) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; own && own[i]; i++) {
        if (strncasecmp(own[i], "content-type:", 13) == 0) {
            return 1;
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

/* The session's headers, then the request's. A body without a
 * Content-Type goes without one, as with Python requests (and the fast
 * client): "Content-Type:" stops libcurl adding its form-urlencoded one. */
static int set_headers(req_slot *s, const lw_request *req)
{
    struct curl_slist *list = s->u->headers;
    int untyped = req->body && !has_content_type(s->u->headers, req->headers);
    if ((req->headers && req->headers[0]) || untyped) {
        struct curl_slist *own = NULL;
        for (struct curl_slist *h = s->u->headers; h; h = h->next) {
            if (append(&own, h->data) != 0) {
                return -1;
            }
        }
        for (size_t i = 0; req->headers && req->headers[i]; i++) {
            if (append(&own, req->headers[i]) != 0) {
                return -1;
            }
        }
        if (untyped && append(&own, "Content-Type:") != 0) {
            return -1;
        }
        s->req_headers = own;
        list = own;
    }
    return curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, list) == CURLE_OK ? 0 : -1;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* In whole milliseconds, rounded up: a timeout under 1 ms stays a timeout
 * (curl reads 0 as none). */
static long timeout_ms(double seconds)
{
    double ms = ceil(seconds * 1000.0);
    return ms < 1 ? 1 : (long)ms;
}

static int prepare_curl(req_slot *s, const lw_request *req, size_t body_len, double timeout)
{
    if (!s->easy && !(s->easy = easy_bind(s))) {
        return -1;
    }
    if (curl_easy_setopt(s->easy, CURLOPT_URL, s->url.data) != CURLE_OK ||
        set_method(s, req, body_len) || set_headers(s, req) ||
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, timeout_ms(timeout)) != CURLE_OK) {
        return -1;
    }
    return 0;
}

/* The fast client takes the http:// and https:// requests of the classes
 * that use it. */
static int use_fast(const req_slot *s)
{
    int client = s->u->env->client >= 0 ? s->u->env->client : (int)s->u->cls->client;
    return client == LW_CLIENT_FAST && h1_supports(s->url.data);
}

/* The lines of a curl_slist as a NULL-terminated array (malloc'd; the
 * strings stay the list's), or NULL for none or when out of memory. */
static const char **slist_lines(const struct curl_slist *l)
{
    size_t n = 0;
    for (const struct curl_slist *i = l; i; i = i->next) {
        n++;
    }
    const char **lines = n ? malloc((n + 1) * sizeof *lines) : NULL;
    if (lines) {
        n = 0;
        for (const struct curl_slist *i = l; i; i = i->next) {
            lines[n++] = i->data;
        }
        lines[n] = NULL;
    }
    return lines;
}

static int prepare_fast(req_slot *s, const lw_request *req, size_t body_len, double timeout)
{
    lw_user *u = s->u;
    h1_xfer *x = &s->x;
    if (!u->fast && !(u->fast = h1_session_new())) {
        return -1;
    }
    memcpy(x->method, s->method, sizeof x->method);
    x->has_body = req->body != NULL;
    x->body_len = body_len;
    s->req_body.len = 0;
    if (x->has_body && buf_put(&s->req_body, req->body, body_len) != 0) {
        return -1;
    }
    x->body = s->req_body.data;
    x->timeout = timeout;
    x->keep = s->keep_body;
    const char **sess = slist_lines(u->headers);
    if (u->headers && !sess) {
        return -1;
    }
    int rc = h1_xfer_set(u->env->h1, x, s->url.data, sess, req->headers);
    free(sess);
    return rc;
}

/* A URL requests would refuse: the exception's name and message. */
typedef struct {
    const char *kind;
    char *msg;
} bad_url;

/* Spaces, controls and non-ASCII bytes of the path and query escaped, as
 * requests does, for both clients (no CR or LF reaches a request line). */
static int escape_url(req_slot *s)
{
    const char *p = s->url.data;
    while (*p && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) {
        p++;
    }
    if (!*p) {
        return 0;
    }
    buf esc = {0};
    if (h1_url_escape(&esc, s->url.data) != 0) {
        free(esc.data);
        return -1;
    }
    free(s->url.data);
    s->url = esc;
    return 0;
}

/* A request's own timeout: more than 0 and at most MAX_TIMEOUT_S (0 means
 * the worker's default). Anything else is refused like requests refuses
 * one, with a ValueError. */
#define MAX_TIMEOUT_S LW_MAX_TIMEOUT_S

static int check_timeout(double t, bad_url *bad)
{
    char text[200];
    if (t > 0 && t <= MAX_TIMEOUT_S) {
        return 0;
    }
    snprintf(text, sizeof text, "Attempted to set timeout to %g, but the timeout must be more than 0 "
             "and at most %g seconds.", t, MAX_TIMEOUT_S);
    bad->kind = "ValueError";
    bad->msg = strdup(text);
    return bad->msg ? -3 : -1;
}

static int prepare(req_slot *s, const lw_request *req, bad_url *bad)
{
    size_t body_len = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
    double timeout = req->timeout != 0 ? req->timeout : s->u->env->timeout;
    int bad_timeout = check_timeout(timeout, bad);
    if (bad_timeout) {
        return bad_timeout;
    }
    copy_text(s->method, sizeof s->method, req->method ? req->method : "GET");
    const char *name = req->name ? req->name : req->path;
    s->name.len = 0;
    if (buf_put(&s->name, name, stats_name_len(name)) != 0) {
        return -1;
    }
    s->named = req->name != NULL;
    s->cb = req->on_response;
    s->arg = req->arg;
    s->keep_body = req->on_response != NULL;
    s->reason[0] = s->errbuf[0] = '\0';
    s->open_errno = 0;
    int rc = h1_join_url(&s->url, s->u->host ? s->u->host : s->u->env->host, req->path);
    if (rc) {
        return rc;
    }
    if (h1_url_check(s->url.data, &bad->kind, &bad->msg) != 0) {
        return -3;
    }
    if (escape_url(s) != 0) {
        return -1;
    }
    s->fast = use_fast(s);
    return s->fast ? prepare_fast(s, req, body_len, timeout)
                   : prepare_curl(s, req, body_len, timeout);
}

int user_env_set_host(user_env *env, const char *host)
{
    char *copy = strdup(host ? host : "");
    if (!copy) {
        return -1;
    }
    free(env->host);
    env->host = copy;
    return 0;
}

void user_env_free_host(user_env *env)
{
    free(env->host);
    env->host = NULL;
}

static int start(req_slot *s)
{
    lw_user *u = s->u;
    return s->fast ? h1_start(u->env->h1, u->fast, &s->x) : http_start(u->env->http, s->easy);
}

/* A request that could not even start is a failure with no response time:
 * kind(repr(why)), as Locust shows the exception requests raised. */
static void log_unstarted(lw_user *u, const lw_request *req, const char *kind, const char *why)
{
    char *r = py_repr_str(why ? why : "out of memory");
    size_t n = strlen(kind) + (r ? strlen(r) : 7) + 3;
    char *text = malloc(n);
    if (text) {
        snprintf(text, n, "%s(%s)", kind, r ? r : "'error'");
    }
    free(r);
    stats_log(u->env->stats, req->method ? req->method : "GET",
              req->name ? req->name : req->path, 0.0, 0,
              text ? text : "LocustError('out of memory')", now_epoch());
    free(text);
}

int lw_request_send(lw_user *u, const lw_request *req)
{
    if (!req || !req->path || (u->draining && u->phase != PHASE_ON_STOP) ||
        u->phase == PHASE_DONE || u->cancelled) {
        return -1;
    }
    if (ratelimit_defer(u, req)) {
        return 0;   /* waits for a token of --max-rps (ratelimit.c) */
    }
    lw_request printed;
    req = runtasks_wrap(u, req, &printed);   /* --run-tasks prints it */
    req_slot *s = u->spare;
    if (s) {
        list_remove(&u->spare, s);
    } else if (!(s = slot_new(u))) {
        log_unstarted(u, req, "LocustError", "out of memory for a request");
        return -1;
    }
    list_push(&u->busy, s);
    u->inflight++;
    bad_url bad = {NULL, NULL};
    int rc = prepare(s, req, &bad);
    if (rc == 0 && start(s) == 0) {
        return 0;
    }
    if (rc == -3) {
        log_unstarted(u, req, bad.kind, bad.msg);
        free(bad.msg);
    } else {
        log_unstarted(u, req, "LocustError", rc == -2 ? "You must specify the base host. Either in the host attribute in the User class, or on the command line using the --host option."
                                                      : "could not start the request");
    }
    slot_release(s);
    return -1;
}

/* Out of file descriptors: a clear failure text, one ERROR line and one
 * exception to the master per minute, instead of curl's "Couldn't connect". */
static const char *fd_exhausted(req_slot *s)
{
    static double last_report = -1e9;
    static const char text[] =
        "Too many open files: each user holds its own connection; raise the "
        "open-file limit (ulimit -n) or run fewer users per process";
    if (s->open_errno != EMFILE && s->open_errno != ENFILE) {
        return NULL;
    }
    double now = now_mono();
    if (now - last_report >= 60.0) {
        last_report = now;
        log_msg(LOG_ERROR, LOG_USER, "%s", text);
        s->u->env->exception(text, s->u->env->ctx);
    }
    return text;
}

/* Copies curl's error text without the numbers that change from one
 * request to the next (" after 12 ms", " after 1001 milliseconds",
 * " with 0 bytes received"), so one error is one failure row. */
static void stable_text(const char *in, char *out, size_t len)
{
    static const char *const cuts[] = {" after ", " with "};
    size_t n = 0;
    while (*in && n + 1 < len) {
        size_t skip = 0;
        for (size_t i = 0; i < 2 && !skip; i++) {
            size_t cl = strlen(cuts[i]);
            const char *p = in + cl;
            if (strncmp(in, cuts[i], cl) != 0 || *p < '0' || *p > '9') {
                continue;
            }
            while ((*p >= '0' && *p <= '9') || *p == ' ' || strncmp(p, "out of", 6) == 0) {
                p += strncmp(p, "out of", 6) == 0 ? 6 : 1;
            }
            const char *const units[] = {"milliseconds", "ms", "bytes received", "bytes"};
            for (size_t u = 0; u < 4; u++) {
                if (strncmp(p, units[u], strlen(units[u])) == 0) {
                    skip = (size_t)(p + strlen(units[u]) - in);
                    break;
                }
            }
        }
        if (skip) {
            in += skip;
        } else {
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

/* kind(text): Timeout, SSLError or ConnectionError, with the transport's
 * text made stable (no counts, no trailing space) so that one fault is one
 * failure row. */
static void set_transport_error(req_slot *s, const char *kind, const char *raw)
{
    char plain[CURL_ERROR_SIZE];
    const char *text = fd_exhausted(s);
    if (!text) {
        stable_text(raw, plain, sizeof plain);
        text = plain;
        /* "Too large response headers: 309239 > 307200": the count varies */
        static const char big[] = "Too large response headers";
        if (strncmp(plain, big, sizeof big - 1) == 0) {
            plain[sizeof big - 1] = '\0';
        }
        size_t n = strlen(plain);
        while (n > 0 && plain[n - 1] == ' ') {
            plain[--n] = '\0';
        }
        /* libcurl says either, by where its clock ran out in a handshake */
        if (strcmp(plain, "SSL connection timeout") == 0) {
            snprintf(plain, sizeof plain, "Connection timed out");
        }
    }
    set_error(s, kind, text);
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

/* like Locust: with name= the error names the name, so all the URLs
 * grouped under one name give one failure row */
static void set_http_error(req_slot *s, const char *url)
{
    char url_text[STATS_NAME_MAX + 200];
    snprintf(url_text, sizeof url_text, "%ld %s Error: %s for url: %s",
             s->status, s->status < 500 ? "Client" : "Server",
             s->reason, s->named ? s->name.data : url ? url : "");
    set_error(s, "HTTPError", url_text);
}

/* A redirect to a URL requests refuses (file://, a bad host): curl stops
 * at it (CURLOPT_REDIR_PROTOCOLS_STR); the text is requests' exception. */
static int redirect_refused(req_slot *s, CURLcode rc)
{
    char *url = NULL;
    const char *kind = NULL;
    char *msg = NULL;
    if (curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &url) != CURLE_OK || !url) {
        url = NULL;
        if (rc != CURLE_UNSUPPORTED_PROTOCOL ||
            curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url) {
            return 0;
        }
    }
    if (h1_url_check(url, &kind, &msg) == 0) {
        return 0;
    }
    set_error(s, kind, msg ? msg : "out of memory");
    free(msg);
    return 1;
}

static void default_verdict(req_slot *s, CURLcode rc)
{
    if (rc != CURLE_OK && redirect_refused(s, rc)) {
        return;
    }
    if (rc != CURLE_OK) {
        set_transport_error(s, rc == CURLE_OPERATION_TIMEDOUT ? "Timeout"
                               : is_tls_error(rc) ? "SSLError" : "ConnectionError",
                            s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
    } else if (s->status >= 400) {
        char *url = NULL;
        if (!s->named) {
            curl_easy_getinfo(s->easy, CURLINFO_EFFECTIVE_URL, &url);
        }
        set_http_error(s, url);
    }
}

static void read_info(req_slot *s)
{
    curl_off_t total_us = 0, size = 0;
    s->status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(s->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    s->rt_ms = (double)total_us / 1000.0;
    s->content_length = (int64_t)size;
}

/* Judged, shown to the task's callback, logged once; the slot is free. */
static void finish_request(req_slot *s)
{
    lw_user *u = s->u;
    if (s->cb) {
        u->running_fn++;
        s->cb(u, s, s->arg);
        u->running_fn--;
    }
    stats_log(u->env->stats, s->method, s->name.data, s->rt_ms, s->content_length,
              s->error, now_epoch());
    slot_release(s);
    user_settle(u);
}

void user_http_done(CURL *easy, CURLcode rc, void *ctx)
{
    (void)ctx;
    req_slot *s = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s) != CURLE_OK || !s) {
        return;
    }
    read_info(s);
    default_verdict(s, rc);
    finish_request(s);
}

void user_h1_done(h1_xfer *x, void *ctx)
{
    (void)ctx;
    req_slot *s = (req_slot *)((char *)x - offsetof(req_slot, x));
    s->rt_ms = x->rt_ms;
    s->open_errno = x->open_errno;
    if (x->result == H1_ERR_URL) {
        s->status = 0;
        s->content_length = 0;
        set_error(s, x->url_kind, x->url_msg ? x->url_msg : x->errtext);
    } else if (x->result != H1_OK) {
        s->status = 0;
        s->content_length = 0;
        set_transport_error(s, x->result == H1_ERR_TIMEOUT ? "Timeout"
                               : x->result == H1_ERR_TLS ? "SSLError" : "ConnectionError",
                            x->errtext);
    } else {
        s->status = x->p.status;
        s->content_length = x->p.body_bytes;
        copy_text(s->reason, sizeof s->reason, x->p.reason);
        if (s->status >= 400) {
            set_http_error(s, x->url.data);
        }
    }
    finish_request(s);
}

void request_cancel_all(lw_user *u)
{
    while (u->busy) {
        req_slot *s = u->busy;
        if (s->fast) {
            h1_cancel(&s->x);
        } else {
            http_cancel(u->env->http, s->easy);
            easy_release(s, 1);
        }
        slot_release(s);
    }
}

void request_free_spares(lw_user *u)
{
    while (u->spare) {
        req_slot *s = u->spare;
        list_remove(&u->spare, s);
        slot_destroy(s);
    }
}

long lw_response_status(const lw_response *r)
{
    return r->status;
}

const char *lw_response_body(const lw_response *r, size_t *len)
{
    if (r->fast) {
        if (len) {
            *len = r->x.rbody.len;
        }
        return r->x.rbody.data ? r->x.rbody.data : "";
    }
    if (len) {
        *len = r->body.len;
    }
    return r->body.data ? r->body.data : "";
}

int lw_response_body_cut(const lw_response *r)
{
    return r->fast ? r->x.body_cut : r->body_cut;
}

const char *lw_response_header(const lw_response *r, const char *name)
{
    struct curl_header *h = NULL;
    if (r->fast) {
        return h1_header(&r->x, name);
    }
    if (curl_easy_header(r->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK) {
        return NULL;
    }
    return h->value;
}

double lw_response_time_ms(const lw_response *r)
{
    return r->rt_ms;
}

const char *lw_response_error(const lw_response *r)
{
    return r->error;
}

void lw_response_success(lw_response *r)
{
    free(r->error);
    r->error = NULL;
}

void lw_response_failure(lw_response *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    set_error(r, "CatchResponseError", text);
}
