/*
 * test_options.c - unit tests for the codec's parsed_options and
 * update_user_class (proto/options.c): every kind of value a master sends
 * as the text Python's str() gives it, lists and their items, None and
 * values of other kinds as NULL without failing the message; the class
 * picker's data with its tasks, host and other keys; a missing class name
 * rejected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../proto/proto.h"

static void pack_s(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void spawn_with_options(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_s(&pk, "spawn");
    msgpack_pack_map(&pk, 3);
    pack_s(&pk, "timestamp");
    msgpack_pack_double(&pk, 1.5);
    pack_s(&pk, "user_classes_count");
    msgpack_pack_map(&pk, 0);
    pack_s(&pk, "parsed_options");
    msgpack_pack_map(&pk, 9);
    pack_s(&pk, "tags");
    msgpack_pack_array(&pk, 2);
    pack_s(&pk, "a");
    pack_s(&pk, "b");
    pack_s(&pk, "exclude_tags");
    msgpack_pack_nil(&pk);
    pack_s(&pk, "agent_prefix");
    pack_s(&pk, "lt-");
    pack_s(&pk, "num");
    msgpack_pack_int(&pk, -3);
    pack_s(&pk, "ratio");
    msgpack_pack_double(&pk, 0.1);
    pack_s(&pk, "ten");
    msgpack_pack_double(&pk, 10.0);
    pack_s(&pk, "flag");
    msgpack_pack_true(&pk);
    pack_s(&pk, "nested");
    msgpack_pack_map(&pk, 0);
    pack_s(&pk, "empty");
    msgpack_pack_array(&pk, 0);
    pack_s(&pk, "node");
}

static void test_parsed_options(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    proto_msg m;
    char err[128];
    msgpack_sbuffer_init(&sb);
    spawn_with_options(&sb);
    assert_int_equal(proto_decode(sb.data, sb.size, &m, err, sizeof err), 0);
    const proto_option *o = proto_spawn_option(&m.spawn, "tags");
    assert_non_null(o);
    assert_true(o->is_list);
    assert_int_equal(o->nitems, 2);
    assert_string_equal(o->items[1], "b");
    assert_string_equal(o->value, "a,b");
    assert_null(proto_spawn_option(&m.spawn, "exclude_tags")->value);
    assert_string_equal(proto_spawn_option(&m.spawn, "agent_prefix")->value, "lt-");
    assert_string_equal(proto_spawn_option(&m.spawn, "num")->value, "-3");
    assert_string_equal(proto_spawn_option(&m.spawn, "ratio")->value, "0.1");
    assert_string_equal(proto_spawn_option(&m.spawn, "ten")->value, "10.0");
    assert_string_equal(proto_spawn_option(&m.spawn, "flag")->value, "True");
    assert_null(proto_spawn_option(&m.spawn, "nested")->value);
    assert_string_equal(proto_spawn_option(&m.spawn, "empty")->value, "");
    assert_null(proto_spawn_option(&m.spawn, "missing"));
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

static int decode_update(int with_name, proto_msg *m)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char err[128];
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_s(&pk, "update_user_class");
    msgpack_pack_map(&pk, with_name ? 5 : 4);
    if (with_name) {
        pack_s(&pk, "user_class_name");
        pack_s(&pk, "MixedUser");
    }
    pack_s(&pk, "tasks");
    msgpack_pack_array(&pk, 2);
    pack_s(&pk, "state_read");
    msgpack_pack_int(&pk, 7); /* not a name: skipped */
    pack_s(&pk, "host");
    pack_s(&pk, "http://127.0.0.1:9");
    pack_s(&pk, "weight");
    msgpack_pack_int(&pk, 3);
    pack_s(&pk, "fixed_count");
    msgpack_pack_int(&pk, 0);
    msgpack_pack_nil(&pk);
    int rc = proto_decode(sb.data, sb.size, m, err, sizeof err);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void test_update_user_class(void **state)
{
    (void)state;
    proto_msg m;
    assert_int_equal(decode_update(1, &m), 0);
    assert_int_equal(m.type, PROTO_UPDATE_USER_CLASS);
    assert_string_equal(m.update.class_name, "MixedUser");
    assert_true(m.update.has_tasks);
    assert_int_equal(m.update.ntasks, 1);
    assert_string_equal(m.update.tasks[0], "state_read");
    assert_string_equal(m.update.host, "http://127.0.0.1:9");
    assert_string_equal(m.update.other, "weight, fixed_count");
    proto_msg_free(&m);
    assert_int_equal(decode_update(0, &m), -1);
    proto_msg_free(&m);
}

/* A repeated key resolves like a Python dict: the last one wins (the fuzz
 * target found a repeated "tasks" writing past its array). */
static void test_update_repeated_keys(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg m;
    char err[128];
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    pack_s(&pk, "update_user_class");
    msgpack_pack_map(&pk, 4);
    pack_s(&pk, "user_class_name");
    pack_s(&pk, "A");
    pack_s(&pk, "tasks");
    msgpack_pack_array(&pk, 1);
    pack_s(&pk, "one");
    pack_s(&pk, "tasks");
    msgpack_pack_array(&pk, 2);
    pack_s(&pk, "two");
    pack_s(&pk, "three");
    pack_s(&pk, "user_class_name");
    pack_s(&pk, "B");
    msgpack_pack_nil(&pk);
    assert_int_equal(proto_decode(sb.data, sb.size, &m, err, sizeof err), 0);
    assert_string_equal(m.update.class_name, "B");
    assert_int_equal(m.update.ntasks, 2);
    assert_string_equal(m.update.tasks[0], "two");
    assert_string_equal(m.update.tasks[1], "three");
    proto_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_parsed_options),
        cmocka_unit_test(test_update_user_class),
        cmocka_unit_test(test_update_repeated_keys),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
