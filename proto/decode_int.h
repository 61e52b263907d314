/*
 * decode_int.h - what the decoders share inside the codec: the failure
 * report and string copies (dctx.c), and the decoders of parsed_options and
 * of update_user_class (options.c), which decode.c calls. Not part of
 * proto.h.
 */
#ifndef LW_DECODE_INT_H
#define LW_DECODE_INT_H

#include <stddef.h>
#include <msgpack.h>

#include "proto.h"

/* Where a decoding failure is reported. */
typedef struct {
    char *err;
    size_t errlen;
} dctx;

/* Writes the reason into d and returns -1. */
int fail(dctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A msgpack str as a malloc'd C string; no NUL bytes inside. 0 or -1. */
int copy_str(const msgpack_object *o, char **out, const char *what, dctx *d);

int decode_options(const msgpack_object *po, proto_spawn *s, dctx *d);
void free_options(proto_spawn *s);
int decode_update(const msgpack_object *data, proto_update *u, dctx *d);
void free_update(proto_update *u);

#endif
