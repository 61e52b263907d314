/*
 * test_url.c - unit tests for worker/url.c: the URL checks both HTTP
 * clients apply before sending, one cmocka test per row. Each refused URL's
 * expected text is what Python requests 2.34 / urllib3 2.8 (the pinned
 * venv) raise for it: kind(message) as Locust shows it; the integration
 * test test_http_clients.py::test_refused_urls compares with requests live.
 * Also the escaping of path and query bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/url.h"

typedef struct {
    const char *url;
    const char *kind; /* NULL: accepted */
    const char *msg;
} row;

static const row rows[] = {
    {"http://127.0.0.1:8080/", NULL, NULL},
    {"HTTP://Example.com/x?y#z", NULL, NULL},
    {"https://[::1]:443/", NULL, NULL},
    {"http://user:pw@host:1/", NULL, NULL},
    {"http://host:/", NULL, NULL},
    {"http://host.example./", NULL, NULL},
    {"http://127.0.0.1:9/a\r\nX-Evil: 1", NULL, NULL}, /* the path is escaped, not refused */
    {"file:///etc/os-release?/", "InvalidSchema",
     "No connection adapters were found for 'file:///etc/os-release?/'"},
    {"gopher://127.0.0.1:1/x", "InvalidSchema",
     "No connection adapters were found for 'gopher://127.0.0.1:1/x'"},
    {"dict://127.0.0.1:1/x", "InvalidSchema",
     "No connection adapters were found for 'dict://127.0.0.1:1/x'"},
    {"javascript:alert(1)", "InvalidSchema",
     "No connection adapters were found for 'javascript:alert(1)'"},
    {"127.0.0.1:8080/", "InvalidSchema", "No connection adapters were found for '127.0.0.1:8080/'"},
    {"example.com/", "MissingSchema",
     "Invalid URL 'example.com/': No scheme supplied. Perhaps you meant https://example.com/?"},
    {"http://127.0.0.1\r\nX-Evil: 1/", "InvalidURL",
     "Failed to parse: Host '127.0.0.1\\r\\nX-Evil: 1' contains invalid character '\\r'"},
    {"http://127.0.0.1:1\r\nX: y", "InvalidURL",
     "Failed to parse: Host '127.0.0.1:1\\r\\nX: y' contains invalid character '\\r'"},
    {"http://exa\001mple.com/", "InvalidURL",
     "Failed to parse: Host 'exa\\x01mple.com' contains invalid character '\\x01'"},
    {"http://a\tb/", "InvalidURL",
     "Failed to parse: Host 'a\\tb' contains invalid character '\\t'"},
    {"http://ex ample.com/", "InvalidURL",
     "Failed to parse: Host 'ex ample.com' contains invalid character ' '"},
    {"http://127.0.0.1:9\x7f/", "InvalidURL",
     "Failed to parse: Host '127.0.0.1:9\\x7f' contains invalid character '\\x7f'"},
    {"http://127.0.0.1:99999/", "InvalidURL", "Failed to parse: http://127.0.0.1:99999/"},
    {"http://127.0.0.1:abc/", "InvalidURL",
     "Failed to parse: '127.0.0.1:abc' is not a valid host or port"},
    {"http:///x", "InvalidURL", "Invalid URL 'http:///x': No host supplied"},
    {"http://:80/", "InvalidURL", "Invalid URL 'http://:80/': No host supplied"},
    {"http://a..b/", "LocationParseError", "Failed to parse: 'a..b', label empty or too long"},
    {"http://AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
     "LocationParseError",
     "Failed to parse: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', label empty or too long"},
};

static void test_row(void **state)
{
    const row *r = *state;
    const char *kind = NULL;
    char *msg = NULL;
    int rc = url_check(r->url, &kind, &msg);
    if (!r->kind) {
        assert_int_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, -1);
    assert_string_equal(kind, r->kind);
    assert_non_null(msg);
    assert_string_equal(msg, r->msg);
    free(msg);
}

/* A host of 1,100 bytes: refused with the whole host in the text. */
static void test_long_host_whole(void **state)
{
    (void)state;
    char url[1200], want[1200];
    memset(url, 'a', sizeof url);
    memcpy(url, "http://", 7);
    strcpy(url + 7 + 1100, "/");
    snprintf(want, sizeof want, "Failed to parse: '%.*s', label empty or too long", 1100, url + 7);
    const char *kind = NULL;
    char *msg = NULL;
    assert_int_equal(url_check(url, &kind, &msg), -1);
    assert_string_equal(kind, "LocationParseError");
    assert_string_equal(msg, want);
    free(msg);
}

/* 200,000 random URLs (random bytes after an http:// prefix, or none):
 * under ASan/UBSan, a verdict for each, a message for each refusal, never
 * a crash; an accepted one has no control character in its host (user
 * info before an '@' is not the host: requests sends it encoded, in an
 * Authorization header). */
static void test_random_urls(void **state)
{
    (void)state;
    static const char alphabet[] = "ab.:/?#@[]%09 \r\n\t\x01\x7f\xff-";
    unsigned seed = 12345;
    char url[80];
    for (int i = 0; i < 200000; i++) {
        size_t n = (size_t)(rand_r(&seed) % 40), at = 0;
        if (rand_r(&seed) % 4) {
            at =
                (size_t)snprintf(url, sizeof url, "%s", rand_r(&seed) % 2 ? "http://" : "https://");
        }
        for (size_t j = 0; j < n; j++) {
            char c = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
            url[at++] = c ? c : 'x';
        }
        url[at] = '\0';
        const char *kind = NULL;
        char *msg = NULL;
        if (url_check(url, &kind, &msg) == 0) {
            const char *host = strstr(url, "://") + 3;
            size_t hl = strcspn(host, "/?#");
            for (const char *sep; (sep = memchr(host, '@', hl));) { /* user info: not the host */
                hl -= (size_t)(sep + 1 - host);
                host = sep + 1;
            }
            for (size_t j = 0; j < hl; j++) {
                assert_true((unsigned char)host[j] > 0x20 && (unsigned char)host[j] != 0x7f);
            }
        } else {
            assert_non_null(kind);
            assert_non_null(msg);
            free(msg);
        }
    }
}

static void test_escape(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(url_escape(&b, "http://h:1/a b\r\nX: \xc3\xa9?q=\x7f#f g"), 0);
    assert_string_equal(b.data, "http://h:1/a%20b%0D%0AX:%20%C3%A9?q=%7F#f%20g");
    assert_int_equal(url_escape(&b, "http://h/plain?x=1"), 0);
    assert_string_equal(b.data, "http://h/plain?x=1");
    free(b.data);
}

int main(void)
{
    enum { N = sizeof rows / sizeof rows[0] };
    static const struct CMUnitTest others[] = {
        cmocka_unit_test(test_long_host_whole),
        cmocka_unit_test(test_random_urls),
        cmocka_unit_test(test_escape),
    };
    /* A test per row of rows[], named after its number, then the others. */
    struct CMUnitTest tests[N + sizeof others / sizeof others[0]];
    static char names[N][32];
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "url_check_row_%02zu", i);
        tests[i] = (struct CMUnitTest){
            .name = names[i], .test_func = test_row, .initial_state = (void *)&rows[i]};
    }
    memcpy(tests + N, others, sizeof others);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
