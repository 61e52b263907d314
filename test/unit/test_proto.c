/*
 * test_proto.c - unit tests of the message codec (proto/).
 *
 * Test frames and expected data are written in a small text notation (see
 * pack_text()) and packed with msgpack-c's own packer, independent of
 * proto_pack_*. Most cases are rows of three tables; each row runs as a
 * cmocka test of its own, named after the row:
 *
 * encodes[]: a proto_encode_* call and the data it must send. The call
 * writes into a buffer that already holds a message (it must replace it);
 * the result is unpacked again with msgpack-c and must be one 3-element
 * array [type, data, node_id] whose data equals the row's in its exact wire
 * types (str never bin, float64 never float32, int -1 for client_ready),
 * map keys in any order. Some rows also check raw bytes (fixarray and
 * fixstr headers, the float64 tag of a whole-number CPU value).
 *
 * decodes[]: a master frame in the shapes Locust 2.12.1 and 2.46.3 send
 * (plus msgpack 0.6's old raw strings, odd but harmless values and the
 * other message types) and the proto_msg it must decode to: type, type
 * name, node_id, the ack index of an ack, and all spawn fields.
 *
 * rejects[]: malformed and hostile frames (wrong shapes, trailing bytes,
 * bad spawn and ack data, huge headers) and a part of the error text.
 * Decoding must fail, say why in one line and leave the message empty.
 *
 * Table frames are decoded from exact-size heap copies, so ASan sees any
 * read past the end. The tests after the tables have shapes of their own:
 * proto_begin/proto_end, proto_pack_str's UTF-8 repair and wire types, an
 * encode/decode round trip, every truncation of two real spawn frames,
 * deep nesting, every single-byte mutation, random garbage and a short
 * err buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"

#define NODE "myhost_0123456789abcdef0123456789abcdef"
#define MASTER "master_fedcba9876543210fedcba9876543210"
#define FFFD "\xEF\xBF\xBD"
#define NROWS(a) (sizeof(a) / sizeof(a)[0])

/* ---- msgpack values written as text ----
 *
 *   nil  true  false
 *   7  -3  18446744073709551615   int, in the shortest form msgpack-c picks
 *   1.5  -5.0  1e300              float64 (a '.' or an 'e' makes a float)
 *   2.5f                          float32
 *   'text'                        str: the bytes as written; \xHH is one byte
 *   b'\x00\x01'                   bin
 *   [a, b]  {k: v, k2: v2}        array, map
 *
 * Commas and colons only separate. Values written one after another are
 * packed one after another (a frame followed by trailing bytes). */

static const char *skip_sep(const char *s)
{
    while (*s == ' ' || *s == ',' || *s == ':')
        s++;
    return s;
}

/* The bytes of the quoted string that starts at q: their number into *n
 * and, when buf is not NULL, the bytes into buf. Returns the end of it. */
static const char *text_bytes(const char *q, char *buf, size_t *n)
{
    const char *s;
    unsigned v;
    int used;

    *n = 0;
    for (s = q + 1; *s != '\''; s++) {
        if (*s == '\0')
            fail_msg("unterminated string in \"%s\"", q);
        v = (unsigned char)*s;
        if (s[0] == '\\' && s[1] == 'x') {
            if (sscanf(s + 2, "%2x%n", &v, &used) != 1 || used != 2)
                fail_msg("bad \\x escape in \"%s\"", q);
            s += 3;
        }
        if (buf != NULL)
            buf[*n] = (char)v;
        (*n)++;
    }
    return s + 1;
}

/* Pack the value that starts at s (only skip it when pk is NULL). Returns
 * the end of it. */
static const char *text_value(const char *s, msgpack_packer *pk)
{
    const char *end;
    char *bytes, *e;
    size_t n;
    double d;

    s = skip_sep(s);
    if (*s == '[' || *s == '{') {
        char close = *s == '[' ? ']' : '}';

        for (n = 0, end = skip_sep(s + 1); *end != close; end = skip_sep(end), n++)
            end = text_value(end, NULL);
        if (pk != NULL) {
            if (close == '}' && n % 2 != 0)
                fail_msg("a key without a value in \"%s\"", s);
            if (close == ']')
                assert_int_equal(msgpack_pack_array(pk, n), 0);
            else
                assert_int_equal(msgpack_pack_map(pk, n / 2), 0);
            for (s = skip_sep(s + 1); *s != close; s = skip_sep(s))
                s = text_value(s, pk);
        }
        return end + 1;
    }
    if (*s == '\'' || (s[0] == 'b' && s[1] == '\'')) {
        int bin = *s == 'b';

        end = text_bytes(s + bin, NULL, &n);
        if (pk != NULL) {
            bytes = malloc(n + 1);
            assert_non_null(bytes);
            text_bytes(s + bin, bytes, &n);
            if (bin) {
                assert_int_equal(msgpack_pack_bin(pk, n), 0);
                assert_int_equal(msgpack_pack_bin_body(pk, bytes, n), 0);
            } else {
                assert_int_equal(msgpack_pack_str(pk, n), 0);
                assert_int_equal(msgpack_pack_str_body(pk, bytes, n), 0);
            }
            free(bytes);
        }
        return end;
    }
    if (strncmp(s, "nil", 3) == 0) {
        if (pk != NULL)
            assert_int_equal(msgpack_pack_nil(pk), 0);
        return s + 3;
    }
    if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
        if (pk != NULL)
            assert_int_equal(*s == 't' ? msgpack_pack_true(pk) : msgpack_pack_false(pk), 0);
        return s + (*s == 't' ? 4 : 5);
    }
    if (*s == '-' || (*s >= '0' && *s <= '9')) {
        n = strspn(s, "-+.0123456789e");
        if (memchr(s, '.', n) != NULL || memchr(s, 'e', n) != NULL) {
            d = strtod(s, &e);
            if (*e == 'f') {
                if (pk != NULL)
                    assert_int_equal(msgpack_pack_float(pk, (float)d), 0);
                return e + 1;
            }
            if (pk != NULL)
                assert_int_equal(msgpack_pack_double(pk, d), 0);
        } else if (*s == '-') {
            long long v = strtoll(s, &e, 10);

            if (pk != NULL)
                assert_int_equal(msgpack_pack_int64(pk, v), 0);
        } else {
            unsigned long long v = strtoull(s, &e, 10);

            if (pk != NULL)
                assert_int_equal(msgpack_pack_uint64(pk, v), 0);
        }
        return e;
    }
    fail_msg("cannot read \"%s\"", s);
    return s;
}

/* Pack text (a value, or several in a row) into sb, replacing what it held. */
static void pack_text(msgpack_sbuffer *sb, const char *text)
{
    msgpack_packer pk;
    const char *s = skip_sep(text);

    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    while (*s != '\0')
        s = skip_sep(text_value(s, &pk));
}

/* A master frame [type, data, node_id]: type and data in the notation. */
#define FRAME(type, data) "[" type ", " data ", '" MASTER "']"
#define MSG(type, data) FRAME("'" type "'", data)

/* ---- helpers ---- */

static void ps(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);

    assert_int_equal(msgpack_pack_str(pk, n), 0);
    assert_int_equal(msgpack_pack_str_body(pk, s, n), 0);
}

static int decode_sb(const msgpack_sbuffer *sb, proto_msg *m, char *err, size_t errlen)
{
    return proto_decode(sb->data, sb->size, m, err, errlen);
}

/* Decoding must fail, leave *m empty and say why (containing `why`). */
static void expect_reject(const char *buf, size_t len, const char *why)
{
    proto_msg m;
    char err[256];

    memset(&m, 0xA5, sizeof m); /* garbage in: must be reset */
    assert_int_equal(proto_decode(buf, len, &m, err, sizeof err), -1);
    assert_null(m.type_name);
    assert_null(m.node_id);
    assert_null(m.spawn.classes);
    assert_null(m.spawn.host);
    assert_int_equal(m.spawn.nclasses, 0);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    if (why != NULL && strstr(err, why) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, why);
    proto_msg_free(&m);
}

static void expect_reject_sb(const msgpack_sbuffer *sb, const char *why)
{
    expect_reject(sb->data, sb->size, why);
}

/* Unpack an encoded message with msgpack-c and check its frame. */
static const msgpack_object *unpack_frame(const msgpack_sbuffer *sb, msgpack_unpacked *up,
                                          const char *type)
{
    const msgpack_object *e;
    size_t off = 0;

    msgpack_unpacked_init(up);
    assert_int_equal(msgpack_unpack_next(up, sb->data, sb->size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb->size);
    assert_int_equal(up->data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(up->data.via.array.size, 3);
    e = up->data.via.array.ptr;
    assert_int_equal(e[0].type, MSGPACK_OBJECT_STR);
    assert_int_equal(e[0].via.str.size, strlen(type));
    assert_memory_equal(e[0].via.str.ptr, type, strlen(type));
    assert_int_equal(e[2].type, MSGPACK_OBJECT_STR);
    assert_int_equal(e[2].via.str.size, strlen(NODE));
    assert_memory_equal(e[2].via.str.ptr, NODE, strlen(NODE));
    return &e[1];
}

static void assert_str(const msgpack_object *o, const char *s)
{
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(s));
    assert_memory_equal(o->via.str.ptr, s, strlen(s));
}

static const char *type_str(msgpack_object_type t)
{
    static const char *names[] = {"nil",   "bool", "uint", "int", "float64", "str",
                                  "array", "map",  "bin",  "ext", "float32"};

    return (size_t)t < NROWS(names) ? names[t] : "?";
}

/* got must equal want: the same type (str is not bin, float32 is not
 * float64), value and size; the same map entries in any order. A
 * difference fails naming where it is (path) and both values. */
static void check_object(const msgpack_object *got, const msgpack_object *want, const char *path)
{
    const msgpack_object_kv *g, *w;
    char gs[256], ws[256], sub[256];
    uint32_t i, j;
    int same = got->type == want->type;

    if (same && want->type == MSGPACK_OBJECT_ARRAY)
        same = got->via.array.size == want->via.array.size;
    else if (same && want->type == MSGPACK_OBJECT_MAP)
        same = got->via.map.size == want->via.map.size;
    else if (same)
        same = msgpack_object_equal(*got, *want);
    if (!same) {
        msgpack_object_print_buffer(gs, sizeof gs, *got);
        msgpack_object_print_buffer(ws, sizeof ws, *want);
        fail_msg("%s is %s %s, want %s %s", path, type_str(got->type), gs, type_str(want->type),
                 ws);
    }
    if (want->type == MSGPACK_OBJECT_ARRAY) {
        for (i = 0; i < want->via.array.size; i++) {
            snprintf(sub, sizeof sub, "%s[%u]", path, (unsigned)i);
            check_object(&got->via.array.ptr[i], &want->via.array.ptr[i], sub);
        }
    }
    if (want->type != MSGPACK_OBJECT_MAP)
        return;
    for (i = 0; i < want->via.map.size; i++) {
        w = &want->via.map.ptr[i];
        msgpack_object_print_buffer(ws, sizeof ws, w->key);
        for (j = 0, g = got->via.map.ptr; j < got->via.map.size; j++, g++)
            if (g->key.type == w->key.type && msgpack_object_equal(g->key, w->key))
                break;
        if (j == got->via.map.size)
            fail_msg("%s has no key %s %s", path, type_str(w->key.type), ws);
        snprintf(sub, sizeof sub, "%s[%.200s]", path, ws);
        check_object(&g->val, &w->val, sub);
    }
}

/* The unpacked object got must be the value written as text in want. */
static void check_data(const msgpack_object *got, const char *want)
{
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    size_t off = 0;

    msgpack_sbuffer_init(&sb);
    pack_text(&sb, want);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb.size);
    check_object(got, &up.data, "data");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- encoding: what each proto_encode_* call sends ---- */

typedef struct {
    const char *name;
    enum { CLIENT_READY, NIL, HEARTBEAT, SPAWNING_COMPLETE, EXCEPTION } call;
    const char *type;  /* of the frame; also NIL's argument */
    const char *state; /* HEARTBEAT */
    double cpu;
    int64_t rss;
    const proto_class_count *classes; /* SPAWNING_COMPLETE */
    size_t nclasses;
    const char *msg, *traceback; /* EXCEPTION */
    const char *data;            /* the data the frame must hold */
    const char *head;            /* unless NULL: the frame starts with these */
    const char *has;             /* unless NULL: the frame holds these bytes */
    size_t bytes_len;            /* of head or has */
} encode_case;

static const proto_class_count three_classes[] = {
    {"WebUser", 5},
    {"ApiUser", 3},
    {"IdleUser", 0},
};
static const proto_class_count bad_utf8_class[] = {{"Bad\xffUser", 1}};

#define BYTES(field, lit) .field = lit, .bytes_len = sizeof lit - 1

static const encode_case encodes[] = {
    /* fixarray(3), fixstr(12) "client_ready", negative fixint -1 */
    {"encode: client_ready", CLIENT_READY, "client_ready", .data = "-1",
     BYTES(head, "\x93\xac"
                 "client_ready"
                 "\xff")},
    {"encode: heartbeat", HEARTBEAT, "heartbeat", .state = "running", .cpu = 12.5, .rss = 123456789,
     .data = "{'state': 'running', 'current_cpu_usage': 12.5, "
             "'current_memory_usage': 123456789}"},
    /* A whole-number CPU value must still be a float64 (tag 0xcb). */
    {"encode: heartbeat, whole-number CPU", HEARTBEAT, "heartbeat", .state = "ready", .cpu = 0.0,
     .rss = 0,
     .data = "{'state': 'ready', 'current_cpu_usage': 0.0, "
             "'current_memory_usage': 0}",
     BYTES(has, "\xcb\0\0\0\0\0\0\0\0")},
    {"encode: spawning_complete", SPAWNING_COMPLETE, "spawning_complete", .classes = three_classes,
     .nclasses = NROWS(three_classes),
     .data = "{'user_classes_count': {'WebUser': 5, 'ApiUser': 3, "
             "'IdleUser': 0}, 'user_count': 8}"},
    {"encode: spawning_complete, no classes", SPAWNING_COMPLETE, "spawning_complete",
     .classes = NULL, .nclasses = 0, .data = "{'user_classes_count': {}, 'user_count': 0}"},
    {"encode: exception", EXCEPTION, "exception", .msg = "boom",
     .traceback = "Traceback:\n  task x\n",
     .data = "{'msg': 'boom', 'traceback': 'Traceback:\n  task x\n'}"},
    /* NULL texts still give str values: the master needs both keys. */
    {"encode: exception, NULL texts", EXCEPTION, "exception", .msg = NULL, .traceback = NULL,
     .data = "{'msg': '', 'traceback': ''}"},
    {"encode: spawning", NIL, "spawning", .data = "nil"},
    {"encode: client_stopped", NIL, "client_stopped", .data = "nil"},
    {"encode: quit", NIL, "quit", .data = "nil"},
    /* Invalid UTF-8 becomes U+FFFD wherever a string goes out. */
    {"encode: invalid UTF-8 in a class name", SPAWNING_COMPLETE, "spawning_complete",
     .classes = bad_utf8_class, .nclasses = NROWS(bad_utf8_class),
     .data = "{'user_classes_count': {'Bad" FFFD "User': 1}, "
             "'user_count': 1}"},
    {"encode: invalid UTF-8 in exception texts", EXCEPTION, "exception", .msg = "x\xc3",
     .traceback = "\xfe", .data = "{'msg': 'x" FFFD "', 'traceback': '" FFFD "'}"},
};

static void test_encode_case(void **state)
{
    const encode_case *c = *state;
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    int rc = -1;

    msgpack_sbuffer_init(&sb);
    /* Something already in the buffer must be replaced, not appended to. */
    assert_int_equal(proto_encode_client_ready(&sb, NODE), 0);
    switch (c->call) {
    case CLIENT_READY:
        rc = proto_encode_client_ready(&sb, NODE);
        break;
    case NIL:
        rc = proto_encode_nil(&sb, c->type, NODE);
        break;
    case HEARTBEAT:
        rc = proto_encode_heartbeat(&sb, NODE, c->state, c->cpu, c->rss);
        break;
    case SPAWNING_COMPLETE:
        rc = proto_encode_spawning_complete(&sb, NODE, c->classes, c->nclasses);
        break;
    case EXCEPTION:
        rc = proto_encode_exception(&sb, NODE, c->msg, c->traceback);
        break;
    }
    assert_int_equal(rc, 0);
    check_data(unpack_frame(&sb, &up, c->type), c->data);
    if (c->head != NULL) {
        assert_true(sb.size >= c->bytes_len);
        assert_memory_equal(sb.data, c->head, c->bytes_len);
    }
    if (c->has != NULL)
        assert_non_null(memmem(sb.data, sb.size, c->has, c->bytes_len));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

/* A caller-built data object between proto_begin and proto_end. */
static void test_encode_begin_end(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_begin(&sb, &pk, "stats"), 0);
    msgpack_pack_map(&pk, 1);
    assert_int_equal(proto_pack_str(&pk, "user_count"), 0);
    msgpack_pack_int64(&pk, 7);
    assert_int_equal(proto_end(&pk, NODE), 0);
    check_data(unpack_frame(&sb, &up, "stats"), "{'user_count': 7}");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

/* proto_pack_str(in) must unpack as a str equal to want. */
static void check_pack_str(const char *in, const char *want)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
    size_t off = 0;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(proto_pack_str(&pk, in), 0);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb.size);
    assert_str(&up.data, want);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_pack_str_utf8(void **state)
{
    (void)state;
    check_pack_str("", "");
    check_pack_str("plain ascii", "plain ascii");
    check_pack_str("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e",
                   "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e");
    check_pack_str("a\xff"
                   "b",
                   "a" FFFD "b");
    check_pack_str("\x80", FFFD);
    check_pack_str("\xc0\xaf", FFFD FFFD);                   /* overlong / */
    check_pack_str("\xe0\x80\xaf", FFFD FFFD FFFD);          /* overlong */
    check_pack_str("\xed\xa0\x80", FFFD FFFD FFFD);          /* surrogate */
    check_pack_str("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* > 10FFFF */
    check_pack_str("\xf5\x80", FFFD FFFD);
    check_pack_str("end\xe2\x82", "end" FFFD FFFD); /* cut short */
    check_pack_str("\xe2\x82"
                   "x\xe2\x82\xac",
                   FFFD FFFD "x\xe2\x82\xac");
    check_pack_str("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
}

static void test_pack_str_wire_types(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char big[300];
    msgpack_unpacked up;
    size_t off = 0;

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(proto_pack_str(&pk, NULL), 0);
    assert_int_equal(proto_pack_str(&pk, big + sizeof big - 1 - 40), 0);
    assert_int_equal(proto_pack_str(&pk, big), 0);
    /* nil, str8 (0xd9, not bin8 0xc4), str16 (0xda, not bin16 0xc5) */
    assert_int_equal((unsigned char)sb.data[0], 0xc0);
    assert_int_equal((unsigned char)sb.data[1], 0xd9);
    assert_int_equal((unsigned char)sb.data[1 + 2 + 40], 0xda);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_NIL);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_STR);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_STR);
    assert_int_equal(up.data.via.str.size, sizeof big - 1);
    assert_int_equal(off, sb.size);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

/* What we send decodes with our own decoder as an unknown type. */
static void test_encode_decode_roundtrip(void **state)
{
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_encode_client_ready(&sb, NODE), 0);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_UNKNOWN);
    assert_string_equal(m.type_name, "client_ready");
    assert_string_equal(m.node_id, NODE);
    proto_msg_free(&m);
    assert_int_equal(proto_encode_nil(&sb, "quit", NODE), 0);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_QUIT);
    proto_msg_free(&m);
    proto_msg_free(&m); /* freeing twice is harmless */
    msgpack_sbuffer_destroy(&sb);
}

/* ---- decoding: master frames and what they decode to ---- */

/* A frame: written as text, or else raw bytes (raw NULL: no buffer). */
typedef struct {
    const char *text;
    const char *raw;
    size_t len;
} frame;

#define TEXT(t)   \
    {             \
        .text = t \
    }
#define RAW(lit)                          \
    {                                     \
        .raw = lit, .len = sizeof lit - 1 \
    }

/* A copy of the frame's bytes in a block of exactly their size (NULL for
 * no buffer), so that ASan sees any read past the end. */
static char *frame_bytes(const frame *f, size_t *len)
{
    msgpack_sbuffer sb;
    const char *bytes = f->raw;
    char *copy;

    *len = f->len;
    msgpack_sbuffer_init(&sb);
    if (f->text != NULL) {
        pack_text(&sb, f->text);
        bytes = sb.data;
        *len = sb.size;
    }
    copy = NULL;
    if (bytes != NULL) {
        copy = malloc(*len ? *len : 1);
        assert_non_null(copy);
        memcpy(copy, bytes, *len);
    }
    msgpack_sbuffer_destroy(&sb);
    return copy;
}

/* parsed_options roughly as 2.12.1's argparse Namespace packs it, with a
 * nested map holding an array and an int key (strict_map_key off). */
#define PARSED_OPTIONS                                                       \
    "{'locustfile': 'locustfile.py', 'headless': true, 'autostart': false, " \
    "'master_bind_port': 5557, 'spawn_rate': 1.5, 'run_time': nil, "         \
    "'tags': [], 'exclude_tags': ['slow', 'flaky'], "                        \
    "'user_classes': ['WebUser'], 'reset_stats': false, "                    \
    "'custom': {'nested': [-3, 2.5f, {}]}, 42: b'\\x00\\x01'}"

static const char spawn_2121[] =
    MSG("spawn", "{'timestamp': 1700000000.123456, "
                 "'user_classes_count': {'WebUser': 5, 'ApiUser': 0}, "
                 "'host': nil, 'stop_timeout': nil, 'parsed_options': " PARSED_OPTIONS "}");

static const char spawn_2463[] =
    MSG("spawn", "{'timestamp': 1760000000.5, "
                 "'user_classes_count': {'WebUser': 1000, 'ApiUser': 3, 'IdleUser': 0}, "
                 "'host': 'http://localhost:8080', 'stop_timeout': 0.0, "
                 "'parsed_options': " PARSED_OPTIONS "}");

/* A frame and the message it must decode to. ack_index is compared for
 * ack messages only; the spawn fields always (zero for other types). */
typedef struct {
    const char *name;
    frame in;
    proto_msg want;
} decode_case;

#define FROM_MASTER(t, tname) .type = t, .type_name = tname, .node_id = MASTER
#define CLASSES(...)                                                                  \
    .nclasses = sizeof(proto_class_count[]){__VA_ARGS__} / sizeof(proto_class_count), \
    .classes = (proto_class_count[])                                                  \
    {                                                                                 \
        __VA_ARGS__                                                                   \
    }

static const decode_case decodes[] = {
    {"decode: ack, nil data (2.10)",
     TEXT(MSG("ack", "nil")),
     {FROM_MASTER(PROTO_ACK, "ack"), .ack_index = -1}},
    {"decode: ack, index 0 (2.11+)",
     TEXT(MSG("ack", "{'index': 0}")),
     {FROM_MASTER(PROTO_ACK, "ack"), .ack_index = 0}},
    {"decode: ack, uint16 index",
     TEXT(MSG("ack", "{'index': 300}")),
     {FROM_MASTER(PROTO_ACK, "ack"), .ack_index = 300}},
    {"decode: spawn as 2.12.1 sends it",
     TEXT(spawn_2121),
     {FROM_MASTER(PROTO_SPAWN, "spawn"),
      .spawn = {.timestamp = 1700000000.123456, CLASSES({"WebUser", 5}, {"ApiUser", 0})}}},
    /* int timestamp and stop_timeout, a uint8 count; "" means no host */
    {"decode: spawn, 2.12.1 with --stop-timeout",
     TEXT(MSG("spawn", "{'timestamp': 1700000000, "
                       "'user_classes_count': {'WebUser': 200}, "
                       "'host': '', 'stop_timeout': 10, "
                       "'parsed_options': {}}")),
     {FROM_MASTER(PROTO_SPAWN, "spawn"), .spawn = {.timestamp = 1700000000.0,
                                                   .has_stop_timeout = 1,
                                                   .stop_timeout = 10.0,
                                                   CLASSES({"WebUser", 200})}}},
    {"decode: spawn as 2.46.3 sends it",
     TEXT(spawn_2463),
     {FROM_MASTER(PROTO_SPAWN, "spawn"),
      .spawn = {.timestamp = 1760000000.5,
                .host = "http://localhost:8080",
                .has_stop_timeout = 1,
                .stop_timeout = 0.0,
                CLASSES({"WebUser", 1000}, {"ApiUser", 3}, {"IdleUser", 0})}}},
    /* Odd but harmless: key order, float/nil/negative/huge counts, an
     * unknown key, a float32 timestamp, no host and no stop_timeout. */
    {"decode: spawn, odd counts and keys",
     TEXT(MSG("spawn", "{'something_new': [nil], "
                       "'user_classes_count': {'F': 3.9, 'N': nil, "
                       "'Neg': -4, 'Huge': 18446744073709551615, "
                       "'HugeF': 1e300}, "
                       "'timestamp': 2.0f}")),
     {FROM_MASTER(PROTO_SPAWN, "spawn"),
      .spawn = {.timestamp = 2.0,
                CLASSES({"F", 3}, {"N", 0}, {"Neg", 0}, {"Huge", INT64_MAX},
                        {"HugeF", INT64_MAX})}}},
    {"decode: spawn, no classes, negative stop_timeout",
     TEXT(MSG("spawn", "{'timestamp': 1.0, 'user_classes_count': {}, "
                       "'stop_timeout': -5.0}")),
     {FROM_MASTER(PROTO_SPAWN, "spawn"),
      .spawn = {.timestamp = 1.0, .has_stop_timeout = 1, .stop_timeout = 0.0}}},
    /* Python's msgpack 0.6 (allowed by 2.12.1) packs str as the old raw
     * forms: fixraw and raw16 (0xda) even for short strings, never str8. */
    {"decode: old raw strings (msgpack 0.6)",
     RAW("\x93"
         "\xda\x00\x04"
         "stop"
         "\xc0"
         "\xda\x00\x06"
         "master"),
     {.type = PROTO_STOP, .type_name = "stop", .node_id = "master"}},
    {"decode: stop", TEXT(MSG("stop", "nil")), {FROM_MASTER(PROTO_STOP, "stop")}},
    {"decode: quit", TEXT(MSG("quit", "nil")), {FROM_MASTER(PROTO_QUIT, "quit")}},
    {"decode: reconnect",
     TEXT(MSG("reconnect", "nil")),
     {FROM_MASTER(PROTO_RECONNECT, "reconnect")}},
    {"decode: heartbeat",
     TEXT(MSG("heartbeat", "nil")),
     {FROM_MASTER(PROTO_HEARTBEAT, "heartbeat")}},
    {"decode: spawning_complete (2.29+ broadcast)",
     TEXT(MSG("spawning_complete", "{'user_count': 8}")),
     {FROM_MASTER(PROTO_SPAWNING_COMPLETE, "spawning_complete")}},
    {"decode: update_user_class (2.25+ web UI)",
     TEXT(MSG("update_user_class", "{'user_class_name': 'WebUser', "
                                   "'tasks': ['index'], 'host': 'http://x'}")),
     {FROM_MASTER(PROTO_UPDATE_USER_CLASS, "update_user_class")}},
    {"decode: unknown type",
     TEXT(MSG("my_custom_message", "[1, {}]")),
     {FROM_MASTER(PROTO_UNKNOWN, "my_custom_message")}},
    /* msgpack-c may give empty strs no pointer. */
    {"decode: empty type and node_id",
     TEXT("['', nil, '']"),
     {.type = PROTO_UNKNOWN, .type_name = "", .node_id = ""}},
    /* A node_id that is not a str is tolerated (NULL). */
    {"decode: node_id not a str",
     TEXT("['stop', nil, nil]"),
     {.type = PROTO_STOP, .type_name = "stop", .node_id = NULL}},
};

static void assert_str_or_null(const char *got, const char *want)
{
    if (want == NULL) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void test_decode_case(void **state)
{
    const decode_case *c = *state;
    const proto_spawn *w = &c->want.spawn, *s;
    proto_msg m;
    char err[256];
    char *buf;
    size_t len, i;
    int rc;

    buf = frame_bytes(&c->in, &len);
    memset(&m, 0xA5, sizeof m); /* garbage in: must be reset */
    rc = proto_decode(buf, len, &m, err, sizeof err);
    free(buf);
    if (rc != 0)
        fail_msg("rejected: %s", err);
    assert_int_equal(m.type, c->want.type);
    assert_str_or_null(m.type_name, c->want.type_name);
    assert_str_or_null(m.node_id, c->want.node_id);
    if (c->want.type == PROTO_ACK)
        assert_int_equal(m.ack_index, c->want.ack_index);
    s = &m.spawn;
    if (s->timestamp != w->timestamp)
        fail_msg("timestamp %.17g, want %.17g", s->timestamp, w->timestamp);
    assert_str_or_null(s->host, w->host);
    assert_int_equal(s->has_stop_timeout, w->has_stop_timeout);
    if (s->stop_timeout != w->stop_timeout)
        fail_msg("stop_timeout %.17g, want %.17g", s->stop_timeout, w->stop_timeout);
    assert_int_equal(s->nclasses, w->nclasses);
    if (w->nclasses == 0)
        assert_null(s->classes);
    for (i = 0; i < w->nclasses; i++) {
        assert_string_equal(s->classes[i].name, w->classes[i].name);
        assert_int_equal(s->classes[i].count, w->classes[i].count);
    }
    proto_msg_free(&m);
    assert_null(m.type_name);
    assert_null(m.node_id);
    assert_null(m.spawn.classes);
    assert_null(m.spawn.host);
}

/* ---- decoding: malformed frames ---- */

/* A frame and a part of the error text rejecting it must give. */
typedef struct {
    const char *name;
    frame in;
    const char *why;
} reject_case;

#define SPAWN_WITH(ts, ucc) MSG("spawn", "{'timestamp': " ts ", 'user_classes_count': " ucc "}")

static const reject_case rejects[] = {
    {"reject: 2-element array", TEXT("['stop', nil]"), "3-element array"},
    {"reject: 4-element array", TEXT("['stop', nil, '" MASTER "', nil]"), "3-element array"},
    {"reject: a map", TEXT("{'type': 'stop'}"), "3-element array"},
    {"reject: a bare str", TEXT("'stop'"), "3-element array"},
    {"reject: type is bin", TEXT(FRAME("b'stop'", "nil")), "message type is not a str"},
    {"reject: type is int", TEXT(FRAME("1", "nil")), "message type is not a str"},
    {"reject: NUL inside the type", TEXT(MSG("st\\x00op", "nil")), "NUL"},
    {"reject: no buffer", {.raw = NULL, .len = 0}, "empty"},
    {"reject: empty buffer", RAW(""), "empty"},
    {"reject: reserved byte 0xc1", RAW("\xc1"), "0xc1"},
    {"reject: a byte after the message", TEXT(MSG("stop", "nil") " nil"), "trailing"},
    {"reject: two messages", TEXT(MSG("stop", "nil") " " MSG("stop", "nil")), "trailing"},

    {"reject: spawn, nil data", TEXT(MSG("spawn", "nil")), "spawn: data is not a map"},
    {"reject: spawn, array data", TEXT(MSG("spawn", "[]")), "spawn: data is not a map"},
    {"reject: spawn, nil user_classes_count", TEXT(SPAWN_WITH("1.0", "nil")),
     "spawn: user_classes_count is not a map"},
    {"reject: spawn, array user_classes_count", TEXT(SPAWN_WITH("1.0", "['WebUser']")),
     "spawn: user_classes_count is not a map"},
    {"reject: spawn, str timestamp", TEXT(SPAWN_WITH("'now'", "{}")), "spawn: timestamp"},
    {"reject: spawn, nil timestamp", TEXT(SPAWN_WITH("nil", "{}")), "spawn: timestamp"},
    {"reject: spawn, str count", TEXT(SPAWN_WITH("1.0", "{'WebUser': '5'}")),
     "count is not a number"},
    {"reject: spawn, bool count", TEXT(SPAWN_WITH("1.0", "{'WebUser': true}")),
     "count is not a number"},
    {"reject: spawn, int class name", TEXT(SPAWN_WITH("1.0", "{1: 1}")),
     "user class name is not a str"},
    {"reject: spawn, NUL in a class name", TEXT(SPAWN_WITH("1.0", "{'A\\x00B': 1}")), "NUL"},
    {"reject: spawn, a class twice", TEXT(SPAWN_WITH("1.0", "{'A': 1, 'B': 1, 'A': 2}")), "twice"},
    {"reject: spawn, no user_classes_count", TEXT(MSG("spawn", "{'timestamp': 1.0}")),
     "user_classes_count is missing"},
    {"reject: spawn, host not a str",
     TEXT(MSG("spawn", "{'timestamp': 1.0, 'user_classes_count': {'A': 1}, "
                       "'host': 80}")),
     "spawn: host"},
    {"reject: spawn, stop_timeout not a number",
     TEXT(MSG("spawn", "{'timestamp': 1.0, 'user_classes_count': {'A': 1}, "
                       "'stop_timeout': '10s'}")),
     "spawn: stop_timeout"},

    {"reject: ack, str data", TEXT(MSG("ack", "'0'")), "ack: data"},
    {"reject: ack, str index", TEXT(MSG("ack", "{'index': '0'}")), "ack: index"},
    {"reject: ack, negative index", TEXT(MSG("ack", "{'index': -2}")), "ack: index"},

    /* Headers announcing far more than the frame holds must not make
     * msgpack-c allocate for them. */
    {"reject: huge array32", RAW("\xdd\xff\xff\xff\xff"), "truncated"},
    {"reject: huge map32", RAW("\xdf\xff\xff\xff\xff"), "truncated"},
    {"reject: huge array32 data", RAW("\x93\xa4stop\xdd\xff\xff\xff\xff\xc0"), "truncated"},
    {"reject: huge map32 spawn data", RAW("\x93\xa5spawn\xdf\x7f\xff\xff\xff\xa1m"), "truncated"},
    {"reject: huge str32", RAW("\x93\xa4stop\xdb\xff\xff\xff\xff"), "truncated"},
    {"reject: huge bin32", RAW("\x93\xa4stop\xc6\xff\xff\xff\xff"), "truncated"},
    {"reject: huge ext32", RAW("\x93\xa4stop\xc9\xff\xff\xff\xff\x01"), "truncated"},
    {"reject: str32 node_id cut short",
     RAW("\x93\xa4stop\xc0\xdb\x00\x00\x00\x05"
         "ab"),
     "truncated"},
};

static void test_reject_case(void **state)
{
    const reject_case *c = *state;
    size_t len;
    char *buf = frame_bytes(&c->in, &len);

    expect_reject(buf, len, c->why);
    free(buf);
}

/* ---- decoding: tests of their own ---- */

/* Every proper prefix of a valid spawn is rejected without leaks; the whole
 * frame still decodes. The prefix is copied to an exact-size heap block so
 * that ASan sees any read past its end. */
static void check_prefixes(const msgpack_sbuffer *sb)
{
    proto_msg m;
    char err[128];
    size_t len;
    char *copy;

    for (len = 0; len < sb->size; len++) {
        copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, sb->data, len);
        expect_reject(copy, len, NULL);
        free(copy);
    }
    assert_int_equal(decode_sb(sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_SPAWN);
    proto_msg_free(&m);
}

static void test_reject_truncated(void **state)
{
    msgpack_sbuffer sb;

    (void)state;
    msgpack_sbuffer_init(&sb);
    pack_text(&sb, spawn_2121);
    check_prefixes(&sb);
    pack_text(&sb, spawn_2463);
    check_prefixes(&sb);
    msgpack_sbuffer_destroy(&sb);
}

/* Nesting: parsed_options-like depth is fine, absurd depth is rejected. */
static void nested_msg(msgpack_sbuffer *sb, int depth)
{
    msgpack_packer pk;
    int i;

    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    ps(&pk, "custom");
    for (i = 0; i < depth; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    ps(&pk, MASTER);
}

static void test_deep_nesting(void **state)
{
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    nested_msg(&sb, 20);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_UNKNOWN);
    proto_msg_free(&m);
    nested_msg(&sb, 100000);
    expect_reject_sb(&sb, NULL);
    msgpack_sbuffer_destroy(&sb);
}

/* Every single-byte change of a valid spawn: decodes or is rejected, never
 * crashes or leaks (ASan/LSan run this). */
static void test_mutations(void **state)
{
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];
    char *copy;
    size_t i;
    int v, ok = 0, bad = 0;

    (void)state;
    msgpack_sbuffer_init(&sb);
    pack_text(&sb, spawn_2463);
    copy = malloc(sb.size);
    assert_non_null(copy);
    for (i = 0; i < sb.size; i++) {
        memcpy(copy, sb.data, sb.size);
        for (v = 0; v < 256; v++) {
            copy[i] = (char)v;
            if (proto_decode(copy, sb.size, &m, err, sizeof err) == 0)
                ok++;
            else
                bad++;
            proto_msg_free(&m);
        }
    }
    assert_true(ok > 0 && bad > 0);
    free(copy);
    msgpack_sbuffer_destroy(&sb);
}

/* Random garbage with a fixed seed. */
static void test_random_garbage(void **state)
{
    unsigned char buf[64];
    proto_msg m;
    unsigned seed = 12345;
    size_t len, i;
    int n;

    (void)state;
    for (n = 0; n < 20000; n++) {
        len = (size_t)(rand_r(&seed) % sizeof buf) + 1;
        for (i = 0; i < len; i++)
            buf[i] = (unsigned char)rand_r(&seed);
        if (n % 2)
            buf[0] = 0x93; /* look like a message more often */
        (void)proto_decode((const char *)buf, len, &m, NULL, 0);
        proto_msg_free(&m);
    }
}

static void test_err_buffer(void **state)
{
    proto_msg m;
    char err[8];

    (void)state;
    /* A short err buffer is truncated and terminated; NULL is allowed. */
    memset(err, 'x', sizeof err);
    assert_int_equal(proto_decode("\x91\xc0", 2, &m, err, sizeof err), -1);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_int_equal(proto_decode("\x91\xc0", 2, &m, NULL, 0), -1);
    assert_int_equal(proto_decode("\x91\xc0", 2, &m, err, 0), -1);
    proto_msg_free(&m);
    proto_msg_free(NULL);
}

int main(void)
{
    static const struct CMUnitTest others[] = {
        cmocka_unit_test(test_encode_begin_end),    cmocka_unit_test(test_pack_str_utf8),
        cmocka_unit_test(test_pack_str_wire_types), cmocka_unit_test(test_encode_decode_roundtrip),
        cmocka_unit_test(test_reject_truncated),    cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_mutations),           cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_err_buffer),
    };
    /* A test per row of the tables, named after it, then the others. */
    struct CMUnitTest tests[NROWS(encodes) + NROWS(decodes) + NROWS(rejects) + NROWS(others)];
    size_t i, n = 0;

    for (i = 0; i < NROWS(encodes); i++)
        tests[n++] = (struct CMUnitTest){.name = encodes[i].name,
                                         .test_func = test_encode_case,
                                         .initial_state = (void *)&encodes[i]};
    for (i = 0; i < NROWS(decodes); i++)
        tests[n++] = (struct CMUnitTest){.name = decodes[i].name,
                                         .test_func = test_decode_case,
                                         .initial_state = (void *)&decodes[i]};
    for (i = 0; i < NROWS(rejects); i++)
        tests[n++] = (struct CMUnitTest){.name = rejects[i].name,
                                         .test_func = test_reject_case,
                                         .initial_state = (void *)&rejects[i]};
    memcpy(tests + n, others, sizeof others);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
