/*
 * h1parse.h - incremental HTTP/1.1 response parser for the fast client.
 *
 * Bytes are fed as they come off the socket, split anywhere. Header lines
 * are handed to a callback without copying, except for a line that spans
 * two feeds: only then is it gathered in a heap buffer, freed when the
 * response is complete (or on h1_reset). A single line is capped at
 * H1P_MAX_LINE bytes and a header (or trailer) block at H1P_MAX_HEAD bytes.
 *
 * What is accepted:
 *   - status line "HTTP/1.<digit> <3 digits>[ <reason>]", status 100..999;
 *   - lines end in CRLF or a bare LF;
 *   - header lines "name: value": name a token, value without control
 *     characters other than HTAB, surrounding SP/HTAB trimmed; obsolete
 *     line folding and whitespace before the colon are rejected;
 *   - Content-Length: digits, or a comma-separated list of equal values;
 *     duplicates must agree;
 *   - Transfer-Encoding: chunked when its last coding is "chunked", and then
 *     it wins over Content-Length; any other last coding means the body is
 *     delimited by the connection closing. An HTTP/1.0 response with a
 *     Transfer-Encoding is parsed but never keeps the connection alive;
 *   - Connection: comma-separated tokens, "close" and "keep-alive" count;
 *   - chunked bodies: hex sizes up to INT64_MAX, extensions (";...")
 *     ignored, trailers passed to on_header (but not interpreted) after the
 *     last on_body call.
 * No body for HEAD (no_body), 1xx, 204 and 304. Interim responses (1xx
 * except 101) are skipped: their headers are checked but not passed to
 * on_header, and the following response is parsed in their place. A 101
 * is a complete response after which the connection is no longer HTTP
 * (keep_alive 0).
 */
#ifndef LW_H1PARSE_H
#define LW_H1PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define H1P_MAX_LINE (16 * 1024) /* one line, terminator included */
#define H1P_MAX_HEAD (64 * 1024) /* status line + headers, or trailers */

typedef struct {
    /* callbacks; any may be NULL. Return 0 to continue, non-zero to abort
     * (h1_feed then returns -1). The pointers are valid during the call
     * only and are not NUL-terminated. A callback must not call h1_* on
     * the parser that called it. */
    int (*on_header)(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen);
    int (*on_body)(void *ctx, const char *data, size_t len);
} h1_callbacks;

typedef struct {
    /* results, valid as they become known */
    int status;             /* e.g. 200; 0 until the status line is parsed */
    int minor;              /* HTTP/1.<minor> */
    char reason[64];        /* reason phrase, truncated, NUL-terminated */
    int64_t content_length; /* -1 when absent */
    int chunked;            /* Transfer-Encoding: chunked */
    int keep_alive;         /* 1 if the connection may be reused after
                                 this response (final once headers end) */
    int64_t body_bytes;     /* body bytes delivered to on_body so far
                                 (decoded, i.e. without chunk framing) */
    int done;               /* 1 when the whole response has been parsed */
    /* internal state below */
    char *line;          /* a line spanning feeds; NULL when unused */
    int64_t remaining;   /* bytes left in the body or current chunk */
    uint32_t line_len;   /* bytes gathered in line */
    uint32_t line_cap;   /* allocated size of line */
    uint32_t head_bytes; /* bytes of the current header/trailer block */
    uint8_t state;
    uint8_t flags;
    uint8_t no_body;
    uint8_t started;
} h1_parser;

/* no_body: response to HEAD: never a body. For a fresh struct (or one
 * that is done or has failed): it frees nothing, h1_reset does. */
void h1_init(h1_parser *p, int no_body);
/* Frees any internal buffer and returns the parser to its h1_init state
 * (same no_body). Call when discarding a parser, or before reusing it. */
void h1_reset(h1_parser *p);
/* Feed bytes read from the socket. Returns how many bytes were consumed
 * (stops right after the end of the response: bytes beyond it are not
 * consumed; 0 once done), or -1 on a malformed response or when a callback
 * aborted (and -1 again on every later call). */
ssize_t h1_feed(h1_parser *p, const char *data, size_t len, const h1_callbacks *cb, void *ctx);
/* The peer closed the connection. Returns 1 if that completes the response
 * (a body delimited by close) or it was already complete, 0 if the response
 * is truncated/incomplete. Sets done on success. */
int h1_eof(h1_parser *p);
/* Whether any byte of a response has been seen yet (to tell "server closed
 * an idle keep-alive connection before answering" from a truncated
 * response). */
int h1_started(const h1_parser *p);

#endif
