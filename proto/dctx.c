/*
 * dctx.c - what the decoders share (decode.c, options.c): the failure
 * report and string copies out of msgpack objects.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

int fail(dctx *d, const char *fmt, ...)
{
    va_list ap;

    if (d->err != NULL && d->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(d->err, d->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copy a str object into a new NUL-terminated string. */
int copy_str(const msgpack_object *o, char **out, const char *what, dctx *d)
{
    char *s;

    if (o->type != MSGPACK_OBJECT_STR)
        return fail(d, "%s is not a str", what);
    /* msgpack-c may give an empty str a NULL pointer. */
    if (o->via.str.size > 0 && memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
        return fail(d, "%s contains a NUL byte", what);
    s = malloc((size_t)o->via.str.size + 1);
    if (s == NULL)
        return fail(d, "out of memory");
    if (o->via.str.size > 0)
        memcpy(s, o->via.str.ptr, o->via.str.size);
    s[o->via.str.size] = '\0';
    *out = s;
    return 0;
}
