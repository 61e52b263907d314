/*
 * h1url.h - the checks every request URL passes before either HTTP client
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
 */
#ifndef LW_H1URL_H
#define LW_H1URL_H

#include "h1.h"

/* Check an absolute URL. Returns 0 when both clients may send to it; else
 * -1 with *kind set to the Python exception's name (a static string) and
 * *msg to its message (malloc'd; the caller frees it; NULL when out of
 * memory). */
int h1_url_check(const char *url, const char **kind, char **msg);

/* url with the bytes of its path, query and fragment that requests
 * percent-escapes (space, controls, DEL, non-ASCII) escaped, into out.
 * Returns 0 or -1 when out of memory. */
int h1_url_escape(h1_buf *out, const char *url);

#endif
