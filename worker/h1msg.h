/*
 * h1msg.h - the fast client's messages: where a transfer goes (its URL,
 * origin and target, also after a redirect), its header lines, and the
 * bytes of its request (h1msg.c).
 */
#ifndef LW_H1MSG_H
#define LW_H1MSG_H

#include "h1int.h"

/* x's request (x->h set; see h1_xfer_set in h1.h): its absolute URL, the
 * session's and the request's own header lines. Returns 0 (a URL it may
 * not go to is kept in x->result), or -1 when out of memory. */
int h1_msg_set(h1_xfer *x, const char *url, const char *const *session_headers,
               const char *const *headers);
/* Point x at url (absolute, or relative to its current URL). Returns 0
 * (a URL it may not go to is kept in x->result), or -1 when out of
 * memory. */
int h1_retarget(h1_xfer *x, const char *url);
/* Build x's request (with the Cookie line of its session's jar) into out.
 * Returns 0 or -1. */
int h1_build(buf *out, const h1_xfer *x);
/* Remove x's extra header lines whose names (with their colon) are listed
 * (NULL-terminated). */
void h1_drop_headers(h1_xfer *x, const char *const *names);

#endif
