/*
 * test_proto.c - unit tests of the message codec (proto/).
 *
 * Encoding: every message is unpacked again with msgpack-c itself and its
 * exact wire types are checked (str never bin, float64 times, int -1 for
 * client_ready, a 3-element array with node_id last).
 * Decoding: master messages are built with msgpack-c's own packer in the
 * shapes Locust 2.12.1 and 2.46.3 send, plus malformed and hostile frames
 * (wrong shapes, every truncation, mutations, huge headers, deep nesting).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"

#define NODE "myhost_0123456789abcdef0123456789abcdef"
#define MASTER "master_fedcba9876543210fedcba9876543210"

/* ---- helpers: our own packing, independent of proto_pack_* ---- */

static void ps(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);

    assert_int_equal(msgpack_pack_str(pk, n), 0);
    assert_int_equal(msgpack_pack_str_body(pk, s, n), 0);
}

/* Start [type, <data>, node_id]: the caller packs data, then end_msg. */
static void begin_msg(msgpack_sbuffer *sb, msgpack_packer *pk, const char *type)
{
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(pk, 3);
    ps(pk, type);
}

static void end_msg(msgpack_packer *pk)
{
    ps(pk, MASTER);
}

static void nil_msg(msgpack_sbuffer *sb, const char *type)
{
    msgpack_packer pk;

    begin_msg(sb, &pk, type);
    msgpack_pack_nil(&pk);
    end_msg(&pk);
}

static int decode_sb(const msgpack_sbuffer *sb, proto_msg *m, char *err,
                     size_t errlen)
{
    return proto_decode(sb->data, sb->size, m, err, errlen);
}

/* Decoding must fail, leave *m empty and say why (containing `why`). */
static void expect_reject(const char *buf, size_t len, const char *why)
{
    proto_msg m;
    char err[256];

    memset(&m, 0xA5, sizeof m);         /* garbage in: must be reset */
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
static const msgpack_object *unpack_frame(const msgpack_sbuffer *sb,
                                          msgpack_unpacked *up,
                                          const char *type)
{
    const msgpack_object *e;
    size_t off = 0;

    msgpack_unpacked_init(up);
    assert_int_equal(msgpack_unpack_next(up, sb->data, sb->size, &off),
                     MSGPACK_UNPACK_SUCCESS);
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

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    uint32_t i;

    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        assert_int_equal(k->type, MSGPACK_OBJECT_STR);
        if (k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, strlen(key)) == 0)
            return &map->via.map.ptr[i].val;
    }
    fail_msg("key %s missing", key);
    return NULL;
}

/* ---- encoding ---- */

static void test_encode_client_ready(void **state)
{
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *data;

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_encode_client_ready(&sb, NODE), 0);
    /* fixarray(3), fixstr(12) "client_ready", negative fixint -1 */
    assert_int_equal((unsigned char)sb.data[0], 0x93);
    assert_int_equal((unsigned char)sb.data[1], 0xa0 | 12);
    assert_memory_equal(sb.data + 2, "client_ready", 12);
    assert_int_equal((unsigned char)sb.data[14], 0xff);
    data = unpack_frame(&sb, &up, "client_ready");
    assert_int_equal(data->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_int_equal(data->via.i64, -1);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_encode_heartbeat(void **state)
{
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *data, *v;

    (void)state;
    msgpack_sbuffer_init(&sb);
    /* Something already in the buffer must be replaced, not appended to. */
    assert_int_equal(proto_encode_client_ready(&sb, NODE), 0);
    assert_int_equal(proto_encode_heartbeat(&sb, NODE, "running", 12.5,
                                            123456789), 0);
    data = unpack_frame(&sb, &up, "heartbeat");
    assert_int_equal(data->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(data->via.map.size, 3);
    assert_str(get(data, "state"), "running");
    v = get(data, "current_cpu_usage");
    assert_int_equal(v->type, MSGPACK_OBJECT_FLOAT64);
    assert_true(v->via.f64 == 12.5);
    v = get(data, "current_memory_usage");
    assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(v->via.u64, 123456789);
    msgpack_unpacked_destroy(&up);

    /* A whole-number CPU value must still be a float64 (tag 0xcb). */
    assert_int_equal(proto_encode_heartbeat(&sb, NODE, "ready", 0.0, 0), 0);
    data = unpack_frame(&sb, &up, "heartbeat");
    assert_int_equal(get(data, "current_cpu_usage")->type,
                     MSGPACK_OBJECT_FLOAT64);
    assert_non_null(memmem(sb.data, sb.size, "\xcb\0\0\0\0\0\0\0\0", 9));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_encode_spawning_complete(void **state)
{
    static const proto_class_count cls[] = {
        {"WebUser", 5}, {"ApiUser", 3}, {"IdleUser", 0},
    };
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *data, *ucc, *v;

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_encode_spawning_complete(&sb, NODE, cls, 3), 0);
    data = unpack_frame(&sb, &up, "spawning_complete");
    assert_int_equal(data->via.map.size, 2);
    ucc = get(data, "user_classes_count");
    assert_int_equal(ucc->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(ucc->via.map.size, 3);
    assert_int_equal(get(ucc, "WebUser")->via.u64, 5);
    assert_int_equal(get(ucc, "ApiUser")->via.u64, 3);
    v = get(ucc, "IdleUser");
    assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(v->via.u64, 0);
    v = get(data, "user_count");
    assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(v->via.u64, 8);
    msgpack_unpacked_destroy(&up);

    /* No classes: an empty map and a zero total. */
    assert_int_equal(proto_encode_spawning_complete(&sb, NODE, NULL, 0), 0);
    data = unpack_frame(&sb, &up, "spawning_complete");
    assert_int_equal(get(data, "user_classes_count")->via.map.size, 0);
    assert_int_equal(get(data, "user_count")->via.u64, 0);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_encode_exception(void **state)
{
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *data;

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_encode_exception(&sb, NODE, "boom",
                                            "Traceback:\n  task x\n"), 0);
    data = unpack_frame(&sb, &up, "exception");
    assert_int_equal(data->via.map.size, 2);
    assert_str(get(data, "msg"), "boom");
    assert_str(get(data, "traceback"), "Traceback:\n  task x\n");
    msgpack_unpacked_destroy(&up);

    /* NULL texts still give str values: the master needs both keys. */
    assert_int_equal(proto_encode_exception(&sb, NODE, NULL, NULL), 0);
    data = unpack_frame(&sb, &up, "exception");
    assert_str(get(data, "msg"), "");
    assert_str(get(data, "traceback"), "");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_encode_nil_and_begin_end(void **state)
{
    static const char *types[] = {"spawning", "client_stopped", "quit"};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
    const msgpack_object *data;
    size_t i;

    (void)state;
    msgpack_sbuffer_init(&sb);
    for (i = 0; i < 3; i++) {
        assert_int_equal(proto_encode_nil(&sb, types[i], NODE), 0);
        data = unpack_frame(&sb, &up, types[i]);
        assert_int_equal(data->type, MSGPACK_OBJECT_NIL);
        msgpack_unpacked_destroy(&up);
    }

    /* A caller-built data object between proto_begin and proto_end. */
    assert_int_equal(proto_begin(&sb, &pk, "stats"), 0);
    msgpack_pack_map(&pk, 1);
    assert_int_equal(proto_pack_str(&pk, "user_count"), 0);
    msgpack_pack_int64(&pk, 7);
    assert_int_equal(proto_end(&pk, NODE), 0);
    data = unpack_frame(&sb, &up, "stats");
    assert_int_equal(get(data, "user_count")->via.u64, 7);
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
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb.size);
    assert_str(&up.data, want);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

#define FFFD "\xEF\xBF\xBD"

static void test_pack_str_utf8(void **state)
{
    (void)state;
    check_pack_str("", "");
    check_pack_str("plain ascii", "plain ascii");
    check_pack_str("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e",
                   "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e");
    check_pack_str("a\xff" "b", "a" FFFD "b");
    check_pack_str("\x80", FFFD);
    check_pack_str("\xc0\xaf", FFFD FFFD);                 /* overlong / */
    check_pack_str("\xe0\x80\xaf", FFFD FFFD FFFD);        /* overlong */
    check_pack_str("\xed\xa0\x80", FFFD FFFD FFFD);        /* surrogate */
    check_pack_str("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* > 10FFFF */
    check_pack_str("\xf5\x80", FFFD FFFD);
    check_pack_str("end\xe2\x82", "end" FFFD FFFD);        /* cut short */
    check_pack_str("\xe2\x82" "x\xe2\x82\xac", FFFD FFFD "x\xe2\x82\xac");
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
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_NIL);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_STR);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_STR);
    assert_int_equal(up.data.via.str.size, sizeof big - 1);
    assert_int_equal(off, sb.size);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void test_encode_sanitizes_everywhere(void **state)
{
    static const proto_class_count cls[] = {{"Bad\xffUser", 1}};
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *data;

    (void)state;
    msgpack_sbuffer_init(&sb);
    assert_int_equal(proto_encode_spawning_complete(&sb, NODE, cls, 1), 0);
    data = unpack_frame(&sb, &up, "spawning_complete");
    assert_int_equal(get(get(data, "user_classes_count"), "Bad" FFFD "User")
                         ->via.u64, 1);
    msgpack_unpacked_destroy(&up);
    assert_int_equal(proto_encode_exception(&sb, NODE, "x\xc3", "\xfe"), 0);
    data = unpack_frame(&sb, &up, "exception");
    assert_str(get(data, "msg"), "x" FFFD);
    assert_str(get(data, "traceback"), FFFD);
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
    proto_msg_free(&m);                 /* freeing twice is harmless */
    msgpack_sbuffer_destroy(&sb);
}

/* ---- decoding: real-shaped master messages ---- */

static void test_decode_ack(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    nil_msg(&sb, "ack");                        /* 2.10.x */
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_ACK);
    assert_string_equal(m.type_name, "ack");
    assert_string_equal(m.node_id, MASTER);
    assert_int_equal(m.ack_index, -1);
    proto_msg_free(&m);

    begin_msg(&sb, &pk, "ack");                 /* 2.11.0+ */
    msgpack_pack_map(&pk, 1);
    ps(&pk, "index");
    msgpack_pack_int(&pk, 0);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_ACK);
    assert_int_equal(m.ack_index, 0);
    proto_msg_free(&m);

    begin_msg(&sb, &pk, "ack");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "index");
    msgpack_pack_uint16(&pk, 300);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.ack_index, 300);
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

/* parsed_options roughly as 2.12.1's argparse Namespace packs it. */
static void pack_parsed_options(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 12);
    ps(pk, "locustfile");
    ps(pk, "locustfile.py");
    ps(pk, "headless");
    msgpack_pack_true(pk);
    ps(pk, "autostart");
    msgpack_pack_false(pk);
    ps(pk, "master_bind_port");
    msgpack_pack_uint16(pk, 5557);
    ps(pk, "spawn_rate");
    msgpack_pack_double(pk, 1.5);
    ps(pk, "run_time");
    msgpack_pack_nil(pk);
    ps(pk, "tags");
    msgpack_pack_array(pk, 0);
    ps(pk, "exclude_tags");
    msgpack_pack_array(pk, 2);
    ps(pk, "slow");
    ps(pk, "flaky");
    ps(pk, "user_classes");
    msgpack_pack_array(pk, 1);
    ps(pk, "WebUser");
    ps(pk, "reset_stats");
    msgpack_pack_false(pk);
    ps(pk, "custom");                   /* nested map with an array */
    msgpack_pack_map(pk, 1);
    ps(pk, "nested");
    msgpack_pack_array(pk, 3);
    msgpack_pack_int(pk, -3);
    msgpack_pack_float(pk, 2.5f);
    msgpack_pack_map(pk, 0);
    msgpack_pack_int(pk, 42);           /* an int key (strict_map_key off) */
    msgpack_pack_bin(pk, 2);
    msgpack_pack_bin_body(pk, "\0\1", 2);
}

static void build_spawn_2121(msgpack_sbuffer *sb)
{
    msgpack_packer pk;

    begin_msg(sb, &pk, "spawn");
    msgpack_pack_map(&pk, 5);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1700000000.123456);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 2);
    ps(&pk, "WebUser");
    msgpack_pack_int(&pk, 5);
    ps(&pk, "ApiUser");
    msgpack_pack_int(&pk, 0);
    ps(&pk, "host");
    msgpack_pack_nil(&pk);
    ps(&pk, "stop_timeout");
    msgpack_pack_nil(&pk);
    ps(&pk, "parsed_options");
    pack_parsed_options(&pk);
    end_msg(&pk);
}

static void test_decode_spawn_2121(void **state)
{
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    build_spawn_2121(&sb);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_SPAWN);
    assert_string_equal(m.node_id, MASTER);
    assert_true(m.spawn.timestamp == 1700000000.123456);
    assert_null(m.spawn.host);
    assert_int_equal(m.spawn.has_stop_timeout, 0);
    assert_int_equal(m.spawn.nclasses, 2);
    assert_string_equal(m.spawn.classes[0].name, "WebUser");
    assert_int_equal(m.spawn.classes[0].count, 5);
    assert_string_equal(m.spawn.classes[1].name, "ApiUser");
    assert_int_equal(m.spawn.classes[1].count, 0);
    proto_msg_free(&m);
    assert_null(m.spawn.classes);
    msgpack_sbuffer_destroy(&sb);
}

static void test_decode_spawn_2121_stop_timeout_int(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    begin_msg(&sb, &pk, "spawn");
    msgpack_pack_map(&pk, 5);
    ps(&pk, "timestamp");
    msgpack_pack_int64(&pk, 1700000000);        /* an int timestamp too */
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "WebUser");
    msgpack_pack_uint8(&pk, 200);
    ps(&pk, "host");
    ps(&pk, "");
    ps(&pk, "stop_timeout");
    msgpack_pack_int(&pk, 10);
    ps(&pk, "parsed_options");
    msgpack_pack_map(&pk, 0);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_true(m.spawn.timestamp == 1700000000.0);
    assert_null(m.spawn.host);                  /* "" means no host */
    assert_int_equal(m.spawn.has_stop_timeout, 1);
    assert_true(m.spawn.stop_timeout == 10.0);
    assert_int_equal(m.spawn.classes[0].count, 200);
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

static void build_spawn_2463(msgpack_sbuffer *sb)
{
    msgpack_packer pk;

    begin_msg(sb, &pk, "spawn");
    msgpack_pack_map(&pk, 5);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1760000000.5);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 3);
    ps(&pk, "WebUser");
    msgpack_pack_int(&pk, 1000);
    ps(&pk, "ApiUser");
    msgpack_pack_int(&pk, 3);
    ps(&pk, "IdleUser");
    msgpack_pack_int(&pk, 0);
    ps(&pk, "host");
    ps(&pk, "http://localhost:8080");
    ps(&pk, "stop_timeout");
    msgpack_pack_double(&pk, 0.0);
    ps(&pk, "parsed_options");
    pack_parsed_options(&pk);
    end_msg(&pk);
}

static void test_decode_spawn_2463(void **state)
{
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    build_spawn_2463(&sb);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_SPAWN);
    assert_true(m.spawn.timestamp == 1760000000.5);
    assert_string_equal(m.spawn.host, "http://localhost:8080");
    assert_int_equal(m.spawn.has_stop_timeout, 1);
    assert_true(m.spawn.stop_timeout == 0.0);
    assert_int_equal(m.spawn.nclasses, 3);
    assert_string_equal(m.spawn.classes[0].name, "WebUser");
    assert_int_equal(m.spawn.classes[0].count, 1000);
    assert_string_equal(m.spawn.classes[2].name, "IdleUser");
    assert_int_equal(m.spawn.classes[2].count, 0);
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

/* Odd but harmless values: key order, float/nil/negative/huge counts,
 * unknown keys, a missing host and stop_timeout, an empty class map. */
static void test_decode_spawn_tolerant(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg m;
    char err[128];

    (void)state;
    msgpack_sbuffer_init(&sb);
    begin_msg(&sb, &pk, "spawn");
    msgpack_pack_map(&pk, 3);
    ps(&pk, "something_new");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 5);
    ps(&pk, "F");
    msgpack_pack_double(&pk, 3.9);
    ps(&pk, "N");
    msgpack_pack_nil(&pk);
    ps(&pk, "Neg");
    msgpack_pack_int(&pk, -4);
    ps(&pk, "Huge");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    ps(&pk, "HugeF");
    msgpack_pack_double(&pk, 1e300);
    ps(&pk, "timestamp");
    msgpack_pack_float(&pk, 2.0f);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_true(m.spawn.timestamp == 2.0);
    assert_null(m.spawn.host);
    assert_int_equal(m.spawn.has_stop_timeout, 0);
    assert_int_equal(m.spawn.nclasses, 5);
    assert_int_equal(m.spawn.classes[0].count, 3);
    assert_int_equal(m.spawn.classes[1].count, 0);
    assert_int_equal(m.spawn.classes[2].count, 0);
    assert_int_equal(m.spawn.classes[3].count, INT64_MAX);
    assert_int_equal(m.spawn.classes[4].count, INT64_MAX);
    proto_msg_free(&m);

    begin_msg(&sb, &pk, "spawn");
    msgpack_pack_map(&pk, 3);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1.0);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 0);
    ps(&pk, "stop_timeout");
    msgpack_pack_double(&pk, -5.0);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.spawn.nclasses, 0);
    assert_null(m.spawn.classes);
    assert_int_equal(m.spawn.has_stop_timeout, 1);
    assert_true(m.spawn.stop_timeout == 0.0);
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

/* Python's msgpack 0.6 (allowed by 2.12.1) packs str as the old raw forms:
 * fixraw and raw16 (0xda) even for short strings, never str8 (0xd9). */
static void test_decode_old_raw_strings(void **state)
{
    static const char msg[] =
        "\x93"
        "\xda\x00\x04" "stop"
        "\xc0"
        "\xda\x00\x06" "master";
    proto_msg m;
    char err[128];

    (void)state;
    assert_int_equal(proto_decode(msg, sizeof msg - 1, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_STOP);
    assert_string_equal(m.node_id, "master");
    proto_msg_free(&m);
}

static void test_decode_other_types(void **state)
{
    static const struct {
        const char *name;
        proto_type type;
    } nil_types[] = {
        {"stop", PROTO_STOP}, {"quit", PROTO_QUIT},
        {"reconnect", PROTO_RECONNECT}, {"heartbeat", PROTO_HEARTBEAT},
    };
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg m;
    char err[128];
    size_t i;

    (void)state;
    msgpack_sbuffer_init(&sb);
    for (i = 0; i < sizeof nil_types / sizeof nil_types[0]; i++) {
        nil_msg(&sb, nil_types[i].name);
        assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
        assert_int_equal(m.type, nil_types[i].type);
        assert_string_equal(m.type_name, nil_types[i].name);
        proto_msg_free(&m);
    }

    begin_msg(&sb, &pk, "spawning_complete");   /* 2.29+ broadcast */
    msgpack_pack_map(&pk, 1);
    ps(&pk, "user_count");
    msgpack_pack_int(&pk, 8);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_SPAWNING_COMPLETE);
    assert_int_equal(m.spawn.nclasses, 0);
    proto_msg_free(&m);

    begin_msg(&sb, &pk, "update_user_class");   /* 2.25+ web UI */
    msgpack_pack_map(&pk, 3);
    ps(&pk, "user_class_name");
    ps(&pk, "WebUser");
    ps(&pk, "tasks");
    msgpack_pack_array(&pk, 1);
    ps(&pk, "index");
    ps(&pk, "host");
    ps(&pk, "http://x");
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_UPDATE_USER_CLASS);
    proto_msg_free(&m);

    begin_msg(&sb, &pk, "my_custom_message");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_map(&pk, 0);
    end_msg(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_UNKNOWN);
    assert_string_equal(m.type_name, "my_custom_message");
    proto_msg_free(&m);

    /* Empty type and node_id strings (msgpack-c may give them no pointer). */
    msgpack_sbuffer_clear(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    ps(&pk, "");
    msgpack_pack_nil(&pk);
    ps(&pk, "");
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_UNKNOWN);
    assert_string_equal(m.type_name, "");
    assert_string_equal(m.node_id, "");
    proto_msg_free(&m);

    /* A node_id that is not a str is tolerated (NULL). */
    begin_msg(&sb, &pk, "stop");
    msgpack_pack_nil(&pk);
    msgpack_pack_nil(&pk);
    assert_int_equal(decode_sb(&sb, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PROTO_STOP);
    assert_null(m.node_id);
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- decoding: malformed frames ---- */

static void test_reject_shapes(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    (void)state;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    msgpack_pack_array(&pk, 2);                 /* 2 elements */
    ps(&pk, "stop");
    msgpack_pack_nil(&pk);
    expect_reject_sb(&sb, "3-element array");

    msgpack_sbuffer_clear(&sb);                 /* 4 elements */
    msgpack_pack_array(&pk, 4);
    ps(&pk, "stop");
    msgpack_pack_nil(&pk);
    ps(&pk, MASTER);
    msgpack_pack_nil(&pk);
    expect_reject_sb(&sb, "3-element array");

    msgpack_sbuffer_clear(&sb);                 /* map */
    msgpack_pack_map(&pk, 1);
    ps(&pk, "type");
    ps(&pk, "stop");
    expect_reject_sb(&sb, "3-element array");

    msgpack_sbuffer_clear(&sb);                 /* a bare str */
    ps(&pk, "stop");
    expect_reject_sb(&sb, "3-element array");

    msgpack_sbuffer_clear(&sb);                 /* type as bin */
    msgpack_pack_array(&pk, 3);
    msgpack_pack_bin(&pk, 4);
    msgpack_pack_bin_body(&pk, "stop", 4);
    msgpack_pack_nil(&pk);
    ps(&pk, MASTER);
    expect_reject_sb(&sb, "message type is not a str");

    msgpack_sbuffer_clear(&sb);                 /* type as int */
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_nil(&pk);
    ps(&pk, MASTER);
    expect_reject_sb(&sb, "message type is not a str");

    msgpack_sbuffer_clear(&sb);                 /* NUL inside the type */
    msgpack_pack_array(&pk, 3);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "st\0op", 5);
    msgpack_pack_nil(&pk);
    ps(&pk, MASTER);
    expect_reject_sb(&sb, "NUL");

    expect_reject(NULL, 0, "empty");
    expect_reject("", 0, "empty");
    expect_reject("\xc1", 1, "0xc1");
    msgpack_sbuffer_destroy(&sb);
}

static void test_reject_trailing_bytes(void **state)
{
    msgpack_sbuffer sb;
    char *copy;

    (void)state;
    msgpack_sbuffer_init(&sb);
    nil_msg(&sb, "stop");
    msgpack_sbuffer_write(&sb, "\xc0", 1);
    expect_reject_sb(&sb, "trailing");
    nil_msg(&sb, "stop");
    copy = malloc(sb.size);
    assert_non_null(copy);
    memcpy(copy, sb.data, sb.size);
    msgpack_sbuffer_write(&sb, copy, sb.size);  /* two messages */
    free(copy);
    expect_reject_sb(&sb, "trailing");
    msgpack_sbuffer_destroy(&sb);
}

/* A spawn whose data is `data_kind`, or whose user_classes_count is bad. */
static void test_reject_bad_spawn(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    (void)state;
    msgpack_sbuffer_init(&sb);
    nil_msg(&sb, "spawn");
    expect_reject_sb(&sb, "spawn: data is not a map");

    begin_msg(&sb, &pk, "spawn");
    msgpack_pack_array(&pk, 0);
    end_msg(&pk);
    expect_reject_sb(&sb, "spawn: data is not a map");

#define SPAWN_WITH(ts_pack, ucc_pack, why)                      \
    do {                                                        \
        begin_msg(&sb, &pk, "spawn");                           \
        msgpack_pack_map(&pk, 2);                               \
        ps(&pk, "timestamp");                                   \
        ts_pack;                                                \
        ps(&pk, "user_classes_count");                          \
        ucc_pack;                                               \
        end_msg(&pk);                                           \
        expect_reject_sb(&sb, why);                             \
    } while (0)

    SPAWN_WITH(msgpack_pack_double(&pk, 1.0), msgpack_pack_nil(&pk),
               "spawn: user_classes_count is not a map");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_array(&pk, 1), ps(&pk, "WebUser")),
               "spawn: user_classes_count is not a map");
    SPAWN_WITH(ps(&pk, "now"), msgpack_pack_map(&pk, 0),
               "spawn: timestamp");
    SPAWN_WITH(msgpack_pack_nil(&pk), msgpack_pack_map(&pk, 0),
               "spawn: timestamp");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_map(&pk, 1), ps(&pk, "WebUser"), ps(&pk, "5")),
               "count is not a number");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_map(&pk, 1), ps(&pk, "WebUser"),
                msgpack_pack_true(&pk)),
               "count is not a number");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_map(&pk, 1), msgpack_pack_int(&pk, 1),
                msgpack_pack_int(&pk, 1)),
               "user class name is not a str");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_map(&pk, 1), msgpack_pack_str(&pk, 3),
                msgpack_pack_str_body(&pk, "A\0B", 3), msgpack_pack_int(&pk, 1)),
               "NUL");
    SPAWN_WITH(msgpack_pack_double(&pk, 1.0),
               (msgpack_pack_map(&pk, 3), ps(&pk, "A"), msgpack_pack_int(&pk, 1),
                ps(&pk, "B"), msgpack_pack_int(&pk, 1), ps(&pk, "A"),
                msgpack_pack_int(&pk, 2)),
               "twice");
#undef SPAWN_WITH

    begin_msg(&sb, &pk, "spawn");               /* no user_classes_count */
    msgpack_pack_map(&pk, 1);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1.0);
    end_msg(&pk);
    expect_reject_sb(&sb, "user_classes_count is missing");

    begin_msg(&sb, &pk, "spawn");               /* host not a str */
    msgpack_pack_map(&pk, 3);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1.0);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "A");
    msgpack_pack_int(&pk, 1);
    ps(&pk, "host");
    msgpack_pack_int(&pk, 80);
    end_msg(&pk);
    expect_reject_sb(&sb, "spawn: host");

    begin_msg(&sb, &pk, "spawn");               /* stop_timeout not a number */
    msgpack_pack_map(&pk, 3);
    ps(&pk, "timestamp");
    msgpack_pack_double(&pk, 1.0);
    ps(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "A");
    msgpack_pack_int(&pk, 1);
    ps(&pk, "stop_timeout");
    ps(&pk, "10s");
    end_msg(&pk);
    expect_reject_sb(&sb, "spawn: stop_timeout");
    msgpack_sbuffer_destroy(&sb);
}

static void test_reject_bad_ack(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    (void)state;
    msgpack_sbuffer_init(&sb);
    begin_msg(&sb, &pk, "ack");
    ps(&pk, "0");
    end_msg(&pk);
    expect_reject_sb(&sb, "ack: data");

    begin_msg(&sb, &pk, "ack");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "index");
    ps(&pk, "0");
    end_msg(&pk);
    expect_reject_sb(&sb, "ack: index");

    begin_msg(&sb, &pk, "ack");
    msgpack_pack_map(&pk, 1);
    ps(&pk, "index");
    msgpack_pack_int(&pk, -2);
    end_msg(&pk);
    expect_reject_sb(&sb, "ack: index");
    msgpack_sbuffer_destroy(&sb);
}

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
    build_spawn_2121(&sb);
    check_prefixes(&sb);
    build_spawn_2463(&sb);
    check_prefixes(&sb);
    msgpack_sbuffer_destroy(&sb);
}

/* Headers announcing far more than the frame holds must not make msgpack-c
 * allocate for them. */
static void test_reject_huge_headers(void **state)
{
    static const struct {
        const char *buf;
        size_t len;
    } cases[] = {
        {"\xdd\xff\xff\xff\xff", 5},
        {"\xdf\xff\xff\xff\xff", 5},
        {"\x93\xa4stop\xdd\xff\xff\xff\xff\xc0", 12},
        {"\x93\xa5spawn\xdf\x7f\xff\xff\xff\xa1m", 14},
        {"\x93\xa4stop\xdb\xff\xff\xff\xff", 11},
        {"\x93\xa4stop\xc6\xff\xff\xff\xff", 11},
        {"\x93\xa4stop\xc9\xff\xff\xff\xff\x01", 12},
        {"\x93\xa4stop\xc0\xdb\x00\x00\x00\x05" "ab", 14},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_reject(cases[i].buf, cases[i].len, "truncated");
}

/* Nesting: parsed_options-like depth is fine, absurd depth is rejected. */
static void nested_msg(msgpack_sbuffer *sb, int depth)
{
    msgpack_packer pk;
    int i;

    begin_msg(sb, &pk, "custom");
    for (i = 0; i < depth; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    end_msg(&pk);
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
    build_spawn_2463(&sb);
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
            buf[0] = 0x93;              /* look like a message more often */
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_client_ready),
        cmocka_unit_test(test_encode_heartbeat),
        cmocka_unit_test(test_encode_spawning_complete),
        cmocka_unit_test(test_encode_exception),
        cmocka_unit_test(test_encode_nil_and_begin_end),
        cmocka_unit_test(test_pack_str_utf8),
        cmocka_unit_test(test_pack_str_wire_types),
        cmocka_unit_test(test_encode_sanitizes_everywhere),
        cmocka_unit_test(test_encode_decode_roundtrip),
        cmocka_unit_test(test_decode_ack),
        cmocka_unit_test(test_decode_spawn_2121),
        cmocka_unit_test(test_decode_spawn_2121_stop_timeout_int),
        cmocka_unit_test(test_decode_spawn_2463),
        cmocka_unit_test(test_decode_spawn_tolerant),
        cmocka_unit_test(test_decode_old_raw_strings),
        cmocka_unit_test(test_decode_other_types),
        cmocka_unit_test(test_reject_shapes),
        cmocka_unit_test(test_reject_trailing_bytes),
        cmocka_unit_test(test_reject_bad_spawn),
        cmocka_unit_test(test_reject_bad_ack),
        cmocka_unit_test(test_reject_truncated),
        cmocka_unit_test(test_reject_huge_headers),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_err_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
