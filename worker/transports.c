/*
 * transports.c - the list of transports, indexed by lw_client, and the
 * choice of one for a request (transports.h).
 */
#include "transports.h"

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
