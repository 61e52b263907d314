/*
 * url.h - the checks every request URL passes before either HTTP client
 * (libcurl or the fast client) sends a byte, with the exceptions Python
 * requests (and so Locust) raises for the same URL:
 *
 *   not http:// or https://      InvalidSchema("No connection adapters were
 *                                found for '<url>'"), MissingSchema(...)
 *   a control character, space   InvalidURL("Failed to parse: Host
 *     or DEL in the host         '<host>' contains invalid character '\r'")
 *   no host, a bad port          InvalidURL("Invalid URL '<url>': No host
 *                                supplied"), InvalidURL("Failed to parse:
 *                                '<host:port>' is not a valid host or port")
 *   a host label of 64 bytes     LocationParseError("Failed to parse:
 *     or more, or empty          '<host>', label empty or too long")
 *
 * The host is never cut: a long one gives the whole host in the text. The
 * path and query keep their bytes but spaces, control characters and
 * non-ASCII bytes are percent-escaped, as requests does, so no CR or LF
 * from a URL ever reaches the request line.
 *
 * Also the URL helpers the fast client's layers share: which URLs it
 * takes (url_simple_http), the length of a URL's scheme, and the URL a
 * request goes to (url_join).
 */
#ifndef LW_URL_H
#define LW_URL_H

#include <stddef.h>

#include "buf.h"

/* Check an absolute URL. Returns 0 when both clients may send to it; else
 * -1 with *kind set to the Python exception's name (a static string) and
 * *msg to its message (malloc'd; the caller frees it; NULL when out of
 * memory). */
int url_check(const char *url, const char **kind, char **msg);

/* url with the bytes of its path, query and fragment that requests
 * percent-escapes (space, controls, DEL, non-ASCII) escaped, into out.
 * Returns 0 or -1 when out of memory. */
int url_escape(buf *out, const char *url);

/* The length of url's "http://" or "https://" (any case), else 0. */
size_t url_scheme_len(const char *url);
/* Whether the fast client can send to this URL or base host (http:// or
 * https://, a host, no user info). */
int url_simple_http(const char *url);
/* The URL of a request: path itself when it is absolute (http:// or
 * https://), else base + path ("http://x/" + "/a" gives one slash).
 * Returns 0, -1 when out of memory, -2 for a relative path without base. */
int url_join(buf *out, const char *base, const char *path);

#endif
