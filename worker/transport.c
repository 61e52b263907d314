/*
 * transport.c - what the operations of every transport share (transport.h):
 * the transfer's head, its response and the kept body.
 */
#include "transport.h"

#include <stdlib.h>

#include "buf.h"

const char *transport_kept_body(const buf *b, int was_cut, size_t *len, int *cut)
{
    if (len) {
        *len = b->len;
    }
    if (cut) {
        *cut = was_cut;
    }
    return b->data ? b->data : "";
}

void *transport_xfer_alloc(size_t size, void *engine, tr_done_fn done, void *arg)
{
    tr_xfer_head *h = calloc(1, size);
    if (h) {
        h->engine = engine;
        h->done = done;
        h->arg = arg;
    }
    return h;
}

const tr_response *transport_response(void *xfer)
{
    return &((tr_xfer_head *)xfer)->resp;
}
