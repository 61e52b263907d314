/*
 * fast_client.h - the fast HTTP/1.1 client's transport table
 * (fast_client.c, over h1.h).
 */
#ifndef LW_FAST_CLIENT_H
#define LW_FAST_CLIENT_H

#include "transport.h"

extern const transport fast_transport;

#endif
