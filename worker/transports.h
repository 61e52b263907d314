/*
 * transports.h - the list of transports (transports.c) and the choice of
 * one for a request.
 */
#ifndef LW_TRANSPORTS_H
#define LW_TRANSPORTS_H

#include "transport.h"

#define TR_COUNT 2 /* indexed by lw_client */

/* The transport for a request of a class using client: its own when that
 * one supports url, else the default (libcurl). Returns its index. */
int transport_pick(int client, const char *url);
const transport *transport_at(int index);

#endif
