/*
 * decode.c - turn one master -> worker frame into a proto_msg.
 *
 * A frame must hold exactly one msgpack array [type: str, data, node_id] and
 * nothing after it: trailing bytes are rejected, as Python's msgpack.loads()
 * does. Everything the worker acts on (ack index, spawn targets, host,
 * stop_timeout) is copied out into malloc'd, NUL-terminated strings; the
 * rest (parsed_options, unknown keys, the data of other types) is skipped.
 *
 * Before msgpack-c sees the bytes, check_frame() walks them once without
 * allocating: it proves that the object is complete, that nothing follows it
 * and that every array or map header announces no more elements than bytes
 * remain. msgpack-c allocates a container's elements when it reads the
 * header, so this bounds its memory by the frame size (a 5-byte frame
 * announcing 2^32 elements would otherwise ask for ~100 GB). Nesting deeper
 * than msgpack-c's stack (32 levels) is rejected by msgpack-c itself.
 *
 * Tolerance follows what Locust versions send: numbers may be int or float,
 * host and stop_timeout may be nil, ack data may be nil. Duplicate map keys
 * resolve like a Python dict (last one wins), except duplicate user class
 * names in a spawn, which are rejected.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

/* ---- frame check: structure and sizes, without allocating ---- */

/* How an 0xc4..0xdf tag continues: bytes of its length field, extra header
 * bytes (the ext type), a fixed payload size, and what the length counts. */
enum { FIXED, BODY, ARRAY, MAP };
static const struct {
    unsigned char lenb, extra, fixed, kind;
} TAGS[28] = {
    {1, 0, 0, BODY},   {2, 0, 0, BODY},  {4, 0, 0, BODY},                    /* bin 8/16/32 */
    {1, 1, 0, BODY},   {2, 1, 0, BODY},  {4, 1, 0, BODY},                    /* ext 8/16/32 */
    {0, 0, 4, FIXED},  {0, 0, 8, FIXED},                                     /* float 32/64 */
    {0, 0, 1, FIXED},  {0, 0, 2, FIXED}, {0, 0, 4, FIXED}, {0, 0, 8, FIXED}, /* uint 8..64 */
    {0, 0, 1, FIXED},  {0, 0, 2, FIXED}, {0, 0, 4, FIXED}, {0, 0, 8, FIXED}, /* int 8..64 */
    {0, 1, 1, FIXED},  {0, 1, 2, FIXED}, {0, 1, 4, FIXED}, {0, 1, 8, FIXED},
    {0, 1, 16, FIXED},                                    /* fixext */
    {1, 0, 0, BODY},   {2, 0, 0, BODY},  {4, 0, 0, BODY}, /* str 8/16/32 */
    {2, 0, 0, ARRAY},  {4, 0, 0, ARRAY},                  /* array 16/32 */
    {2, 0, 0, MAP},    {4, 0, 0, MAP},                    /* map 16/32 */
};

/* The object at p: header size, payload size and number of child objects.
 * Returns 0, -1 for a header cut short, -2 for the reserved tag 0xc1. */
static int object_shape(const unsigned char *p, size_t avail, size_t *head, uint64_t *body,
                        uint64_t *kids)
{
    unsigned char c = p[0];
    uint64_t n = 0;
    size_t i;

    *head = 1;
    *body = 0;
    *kids = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0;    /* int, nil, bool */
    if (c <= 0x9f) { /* fixmap, fixarray */
        *kids = c <= 0x8f ? 2u * (c & 0x0fu) : (c & 0x0fu);
        return 0;
    }
    if (c <= 0xbf) { /* fixstr */
        *body = c & 0x1fu;
        return 0;
    }
    if (c == 0xc1)
        return -2;
    c -= 0xc4;
    *head = 1u + TAGS[c].lenb + TAGS[c].extra;
    if (avail < *head)
        return -1;
    for (i = 0; i < TAGS[c].lenb; i++)
        n = n << 8 | p[1 + i];
    *body = TAGS[c].kind == FIXED ? TAGS[c].fixed : TAGS[c].kind == BODY ? n : 0;
    *kids = TAGS[c].kind == ARRAY ? n : TAGS[c].kind == MAP ? 2 * n : 0;
    return 0;
}

/* Check that buf holds exactly one complete msgpack object whose containers
 * never announce more elements than there are bytes left. */
static int check_frame(const unsigned char *buf, size_t len, dctx *d)
{
    uint64_t pending = 1, body, kids;
    size_t off = 0, head;
    int rc;

    if (len == 0)
        return fail(d, "empty message");
    while (pending > 0) {
        if (off >= len)
            return fail(d, "message is truncated");
        rc = object_shape(buf + off, len - off, &head, &body, &kids);
        if (rc == -2)
            return fail(d, "invalid msgpack byte 0xc1");
        if (rc != 0 || body > len - off - head)
            return fail(d, "message is truncated");
        off += head + (size_t)body;
        pending = pending - 1 + kids;
        if (pending > len - off) /* every pending object needs a byte */
            return fail(d, "message is truncated");
    }
    if (off != len)
        return fail(d, "trailing bytes after the message");
    return 0;
}

/* ---- msgpack object helpers ---- */

static int key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);

    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

/* The value of key in map (the last one, as a Python dict), or NULL. */
static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = NULL;
    uint32_t i;

    for (i = 0; i < map->via.map.size; i++)
        if (key_is(&map->via.map.ptr[i].key, key))
            v = &map->via.map.ptr[i].val;
    return v;
}

/* Any int or float as a double. */
static int get_number(const msgpack_object *o, double *v)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *v = (double)o->via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *v = (double)o->via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *v = o->via.f64;
        return 0;
    default:
        return -1;
    }
}

/* A user count: nil, negative and NaN are 0; huge values saturate. */
static int get_count(const msgpack_object *o, int64_t *v)
{
    double f;

    if (o->type == MSGPACK_OBJECT_NIL) {
        *v = 0;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *v = o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)o->via.u64;
        return 0;
    }
    if (get_number(o, &f) != 0)
        return -1;
    if (!(f > 0))
        *v = 0;
    else if (f >= 9223372036854775808.0)
        *v = INT64_MAX;
    else
        *v = (int64_t)f;
    return 0;
}

/* ---- ack ---- */

static int decode_ack(const msgpack_object *data, proto_msg *m, dctx *d)
{
    const msgpack_object *idx;

    m->ack_index = -1;
    if (data->type == MSGPACK_OBJECT_NIL)
        return 0; /* 2.10.x: no index */
    if (data->type != MSGPACK_OBJECT_MAP)
        return fail(d, "ack: data is not a map or nil");
    idx = map_get(data, "index");
    if (idx == NULL || idx->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (idx->type != MSGPACK_OBJECT_POSITIVE_INTEGER || idx->via.u64 > INT64_MAX)
        return fail(d, "ack: index is not a non-negative int");
    m->ack_index = (int64_t)idx->via.u64;
    return 0;
}

/* ---- spawn ---- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reject a user class named twice: the targets would be ambiguous. */
static int check_unique(const proto_spawn *s, dctx *d)
{
    char **names;
    size_t i;
    int dup = 0;

    if (s->nclasses < 2)
        return 0;
    names = malloc(s->nclasses * sizeof *names);
    if (names == NULL)
        return fail(d, "out of memory");
    for (i = 0; i < s->nclasses; i++)
        names[i] = s->classes[i].name;
    qsort(names, s->nclasses, sizeof *names, cmp_names);
    for (i = 1; i < s->nclasses && !dup; i++)
        dup = strcmp(names[i - 1], names[i]) == 0;
    free(names);
    return dup ? fail(d, "spawn: a user class appears twice") : 0;
}

static int decode_classes(const msgpack_object *ucc, proto_spawn *s, dctx *d)
{
    const msgpack_object_kv *kv;
    uint32_t i, n;

    if (ucc->type != MSGPACK_OBJECT_MAP)
        return fail(d, "spawn: user_classes_count is not a map");
    n = ucc->via.map.size;
    if (n == 0)
        return 0;
    s->classes = calloc(n, sizeof *s->classes);
    if (s->classes == NULL)
        return fail(d, "out of memory");
    s->nclasses = n; /* names start NULL: safe to free */
    for (i = 0; i < n; i++) {
        kv = &ucc->via.map.ptr[i];
        if (copy_str(&kv->key, &s->classes[i].name, "spawn: user class name", d) != 0)
            return -1;
        if (get_count(&kv->val, &s->classes[i].count) != 0)
            return fail(d, "spawn: a user class count is not a number");
    }
    return check_unique(s, d);
}

static int decode_host(const msgpack_object *v, proto_spawn *s, dctx *d)
{
    if (v->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (v->type != MSGPACK_OBJECT_STR)
        return fail(d, "spawn: host is not a str or nil");
    if (v->via.str.size == 0)
        return 0;
    return copy_str(v, &s->host, "spawn: host", d);
}

/* nil (2.12.1 default), int (2.12.1 with --stop-timeout) or float (2.13+).
 * Negative and NaN become 0; +inf is kept (wait for tasks forever). */
static int decode_stop_timeout(const msgpack_object *v, proto_spawn *s, dctx *d)
{
    double t;

    if (v->type == MSGPACK_OBJECT_NIL)
        return 0;
    if (get_number(v, &t) != 0)
        return fail(d, "spawn: stop_timeout is not a number or nil");
    s->has_stop_timeout = 1;
    s->stop_timeout = t > 0 ? t : 0;
    return 0;
}

static int decode_spawn(const msgpack_object *data, proto_spawn *s, dctx *d)
{
    const msgpack_object *v;

    if (data->type != MSGPACK_OBJECT_MAP)
        return fail(d, "spawn: data is not a map");
    v = map_get(data, "timestamp");
    if (v == NULL || get_number(v, &s->timestamp) != 0)
        return fail(d, "spawn: timestamp is missing or not a number");
    v = map_get(data, "user_classes_count");
    if (v == NULL)
        return fail(d, "spawn: user_classes_count is missing");
    if (decode_classes(v, s, d) != 0)
        return -1;
    v = map_get(data, "host");
    if (v != NULL && decode_host(v, s, d) != 0)
        return -1;
    v = map_get(data, "stop_timeout");
    if (v != NULL && decode_stop_timeout(v, s, d) != 0)
        return -1;
    v = map_get(data, "parsed_options");
    if (v != NULL && decode_options(v, s, d) != 0)
        return -1;
    return 0;
}

/* ---- message ---- */

static const struct {
    const char *name;
    proto_type type;
} TYPE_NAMES[] = {
    {"ack", PROTO_ACK},
    {"spawn", PROTO_SPAWN},
    {"stop", PROTO_STOP},
    {"quit", PROTO_QUIT},
    {"reconnect", PROTO_RECONNECT},
    {"heartbeat", PROTO_HEARTBEAT},
    {"spawning_complete", PROTO_SPAWNING_COMPLETE},
    {"update_user_class", PROTO_UPDATE_USER_CLASS},
};

static proto_type type_of(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]; i++)
        if (strcmp(name, TYPE_NAMES[i].name) == 0)
            return TYPE_NAMES[i].type;
    return PROTO_UNKNOWN;
}

static int decode_message(const msgpack_object *o, proto_msg *m, dctx *d)
{
    const msgpack_object *e;

    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3)
        return fail(d, "message is not a 3-element array");
    e = o->via.array.ptr;
    if (copy_str(&e[0], &m->type_name, "message type", d) != 0)
        return -1;
    m->type = type_of(m->type_name);
    if (e[2].type == MSGPACK_OBJECT_STR && copy_str(&e[2], &m->node_id, "node_id", d) != 0)
        return -1;
    if (m->type == PROTO_ACK)
        return decode_ack(&e[1], m, d);
    if (m->type == PROTO_SPAWN)
        return decode_spawn(&e[1], &m->spawn, d);
    if (m->type == PROTO_UPDATE_USER_CLASS)
        return decode_update(&e[1], &m->update, d);
    return 0; /* other types: data not needed */
}

static int unpack_message(const char *buf, size_t len, proto_msg *m, dctx *d)
{
    msgpack_unpacked up;
    msgpack_unpack_return rc;
    size_t off = 0;
    int ret;

    msgpack_unpacked_init(&up);
    rc = msgpack_unpack_next(&up, buf, len, &off);
    if (rc == MSGPACK_UNPACK_SUCCESS && off == len)
        ret = decode_message(&up.data, m, d);
    else if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        ret = fail(d, "msgpack: out of memory or nested too deeply");
    else
        ret = fail(d, "invalid msgpack");
    msgpack_unpacked_destroy(&up);
    return ret;
}

static void msg_reset(proto_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = PROTO_UNKNOWN;
    m->ack_index = -1;
}

int proto_decode(const char *buf, size_t len, proto_msg *out, char *err, size_t errlen)
{
    dctx d = {err, errlen};

    msg_reset(out);
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (buf == NULL && len > 0)
        return fail(&d, "no buffer");
    if (check_frame((const unsigned char *)buf, len, &d) != 0 ||
        unpack_message(buf, len, out, &d) != 0) {
        proto_msg_free(out);
        return -1;
    }
    return 0;
}

void proto_msg_free(proto_msg *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->spawn.nclasses; i++)
        free(m->spawn.classes[i].name);
    free(m->spawn.classes);
    free(m->spawn.host);
    free_options(&m->spawn);
    free_update(&m->update);
    free(m->type_name);
    free(m->node_id);
    msg_reset(m);
}
