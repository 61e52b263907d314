/*
 * h1client.h - the fast HTTP/1.1 client's transport table
 * (h1client.c, over h1.h).
 */
#ifndef LW_H1CLIENT_H
#define LW_H1CLIENT_H

#include "transport.h"

extern const transport fast_transport;

#endif
