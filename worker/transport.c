/*
 * transport.c - the list of transports (transport.h), indexed by
 * lw_client, and the choice of one for a request.
 */
#include "transport.h"

#include <stdlib.h>

#include "buf.h"
#include "curl_client.h"
#include "h1client.h"
#include "lw.h"

static const transport *const all[TR_COUNT] = {
    [LW_CLIENT_CURL] = &curl_transport,
    [LW_CLIENT_FAST] = &fast_transport,
};

const transport *transport_at(int index)
{
    return index >= 0 && index < TR_COUNT ? all[index] : all[LW_CLIENT_CURL];
}

int transport_pick(int client, const char *url)
{
    if (client < 0 || client >= TR_COUNT || !all[client]->supports(url)) {
        return LW_CLIENT_CURL;
    }
    return client;
}

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
