/*
 * fuzz_url.c - libFuzzer target for the URL checks both HTTP clients make
 * before sending (worker/url.c) and the escaping of a URL's path and
 * query.
 *
 * The input, cut at its first NUL, is a URL as a master or a task may give
 * one. Under ASan/UBSan nothing may crash, read out of bounds or leak, and:
 *   - a refusal names an exception and carries a message; an acceptance
 *     carries neither;
 *   - an accepted URL's host holds no control character, space or DEL;
 *   - escaping an accepted URL leaves no control byte, space or DEL in its
 *     path, query and fragment (the request line); the host was checked
 *     above, and a URL with user:password@ goes to libcurl, never into a
 *     request line of the fast client.
 * Seeds: test/fuzz/corpus/url.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/url.h"

/* The path, query and fragment of an escaped URL (what goes into a
 * request line) hold no control byte, space or DEL. */
static void check_escaped(const char *url)
{
    buf out = {0};
    if (url_escape(&out, url) != 0) {
        free(out.data);
        return;
    }
    const char *rest = strstr(out.data, "://");
    size_t from = rest ? (size_t)(rest + 3 - out.data) : 0;
    from += strcspn(out.data + from, "/?#");
    for (size_t i = from; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        if (c < 0x21 || c == 0x7f) {
            abort();
        }
    }
    free(out.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    const char *kind = NULL;
    char *msg = NULL;
    if (!url) {
        return 0;
    }
    memcpy(url, data, size);
    url[size] = '\0';
    if (url_check(url, &kind, &msg) == 0) {
        if (kind || msg) {
            abort();
        }
        const char *host = strstr(url, "://") + 3;
        size_t auth = strcspn(host, "/?#");
        for (size_t i = 0; i < auth; i++) { /* user:password@ is not the host */
            if (host[i] == '@') {
                host += i + 1;
                auth -= i + 1;
                i = (size_t)-1;
            }
        }
        for (const char *p = host; p < host + auth; p++) {
            if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
                abort();
            }
        }
        check_escaped(url);
    } else if (!kind) {
        abort();
    }
    free(msg);
    free(url);
    return 0;
}
