/*
 * curl_conn.c - the curl client's kept plain-HTTP connections (curl_conn.h):
 * libcurl's socket callbacks (open, socket options, close) and the verdict
 * at the end of a transfer: keep the last connection for the user, close
 * it, or run the transfer again once on a fresh one.
 *
 * libcurl 7.88 calls the close callback for every socket of a connection
 * it made with the callback set, and with CURLOPT_FORBID_REUSE it closes
 * every connection of a transfer before the transfer is reported done, so
 * no socket of ours outlives the transfer inside libcurl. A socket handed
 * out again is not one libcurl knows as reused (it never retries on it):
 * the retry after a dead kept connection is ours.
 */
#include "curl_conn.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * libcurl 7.88.0 and 7.88.1 call connect() on a socket even after the
 * socket-option callback said CURL_SOCKOPT_ALREADY_CONNECTED (fixed in
 * 8.0.0), which fails with EISCONN on the kept connection. The one socket
 * on_sockopt has just declared connected, on this thread, is let through:
 * connect() on it returns 0 at once (libcurl then checks, as after any
 * connect, that the socket is writable and has no pending error). Every
 * other call goes on to the connect() that this one hides (the C
 * library's, or a preloaded library's such as a SOCKS wrapper's).
 */
static _Thread_local int handing = -1;

typedef int (*connect_fn)(int, __CONST_SOCKADDR_ARG, socklen_t);

int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    static _Thread_local connect_fn next; /* per thread: no shared write */
    if (fd >= 0 && fd == handing) {
        handing = -1;
        return 0;
    }
    if (!next) {
        next = (connect_fn)dlsym(RTLD_NEXT, "connect");
    }
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd, addr, len);
}

/* Whether this libcurl calls connect() after ALREADY_CONNECTED. */
static int connects_anyway(void)
{
    static int anyway = -1;
    if (anyway < 0) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        anyway = v && (v->version_num >> 8) == 0x0758; /* 7.88.x */
    }
    return anyway;
}

int curl_conn_enabled(void)
{
    static int enabled = -1;
    if (enabled < 0) {
        /* the variables libcurl reads for an http:// URL */
        static const char *const names[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
        enabled = 1;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            const char *v = getenv(names[i]);
            if (v && *v) {
                enabled = 0;
            }
        }
    }
    return enabled;
}

void curl_conn_init(curl_conn *c)
{
    c->fd = -1;
    c->alen = 0;
    c->origin = NULL;
}

void curl_conn_close(curl_conn *c)
{
    if (c->fd >= 0) {
        (void)close(c->fd); /* nothing to do about a failed close */
    }
    free(c->origin);
    curl_conn_init(c);
}

/* Length of "http://authority" at the start of url, or 0 when url is not
 * plain http://. */
static size_t origin_len(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0) {
        return 0;
    }
    return 7 + strcspn(url + 7, "/?#");
}

static int matches(const curl_conn *c, const char *url, size_t olen, const struct curl_sockaddr *a)
{
    return c->fd >= 0 && c->origin && strlen(c->origin) == olen &&
           memcmp(c->origin, url, olen) == 0 && c->alen == a->addrlen &&
           memcmp(&c->addr, &a->addr, a->addrlen) == 0;
}

/* An idle connection is usable when the server has neither closed it nor
 * sent anything unasked: nothing to read, and no error. */
static int idle_alive(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int free_entry(const curl_conn_xfer *x)
{
    for (int i = 0; i < CURL_CONN_OPEN_MAX; i++) {
        if (x->open[i].fd < 0) {
            return i;
        }
    }
    return -1;
}

static void close_entry(curl_conn_xfer *x, int i)
{
    curl_conn_close(&x->open[i]);
    if (x->reused == i) {
        x->reused = -1;
    }
    if (x->parked == i) {
        x->parked = -1;
    }
}

/* The user's kept connection, when it fits the connection libcurl is about
 * to make and is still alive; it moves into entry i. */
static curl_socket_t take_kept(curl_conn_xfer *x, int i, const char *url, size_t olen,
                               const struct curl_sockaddr *a)
{
    if (!x->kept || !matches(x->kept, url, olen, a)) {
        return CURL_SOCKET_BAD;
    }
    curl_conn c = *x->kept;
    curl_conn_init(x->kept);
    if (!idle_alive(c.fd)) {
        curl_conn_close(&c);
        return CURL_SOCKET_BAD;
    }
    x->open[i] = c;
    x->reused = i;
    return c.fd;
}

static void record(curl_conn_xfer *x, int i, int fd, const char *url, size_t olen,
                   const struct curl_sockaddr *a)
{
    curl_conn *c = &x->open[i];
    c->fd = fd;
    c->alen = a->addrlen;
    memcpy(&c->addr, &a->addr, a->addrlen);
    c->origin = strndup(url, olen); /* NULL: not kept, closed at the end */
}

static int reusable(CURL *e, int request, int64_t body_len);

/* A redirect to the same origin: the connection the last response left
 * fit for another request carries on, as libcurl's own reuse would. By
 * now libcurl counts the redirect's request: the response is the one
 * before it; and it no longer tells how much of a body went out, so a
 * request with a body goes on a fresh connection. */
static curl_socket_t take_parked(curl_conn_xfer *x, const char *url, size_t olen,
                                 const struct curl_sockaddr *a)
{
    int p = x->parked;
    long hops = 0;
    if (x->body_len > 0 || !matches(&x->open[p], url, olen, a) || /* body sent in full? */
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &hops) != CURLE_OK || hops < 1 ||
        !reusable(x->easy, (int)hops - 1, 0) || !idle_alive(x->open[p].fd)) {
        return CURL_SOCKET_BAD;
    }
    x->parked = -1;
    x->reused = p;
    return x->open[p].fd;
}

static curl_socket_t fresh_socket(curl_conn_xfer *x, const struct curl_sockaddr *a)
{
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    if (fd == CURL_SOCKET_BAD) {
        x->open_errno = errno;
        return fd;
    }
    int one = 1;
    if (a->socktype == SOCK_STREAM && (a->family == AF_INET || a->family == AF_INET6) &&
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        /* as libcurl's own TCP_NODELAY: not worth failing the request for */
    }
    return fd;
}

static curl_socket_t on_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_conn_xfer *x = clientp;
    const char *url = NULL;
    size_t olen = 0;
    handing = -1;
    if (x->mode != CURL_CONN_KEPT) {
        return fresh_socket(x, a);
    }
    if (purpose == CURLSOCKTYPE_IPCXN && a->socktype == SOCK_STREAM &&
        a->addrlen <= sizeof x->open[0].addr &&
        curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) {
        olen = origin_len(url);
    }
    curl_socket_t fd = olen && x->parked >= 0 ? take_parked(x, url, olen, a) : CURL_SOCKET_BAD;
    if (x->parked >= 0) {
        close_entry(x, x->parked); /* an earlier hop's, not fit to go on */
    }
    if (fd != CURL_SOCKET_BAD) {
        return fd;
    }
    int i = olen ? free_entry(x) : -1;
    if (i >= 0 && (fd = take_kept(x, i, url, olen, a)) != CURL_SOCKET_BAD) {
        return fd;
    }
    fd = fresh_socket(x, a);
    if (fd != CURL_SOCKET_BAD && i >= 0) {
        record(x, i, fd, url, olen, a);
    }
    return fd;
}

static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    curl_conn_xfer *x = clientp;
    (void)purpose;
    handing = -1;
    if (x->reused < 0 || x->open[x->reused].fd != fd) {
        return CURL_SOCKOPT_OK;
    }
    if (connects_anyway()) {
        handing = fd;
    }
    return CURL_SOCKOPT_ALREADY_CONNECTED;
}

/* libcurl is done with fd. Ours stays open until the transfer's verdict
 * (only the last one may be kept); any other is closed. */
static int on_close(void *clientp, curl_socket_t fd)
{
    curl_conn_xfer *x = clientp;
    handing = -1;
    for (int i = 0; i < CURL_CONN_OPEN_MAX; i++) {
        if (x->open[i].fd == fd) {
            if (x->parked >= 0 && x->parked != i) {
                close_entry(x, x->parked);
            }
            x->parked = i;
            return 0;
        }
    }
    return close(fd);
}

int curl_conn_setup(curl_conn_xfer *x, CURL *easy, curl_conn *kept, curl_conn_mode mode,
                    int64_t body_len)
{
    x->easy = easy;
    x->body_len = body_len;
    x->kept = kept;
    x->mode = mode;
    x->parked = x->reused = -1;
    x->open_errno = 0;
    for (int i = 0; i < CURL_CONN_OPEN_MAX; i++) {
        curl_conn_init(&x->open[i]);
    }
    long ours = mode != CURL_CONN_LIBCURL;
    int bad = 0;
    bad |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION,
                            mode == CURL_CONN_KEPT ? on_close : NULL) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, ours) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, ours) != CURLE_OK;
    bad |= curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 0L) != CURLE_OK; /* on_open's */
    return bad ? -1 : 0;
}

static int has_header(CURL *e, int request, const char *name, const char *token)
{
    struct curl_header *h = NULL;
    for (size_t i = 0; curl_easy_header(e, name, i, CURLH_HEADER, request, &h) == CURLHE_OK; i++) {
        if (!token || (h->value && strcasestr(h->value, token))) {
            return 1;
        }
        if (i + 1 >= h->amount) {
            break;
        }
    }
    return 0;
}

/* The last response (request: its index in the transfer, -1 for the
 * last) leaves its connection fit for another request: HTTP/1.1, no
 * "Connection: close", the request's body sent in full, and a body whose
 * end the response said (not one that ends at the close). */
static int reusable(CURL *e, int request, int64_t body_len)
{
    long version = 0, status = 0;
    curl_off_t sent = 0;
    const char *method = NULL;
    if (curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version) != CURLE_OK ||
        version != CURL_HTTP_VERSION_1_1 ||
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        return 0;
    }
    if (body_len > 0 &&
        (curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &sent) != CURLE_OK || sent < body_len)) {
        return 0;
    }
    if (has_header(e, request, "Connection", "close")) {
        return 0;
    }
    int bodiless = status == 204 || status == 304 ||
                   (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_METHOD, &method) == CURLE_OK &&
                    method && strcmp(method, "HEAD") == 0);
    return bodiless || has_header(e, request, "Content-Length", NULL) ||
           has_header(e, request, "Transfer-Encoding", "chunked");
}

/* The kept connection was dead (the server closed it while idle, after
 * the check): libcurl sent on it and got no answer at all. */
static int died_unanswered(CURL *e, CURLcode rc)
{
    long header_bytes = 0;
    if (rc != CURLE_GOT_NOTHING && rc != CURLE_SEND_ERROR && rc != CURLE_RECV_ERROR) {
        return 0;
    }
    return curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &header_bytes) == CURLE_OK &&
           header_bytes == 0;
}

int curl_conn_done(curl_conn_xfer *x, CURLcode rc)
{
    int retry = 0;
    if (x->easy && x->mode == CURL_CONN_KEPT && x->parked >= 0) {
        curl_conn *c = &x->open[x->parked];
        if (rc == CURLE_OK && c->origin && x->kept && reusable(x->easy, -1, x->body_len)) {
            curl_conn_close(x->kept); /* another request's, if any: one kept */
            *x->kept = *c;
            curl_conn_init(c);
            x->parked = -1;
        } else if (rc != CURLE_OK && x->parked == x->reused) {
            retry = died_unanswered(x->easy, rc);
        }
    }
    curl_conn_abandon(x);
    return retry;
}

/*
 * Only the parked socket is still open and ours to close: by the end of a
 * transfer libcurl has let go of every other one, through on_close, or
 * (one it tore down while still connecting) with close() of its own, and
 * that number may belong to a newer socket by now.
 */
void curl_conn_abandon(curl_conn_xfer *x)
{
    handing = -1;
    if (!x->easy) {
        return; /* never set up */
    }
    for (int i = 0; i < CURL_CONN_OPEN_MAX; i++) {
        if (i != x->parked) {
            x->open[i].fd = -1;
        }
        close_entry(x, i);
    }
    x->easy = NULL;
}
