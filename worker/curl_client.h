/*
 * curl_client.h - the libcurl transport's table (curl_client.c).
 */
#ifndef LW_CURL_CLIENT_H
#define LW_CURL_CLIENT_H

#include "transport.h"

extern const transport curl_transport;

#endif
