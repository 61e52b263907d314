/*
 * test_h1msg.c - unit tests for worker/h1msg.c, the fast client's messages:
 * which URLs it takes, the URL a request goes to (base host + path, or an
 * absolute URL), redirect targets (absolute, host-relative, path-relative,
 * scheme-relative), the cookie jar (set, replace, delete by Max-Age=0) and
 * the request bytes on the wire (request line, Host, default Accept unless
 * the task sends one, session and request headers, cookies, Content-Length),
 * and how often a host that does not resolve is looked up.
 * Only numeric hosts are used: nothing here asks DNS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/h1.h"
#include "../../worker/h1msg.h"

static h1_engine *engine(void)
{
    h1_engine *h = h1_new(EV_DEFAULT, NULL, NULL);
    assert_non_null(h);
    return h;
}

/* h1_xfer_set with the URL that base and path make. */
static int set_at(h1_engine *h, h1_xfer *x, const char *base, const char *path,
                  const char *const *sess, const char *const *own)
{
    buf url = {0};
    assert_int_equal(url_join(&url, base, path), 0);
    int rc = h1_xfer_set(h, x, url.data, sess, own);
    free(url.data);
    return rc;
}

static void set_get(h1_engine *h, h1_xfer *x, const char *base, const char *path)
{
    strcpy(x->method, "GET");
    x->has_body = 0;
    assert_int_equal(set_at(h, x, base, path, NULL, NULL), 0);
}

static void test_supports(void **state)
{
    (void)state;
    assert_true(url_simple_http("http://127.0.0.1:8080"));
    assert_true(url_simple_http("HTTP://example.com/x"));
    assert_true(url_simple_http("http://[::1]:80/"));
    assert_true(url_simple_http("https://127.0.0.1"));
    assert_true(url_simple_http("HTTPS://example.com:8443/x"));
    assert_false(url_simple_http("https://user:pw@127.0.0.1/"));
    assert_false(url_simple_http("ftp://127.0.0.1/"));
    assert_false(url_simple_http("http://user:pw@127.0.0.1/"));
    assert_false(url_simple_http("http:///nohost"));
    assert_false(url_simple_http(""));
}

static void test_base_and_path(void **state)
{
    (void)state;
    h1_engine *h = engine();
    h1_xfer x = {0};
    set_get(h, &x, "http://127.0.0.1:8080/", "/a?b=1#frag");
    assert_string_equal(x.url.data, "http://127.0.0.1:8080/a?b=1#frag");
    assert_string_equal(x.target.data, "/a?b=1");
    assert_int_equal(x.result, H1_OK);
    assert_int_equal(x.origin->port, 8080);
    /* the same origin is found again, not added */
    set_get(h, &x, "http://127.0.0.1:8080", "/c");
    assert_int_equal(h1_dns_hosts(h->dns), 1);
    /* an absolute URL wins over the base; no path means "/" */
    set_get(h, &x, "http://127.0.0.1:8080", "http://127.0.0.2?q");
    assert_string_equal(x.target.data, "/?q");
    assert_int_equal(x.origin->port, 80);
    assert_int_equal(h1_dns_hosts(h->dns), 2);
    /* IPv6 literal */
    set_get(h, &x, "http://[::1]:9000", "/v6");
    assert_string_equal(x.origin->host, "::1");
    assert_string_equal(x.origin->authority, "[::1]:9000");
    /* a bad port fails the transfer when it starts, not the call */
    set_get(h, &x, "http://127.0.0.1:99999", "/");
    assert_int_equal(x.result, H1_ERR_CONNECTION);
    assert_true(strlen(x.errtext) > 0);
    h1_xfer_free(&x);
    h1_free(h);
}

/* Run the loop until x's origin is no longer being looked up (c-ares). */
static void resolve_now(h1_xfer *x)
{
    for (int i = 0; i < 500 && x->origin->state == H1_DNS_PENDING; i++) {
        ev_run(EV_DEFAULT, EVRUN_ONCE);
    }
    assert_int_not_equal(x->origin->state, H1_DNS_PENDING);
}

/* A host that does not resolve (the only DNS server, $LW_DNS_SERVERS, is a
 * closed loopback port: refused at once, nothing leaves the machine) is
 * failed; it is looked up again only after H1_RESOLVE_RETRY. */
static void test_unresolved_host(void **state)
{
    (void)state;
    assert_int_equal(setenv("LW_DNS_SERVERS", "127.0.0.1:1", 1), 0);
    h1_engine *h = engine();
    h1_xfer x = {0};
    set_get(h, &x, "http://no-such-host.lw.invalid:8080", "/");
    assert_int_equal(x.result, H1_OK); /* known when the answer comes */
    resolve_now(&x);
    assert_int_equal(x.origin->state, H1_DNS_FAILED);
    assert_int_equal(h1_dns_hosts(h->dns), 1);
    double first = x.origin->failed_at;
    assert_true(first > 0);
    set_get(h, &x, "http://no-such-host.lw.invalid:8080", "/again");
    assert_int_equal(x.origin->state, H1_DNS_FAILED); /* not looked up again */
    assert_int_equal(h1_dns_hosts(h->dns), 1);
    assert_true(x.origin->failed_at == first);
    x.origin->failed_at -= H1_RESOLVE_RETRY; /* time passes */
    set_get(h, &x, "http://no-such-host.lw.invalid:8080", "/");
    assert_int_equal(x.origin->state, H1_DNS_PENDING); /* looked up again */
    resolve_now(&x);
    assert_true(x.origin->failed_at > first);
    assert_int_equal(h1_dns_hosts(h->dns), 1);
    h1_xfer_free(&x);
    h1_free(h);
    assert_int_equal(unsetenv("LW_DNS_SERVERS"), 0);
}

/* No lifetime cap: 1,000 hosts come and go through a table of
 * H1_ORIGIN_CACHE; the least recently used leaves it, but one a transfer
 * still uses lives on (and is found again by its connections' authority). */
static void test_host_table_evicts(void **state)
{
    (void)state;
    h1_engine *h = engine();
    h1_xfer keep = {0}, x = {0};
    set_get(h, &keep, NULL, "http://127.0.0.1:1/");
    h1_origin *first = keep.origin;
    char url[64];
    for (int port = 2; port <= 1000; port++) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
        set_get(h, &x, NULL, url);
        assert_int_equal(x.result, H1_OK);
        assert_int_equal(x.origin->state, H1_DNS_OK); /* numeric: at once */
        assert_true(h1_dns_hosts(h->dns) <= H1_ORIGIN_CACHE);
    }
    assert_int_equal(h1_dns_hosts(h->dns), H1_ORIGIN_CACHE);
    assert_int_equal(first->port, 1); /* still alive */
    assert_string_equal(first->authority, "127.0.0.1:1");
    set_get(h, &x, NULL, "http://127.0.0.1:1/"); /* back in the table */
    assert_int_equal(x.origin->port, 1);
    assert_int_equal(x.origin->state, H1_DNS_OK);
    h1_xfer_free(&keep);
    h1_xfer_free(&x);
    h1_free(h);
}

static void test_redirect_targets(void **state)
{
    (void)state;
    static const struct {
        const char *from, *loc, *to;
    } cases[] = {
        {"http://127.0.0.1:81/a/b?x", "/c", "http://127.0.0.1:81/c"},
        {"http://127.0.0.1:81/a/b?x", "c?y", "http://127.0.0.1:81/a/c?y"},
        {"http://127.0.0.1:81", "c", "http://127.0.0.1:81/c"},
        {"http://127.0.0.1:81/a", "http://127.0.0.3:82/z", "http://127.0.0.3:82/z"},
        {"http://127.0.0.1:81/a", "//127.0.0.4/w", "http://127.0.0.4/w"},
        {"http://127.0.0.1:81/dir/page?x=1", "?page=2", "http://127.0.0.1:81/dir/page?page=2"},
        {"http://127.0.0.1:81/dir/page?x=1#f", "#top", "http://127.0.0.1:81/dir/page?x=1#top"},
    };
    h1_engine *h = engine();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h1_xfer x = {0};
        set_get(h, &x, NULL, cases[i].from);
        assert_int_equal(h1_retarget(&x, cases[i].loc), 0);
        assert_string_equal(x.url.data, cases[i].to);
        assert_int_equal(x.result, H1_OK);
        h1_xfer_free(&x);
    }
    h1_xfer x = {0};
    set_get(h, &x, NULL, "http://127.0.0.1:81/a");
    assert_int_equal(h1_retarget(&x, "https://127.0.0.1/secure"), 0); /* stays on the fast client */
    assert_int_equal(x.result, H1_OK);
    assert_string_equal(x.url.data, "https://127.0.0.1/secure");
    assert_int_equal(x.origin->tls, 1);
    assert_int_equal(x.origin->port, 443);
    assert_string_equal(x.target.data, "/secure");
    set_get(h, &x, NULL, "http://127.0.0.1:81/a");
    assert_int_equal(h1_retarget(&x, "ftp://127.0.0.1/file"), 0); /* not a path */
    assert_int_equal(x.result, H1_ERR_URL);                       /* requests' text (url.c) */
    assert_string_equal(x.url_kind, "InvalidSchema");
    assert_string_equal(x.url_msg, "No connection adapters were found for 'ftp://127.0.0.1/file'");
    set_get(h, &x, NULL, "http://127.0.0.1:81/a");
    assert_int_equal(h1_retarget(&x, "http://a b/"), 0); /* no space into a Host line */
    assert_int_equal(x.result, H1_ERR_URL);
    assert_string_equal(x.url_kind, "InvalidURL");
    h1_xfer_free(&x);
    h1_free(h);
}

static const char *cookie_header(h1_engine *h, h1_xfer *x)
{
    assert_int_equal(h1_build(&h->wbuf, x), 0);
    return strstr(h->wbuf.data, "Cookie: ");
}

/* A Set-Cookie from a response to 127.0.0.1, path "/". */
static void set_cookie(h1_session *s, const char *v)
{
    h1_cookie_set(&s->jar, "127.0.0.1", "/", v, strlen(v));
}

static void test_cookies(void **state)
{
    (void)state;
    h1_engine *h = engine();
    h1_session *s = h1_session_new();
    h1_xfer x = {0};
    set_get(h, &x, "http://127.0.0.1:8080", "/");
    x.s = s;
    assert_null(cookie_header(h, &x));
    set_cookie(s, "session=abc; Path=/; HttpOnly");
    set_cookie(s, "lang=en");
    const char *c = cookie_header(h, &x);
    assert_non_null(c);
    assert_memory_equal(c, "Cookie: session=abc; lang=en\r\n", 30); /* oldest first */
    set_cookie(s, "session=xyz"); /* replaced in its place, not added */
    c = cookie_header(h, &x);
    assert_memory_equal(c, "Cookie: session=xyz; lang=en\r\n", 30);
    set_cookie(s, "session=; Max-Age=0");
    c = cookie_header(h, &x);
    assert_memory_equal(c, "Cookie: lang=en\r\n", 17);
    set_cookie(s, "keep=1; Max-Age=05");                           /* five seconds: kept */
    set_cookie(s, "lang=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"); /* expired: deleted */
    c = cookie_header(h, &x);
    assert_memory_equal(c, "Cookie: keep=1\r\n", 16);
    set_cookie(s, "lang=en; expires=Fri, 01 Jan 2100 00:00:00 GMT");
    set_cookie(s, "=novalue"); /* no name: ignored */
    set_cookie(s, "noequals");
    c = cookie_header(h, &x);
    assert_memory_equal(c, "Cookie: keep=1; lang=en\r\n", 25);
    h1_xfer_free(&x);
    h1_session_free(s);
    h1_free(h);
}

/* The Cookie line of a request to host and target, "" for none (no
 * request is built: no name is resolved). */
static const char *cookies_for(h1_session *s, const char *host, const char *target)
{
    static char line[4096];
    buf b = {0};
    assert_int_equal(h1_cookies_put(&b, &s->jar, host, target, 0), 0);
    size_t n = b.data ? strcspn(b.data, "\r") : 0;
    snprintf(line, sizeof line, "%.*s", (int)n, b.data ? b.data : "");
    free(b.data);
    return line;
}

/* Scoped like requests' jar (the same answers as http.cookiejar for these
 * rows, but for Domain=0.0.1 from 127.0.0.1, which it takes and browsers
 * refuse): host-only by default, Domain, Path, Secure; ports do not count. */
static void test_cookie_scope(void **state)
{
    (void)state;
    h1_session *s = h1_session_new();
    const char *v = "session=SECRET; Path=/admin";
    h1_cookie_set(&s->jar, "127.0.0.1", "/admin/login", v, strlen(v));
    v = "dflt=1"; /* default path: /admin */
    h1_cookie_set(&s->jar, "127.0.0.1", "/admin/login?x=/y", v, strlen(v));
    v = "sec=1; Secure";
    h1_cookie_set(&s->jar, "127.0.0.1", "/", v, strlen(v));
    v = "root=1";
    h1_cookie_set(&s->jar, "127.0.0.1", "/", v, strlen(v));
    assert_string_equal(cookies_for(s, "127.0.0.1", "/admin"),
                        "Cookie: session=SECRET; dflt=1; root=1");
    assert_string_equal(cookies_for(s, "127.0.0.1", "/admin/x?q"),
                        "Cookie: session=SECRET; dflt=1; root=1");
    assert_string_equal(cookies_for(s, "127.0.0.1", "/administrator"), "Cookie: root=1");
    assert_string_equal(cookies_for(s, "127.0.0.1", "/"), "Cookie: root=1");
    { /* over https, the Secure cookie goes too */
        buf b = {0};
        assert_int_equal(h1_cookies_put(&b, &s->jar, "127.0.0.1", "/", 1), 0);
        assert_non_null(b.data);
        assert_memory_equal(b.data, "Cookie: sec=1; root=1\r\n", 23);
        free(b.data);
    }
    assert_string_equal(cookies_for(s, "127.0.0.2", "/admin"), "");
    /* Domain: sent to that domain and its subdomains; a foreign one refused */
    v = "d=1; Domain=.example.test; Path=/";
    h1_cookie_set(&s->jar, "www.example.test", "/", v, strlen(v));
    v = "evil=1; Domain=other.test";
    h1_cookie_set(&s->jar, "www.example.test", "/", v, strlen(v));
    v = "ho=1";
    h1_cookie_set(&s->jar, "www.example.test", "/", v, strlen(v));
    v = "ipdom=1; Domain=0.0.1"; /* no subdomains of an IP */
    h1_cookie_set(&s->jar, "127.0.0.1", "/", v, strlen(v));
    v = "tld=1; Domain=test"; /* a whole top-level domain */
    h1_cookie_set(&s->jar, "www.example.test", "/", v, strlen(v));
    v = "lh=1; Domain=localhost"; /* no inner dot: refused too */
    h1_cookie_set(&s->jar, "localhost", "/", v, strlen(v));
    assert_string_equal(cookies_for(s, "localhost", "/"), "");
    assert_string_equal(cookies_for(s, "test", "/"), "");
    assert_string_equal(cookies_for(s, "example.test", "/"), "Cookie: d=1");
    assert_string_equal(cookies_for(s, "a.b.example.test", "/"), "Cookie: d=1");
    assert_string_equal(cookies_for(s, "www.example.test", "/"), "Cookie: d=1; ho=1");
    assert_string_equal(cookies_for(s, "other.test", "/"), "");
    assert_string_equal(cookies_for(s, "badexample.test", "/"), "");
    assert_string_equal(cookies_for(s, "127.0.0.1", "/"), "Cookie: root=1");
    /* the same name on another path is another cookie */
    v = "session=OTHER; Path=/";
    h1_cookie_set(&s->jar, "127.0.0.1", "/", v, strlen(v));
    assert_string_equal(cookies_for(s, "127.0.0.1", "/admin/"),
                        "Cookie: session=SECRET; dflt=1; root=1; session=OTHER");
    h1_session_free(s);
}

/* Bounded like a browser's jar: 4 KB a cookie, 50 per domain (the oldest
 * goes), 500 in all. */
static void test_cookie_bounds(void **state)
{
    (void)state;
    h1_session *s = h1_session_new();
    static char big[H1_COOKIE_MAX_BYTES + 16];
    memset(big, 'v', sizeof big - 1);
    memcpy(big, "big=", 4);
    h1_cookie_set(&s->jar, "127.0.0.1", "/", big, sizeof big - 1);
    assert_int_equal(s->jar.ncookies, 0);
    big[H1_COOKIE_MAX_BYTES] = '\0'; /* 4096 bytes: kept */
    h1_cookie_set(&s->jar, "127.0.0.1", "/", big, H1_COOKIE_MAX_BYTES);
    assert_int_equal(s->jar.ncookies, 1);
    char v[64];
    /* a Path too long to keep, or a default path too long: ignored */
    static char longpath[2100];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[0] = longpath[sizeof longpath - 3] = '/';
    h1_cookie_set(&s->jar, "127.0.0.1", longpath, "lp=1", 4);
    assert_int_equal(s->jar.ncookies, 1);
    char attr[1100] = "lp=1; Path=/";
    memset(attr + strlen(attr), 'q', 1050);
    h1_cookie_set(&s->jar, "127.0.0.1", "/", attr, strlen(attr));
    assert_int_equal(s->jar.ncookies, 1);
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(v, sizeof v, "c%d=%d", i, i);
        h1_cookie_set(&s->jar, "127.0.0.1", "/", v, (size_t)n);
    }
    assert_int_equal(s->jar.ncookies, H1_COOKIES_PER_DOMAIN);
    const char *c = cookies_for(s, "127.0.0.1", "/");
    assert_non_null(strstr(c, "c99999=99999"));
    assert_null(strstr(c, "c99949=")); /* the oldest went */
    assert_non_null(strstr(c, "c99950="));
    for (int d = 0; d < 20; d++) {
        for (int i = 0; i < 50; i++) {
            int n = snprintf(v, sizeof v, "k%d=%d", i, d);
            char host[32];
            snprintf(host, sizeof host, "h%d.test", d);
            h1_cookie_set(&s->jar, host, "/", v, (size_t)n);
        }
    }
    assert_int_equal(s->jar.ncookies, H1_COOKIES_PER_SESSION);
    h1_session_free(s);
}

/* 100,000 random Set-Cookie values (attributes, separators, controls)
 * from random hosts and paths: under ASan/UBSan never a crash, the jar
 * within its bounds, every Cookie line within them too. */
static void test_cookie_random(void **state)
{
    (void)state;
    static const char *const parts[] = {"a=1",
                                        "b=",
                                        "=x",
                                        ";",
                                        "; ",
                                        "Path=",
                                        "Path=/a",
                                        "path=/a/b/",
                                        "Domain=",
                                        "Domain=.h.test",
                                        "domain=test",
                                        "Secure",
                                        "Max-Age=",
                                        "Max-Age=-1",
                                        "max-age=99999999999999999999",
                                        "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                                        "expires=junk",
                                        " ",
                                        "\t",
                                        "x",
                                        "=",
                                        "\x01"};
    static const char *const hosts[] = {"h.test", "a.h.test", "127.0.0.1", "test"};
    static const char *const paths[] = {"/", "/a", "/a/b/c?x=/y", "", "?q"};
    unsigned seed = 777;
    h1_session *s = h1_session_new();
    char v[256];
    for (int i = 0; i < 100000; i++) {
        size_t n = 0;
        int k = rand_r(&seed) % 8;
        for (int j = 0; j < k; j++) {
            n += (size_t)snprintf(v + n, sizeof v - n, "%s",
                                  parts[rand_r(&seed) % (sizeof parts / sizeof parts[0])]);
        }
        const char *host = hosts[rand_r(&seed) % 4], *path = paths[rand_r(&seed) % 5];
        h1_cookie_set(&s->jar, host, path, v, n);
        assert_true(s->jar.ncookies <= H1_COOKIES_PER_SESSION);
        if (i % 100 == 0) {
            buf b = {0};
            assert_int_equal(h1_cookies_put(&b, &s->jar, host, path, 0), 0);
            assert_true(b.len < (size_t)H1_COOKIES_PER_SESSION * (H1_COOKIE_MAX_BYTES + 2) + 16);
            free(b.data);
        }
    }
    h1_session_free(s);
}

static void test_request_bytes(void **state)
{
    (void)state;
    h1_engine *h = engine();
    h1_session *s = h1_session_new();
    const char *const sess[] = {"Authorization: Bearer k", NULL};
    const char *const own[] = {"Content-Type: application/json", "X-Empty:", NULL};
    h1_xfer x = {0};
    strcpy(x.method, "POST");
    x.has_body = 1;
    x.body = "{\"a\":1}";
    x.body_len = 7;
    x.s = s;
    assert_int_equal(set_at(h, &x, "http://127.0.0.1:8080/", "/v1/x", sess, own), 0);
    assert_int_equal(h1_build(&h->wbuf, &x), 0);
    assert_string_equal(h->wbuf.data, "POST /v1/x HTTP/1.1\r\n"
                                      "Host: 127.0.0.1:8080\r\n"
                                      "Authorization: Bearer k\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Accept: */*\r\n"
                                      "Content-Length: 7\r\n"
                                      "\r\n"
                                      "{\"a\":1}");
    /* a task's own Accept replaces the default one */
    const char *const accept[] = {"Accept: application/json", NULL};
    strcpy(x.method, "GET");
    x.has_body = 0;
    assert_int_equal(set_at(h, &x, "http://127.0.0.1:8080", "/", NULL, accept), 0);
    assert_int_equal(h1_build(&h->wbuf, &x), 0);
    assert_string_equal(h->wbuf.data, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                                      "Accept: application/json\r\n\r\n");
    /* the task's Host replaces the client's; its Content-Length is dropped
     * (the client writes the body's); spaces and non-ASCII are escaped */
    const char *const host[] = {"Host: vhost.example", "Content-Length: 99", NULL};
    assert_int_equal(set_at(h, &x, "http://127.0.0.1:8080", "/a b/\xc3\xa9", NULL, host), 0);
    assert_int_equal(h1_build(&h->wbuf, &x), 0);
    assert_string_equal(h->wbuf.data, "GET /a%20b/%C3%A9 HTTP/1.1\r\nHost: vhost.example\r\n"
                                      "Accept: */*\r\n\r\n");
    /* dropping header lines by name, case-insensitively */
    static const char *const drop[] = {"host:", "accept:", NULL};
    h1_drop_headers(&x, drop);
    assert_int_equal(x.hdrs.len, 0);
    h1_xfer_free(&x);
    h1_session_free(s);
    h1_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supports),         cmocka_unit_test(test_base_and_path),
        cmocka_unit_test(test_unresolved_host),  cmocka_unit_test(test_host_table_evicts),
        cmocka_unit_test(test_redirect_targets), cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_cookie_scope),     cmocka_unit_test(test_cookie_bounds),
        cmocka_unit_test(test_cookie_random),    cmocka_unit_test(test_request_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
