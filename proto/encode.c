/*
 * encode.c - build the worker -> master messages.
 *
 * Every message is the msgpack array [type, data, node_id]. Strings always go
 * out as msgpack str (never bin) and are made valid UTF-8 first, because a
 * master that cannot decode a str drops the message (2.12.1 can even lose its
 * receive loop). Times and CPU usage are float64, never float32.
 *
 * Each function returns 0, or -1 when the buffer could not grow; after a
 * failed proto_encode_* the buffer is empty (size 0), never half a message.
 */
#include <string.h>

#include "proto.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * byte at s does not start one. Rejects overlong forms, surrogates and code
 * points above U+10FFFF, as Python's decoder does. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Bytes s takes once every invalid byte is replaced by U+FFFD. */
static size_t sanitized_len(const unsigned char *s, size_t n)
{
    size_t out = 0, i = 0, k;

    while (i < n) {
        k = utf8_seq_len(s + i, n - i);
        out += k ? k : sizeof(REPLACEMENT) - 1;
        i += k ? k : 1;
    }
    return out;
}

/* Write s as str body, flushing runs of valid bytes in one call each. */
static int pack_sanitized_body(msgpack_packer *pk, const unsigned char *s, size_t n)
{
    size_t i = 0, run = 0, k;

    while (i < n) {
        k = utf8_seq_len(s + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        if (msgpack_pack_str_body(pk, s + run, i - run) != 0 ||
            msgpack_pack_str_body(pk, REPLACEMENT, sizeof(REPLACEMENT) - 1))
            return -1;
        run = ++i;
    }
    return msgpack_pack_str_body(pk, s + run, n - run) != 0 ? -1 : 0;
}

int proto_pack_str(msgpack_packer *pk, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n, out;

    if (s == NULL)
        return msgpack_pack_nil(pk) != 0 ? -1 : 0;
    n = strlen(s);
    out = sanitized_len(u, n);
    if (out > UINT32_MAX || msgpack_pack_str(pk, out) != 0)
        return -1;
    if (out == n)
        return msgpack_pack_str_body(pk, s, n) != 0 ? -1 : 0;
    return pack_sanitized_body(pk, u, n);
}

int proto_pack_class_counts(msgpack_packer *pk, const proto_class_count *classes, size_t n)
{
    size_t i;

    if (n > UINT32_MAX || msgpack_pack_map(pk, n) != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (proto_pack_str(pk, classes[i].name) != 0 ||
            msgpack_pack_int64(pk, classes[i].count) != 0)
            return -1;
    return 0;
}

int proto_begin(msgpack_sbuffer *sbuf, msgpack_packer *pk, const char *type)
{
    msgpack_sbuffer_clear(sbuf);
    msgpack_packer_init(pk, sbuf, msgpack_sbuffer_write);
    if (msgpack_pack_array(pk, 3) != 0 || proto_pack_str(pk, type) != 0)
        return -1;
    return 0;
}

int proto_end(msgpack_packer *pk, const char *node_id)
{
    return proto_pack_str(pk, node_id);
}

/* Common tail of every proto_encode_*: on failure leave no partial message. */
static int finish(msgpack_sbuffer *sbuf, msgpack_packer *pk, int rc, const char *node_id)
{
    if (rc == 0 && proto_end(pk, node_id) == 0)
        return 0;
    msgpack_sbuffer_clear(sbuf);
    return -1;
}

/* A map key: always a plain ASCII literal here. */
static int pack_key(msgpack_packer *pk, const char *key)
{
    size_t n = strlen(key);

    if (msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, key, n) != 0)
        return -1;
    return 0;
}

int proto_encode_client_ready(msgpack_sbuffer *sbuf, const char *node_id)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, "client_ready");

    /* -1 skips the master's version check (Debian's 2.12.1 has version ""). */
    if (rc == 0)
        rc = msgpack_pack_int(&pk, -1);
    return finish(sbuf, &pk, rc, node_id);
}

int proto_encode_nil(msgpack_sbuffer *sbuf, const char *type, const char *node_id)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, type);

    if (rc == 0)
        rc = msgpack_pack_nil(&pk);
    return finish(sbuf, &pk, rc, node_id);
}

int proto_encode_heartbeat(msgpack_sbuffer *sbuf, const char *node_id, const char *state,
                           double cpu_percent, int64_t rss_bytes)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, "heartbeat");

    if (rc == 0)
        rc = msgpack_pack_map(&pk, 3) || pack_key(&pk, "state") || proto_pack_str(&pk, state) ||
             pack_key(&pk, "current_cpu_usage") || msgpack_pack_double(&pk, cpu_percent) ||
             pack_key(&pk, "current_memory_usage") || msgpack_pack_int64(&pk, rss_bytes);
    return finish(sbuf, &pk, rc, node_id);
}

/* Sum of the counts, saturating instead of overflowing. */
static int64_t total_count(const proto_class_count *classes, size_t n)
{
    int64_t sum = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (__builtin_add_overflow(sum, classes[i].count, &sum))
            sum = classes[i].count > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

int proto_encode_spawning_complete(msgpack_sbuffer *sbuf, const char *node_id,
                                   const proto_class_count *classes, size_t nclasses)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, "spawning_complete");

    if (rc == 0)
        rc = msgpack_pack_map(&pk, 2) || pack_key(&pk, "user_classes_count") ||
             proto_pack_class_counts(&pk, classes, nclasses) || pack_key(&pk, "user_count") ||
             msgpack_pack_int64(&pk, total_count(classes, nclasses));
    return finish(sbuf, &pk, rc, node_id);
}

int proto_encode_exception(msgpack_sbuffer *sbuf, const char *node_id, const char *msg,
                           const char *traceback)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, "exception");

    /* The master needs both keys as str: NULL becomes "". */
    if (rc == 0)
        rc = msgpack_pack_map(&pk, 2) || pack_key(&pk, "msg") ||
             proto_pack_str(&pk, msg ? msg : "") || pack_key(&pk, "traceback") ||
             proto_pack_str(&pk, traceback ? traceback : "");
    return finish(sbuf, &pk, rc, node_id);
}

int proto_encode_logs(msgpack_sbuffer *sbuf, const char *node_id, const char *const *lines,
                      size_t n)
{
    msgpack_packer pk;
    int rc = proto_begin(sbuf, &pk, "logs");

    if (rc == 0)
        rc = msgpack_pack_map(&pk, 2) || pack_key(&pk, "worker_id") ||
             proto_pack_str(&pk, node_id) || pack_key(&pk, "logs") || msgpack_pack_array(&pk, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = proto_pack_str(&pk, lines[i]);
    return finish(sbuf, &pk, rc, node_id);
}
