/*
 * curl_conn.h - the curl client's own keep-alive connection for plain HTTP.
 *
 * Each user keeps one idle http:// connection of its own (curl_conn),
 * outside libcurl: a transfer asks libcurl never to pool its connections
 * (CURLOPT_FORBID_REUSE), hands it the user's open socket through
 * CURLOPT_OPENSOCKETFUNCTION when the origin and the address match, and
 * takes the socket back in CURLOPT_CLOSESOCKETFUNCTION. When the transfer
 * ends cleanly on a connection that may be reused (HTTP/1.1, no
 * "Connection: close", the body sent in full), the socket becomes the
 * user's kept connection again; else it is closed. So a user holds an open
 * socket and a few bytes while idle, not libcurl's connection cache (a
 * hash table and an easy handle of its own per cache) and its connection.
 *
 * The price is CPU: libcurl sets up each transfer's connection as a new
 * one (about ten more system calls than reusing one of its own), so only
 * users that start at most one task a second keep their connection here
 * (memory counts for them, idle most of the time); busier users, https://
 * and proxied transfers keep libcurl's connection cache in the user's
 * share.
 */
#ifndef LW_CURL_CONN_H
#define LW_CURL_CONN_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* An open TCP connection to one origin. */
typedef struct {
    int fd; /* -1: none */
    socklen_t alen;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;       /* the peer libcurl connected it to */
    char *origin; /* "http://authority" it was opened for;
                                      NULL when not plain http:// */
} curl_conn;

#define CURL_CONN_OPEN_MAX 3 /* sockets one transfer holds at once */

/* How a transfer's connections are kept. */
typedef enum {
    CURL_CONN_LIBCURL = 0, /* in the user's share (https://) */
    CURL_CONN_KEPT,        /* ours: the user's kept connection */
    CURL_CONN_ONCE         /* one transfer only, closed by libcurl */
} curl_conn_mode;

/* One transfer's connections (the callbacks' data). */
typedef struct {
    CURL *easy; /* NULL: not set up (or done) */
    curl_conn_mode mode;
    curl_conn *kept;                    /* the user's idle connection (its own) */
    curl_conn open[CURL_CONN_OPEN_MAX]; /* sockets opened or handed out
                                            in this transfer (fd -1: free) */
    int parked;                         /* index in open of the socket libcurl
                                      let go of last (still open), or -1 */
    int reused;                         /* index in open of the user's kept
                                      connection, or -1 */
    int open_errno;                     /* errno of a failed socket() */
    int64_t body_len;                   /* bytes of the request's body */
} curl_conn_xfer;

/* 1 when plain http:// transfers may use kept connections: no proxy is
 * named in the environment (libcurl would use it). */
int curl_conn_enabled(void);

void curl_conn_init(curl_conn *c);
/* Close the socket, free the origin. */
void curl_conn_close(curl_conn *c);

/* Before each transfer on easy (a request with body_len bytes of body):
 * the socket callbacks and the reuse options for mode. Returns 0 or -1. */
int curl_conn_setup(curl_conn_xfer *x, CURL *easy, curl_conn *kept, curl_conn_mode mode,
                    int64_t body_len);

/* After the transfer (result rc). Returns
 * 1 when it should run again once on a fresh connection: the user's kept
 * connection died under it before any byte of the response arrived. Else
 * the last connection is kept for the user when it may be reused, or
 * closed, and 0 is returned. */
int curl_conn_done(curl_conn_xfer *x, CURLcode rc);

/* A cancelled or abandoned transfer: close what it still holds. */
void curl_conn_abandon(curl_conn_xfer *x);

#endif
