/*
 * test_stats.c - unit tests for worker/stats.c.
 *
 * Bucketing is compared with Locust's own bucket_response_time() (run under
 * CPython): a table of named values, ties included, and a digest over about
 * 1.5 million values (steps, every tie of every tier with its neighbours one
 * ulp away, and pseudo-random values) generated identically on both sides.
 * Reports are unpacked with msgpack-c and checked for the exact key sets and
 * types the master expects, the counts (failures are requests too, None
 * response times), per-second maps, errors and their merging, the consistency
 * of stats_total with the entries, that every delta resets after a report,
 * and that long names are kept whole up to STATS_NAME_MAX bytes and cut
 * between characters beyond it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "../../worker/error_key.h"
#include "../../worker/stats.h"

#define T0 1700000000.0 /* an epoch second to start tests at */

/* ---- bucketing -------------------------------------------------------- */

/* Expected values from locust.stats.bucket_response_time (Locust 2.47). */
static const struct {
    double ms;
    int64_t key;
} bucket_cases[] = {
    {0x1.4000000000000p+1, 2},       /* 2.5 */
    {0x1.c000000000000p+1, 4},       /* 3.5 */
    {0x1.8e00000000000p+6, 100},     /* 99.5 */
    {0x1.2200000000000p+7, 140},     /* 145 */
    {0x1.3600000000000p+7, 160},     /* 155 */
    {0x1.f3f3333333333p+9, 1000},    /* 999.9 */
    {0x1.3880000000000p+10, 1200},   /* 1250 */
    {0x1.5180000000000p+10, 1400},   /* 1350 */
    {0x1.36f0000000000p+13, 10000},  /* 9950 */
    {0x1.86a0000000000p+13, 12000},  /* 12500 */
    {0x1.cb10000000000p+15, 59000},  /* 58760 */
    {0x1.999999999999ap-2, 0},       /* 0.4 */
    {0x0.0p+0, 0},                   /* 0 */
    {0x1.0000000000000p-1, 0},       /* 0.5 */
    {0x1.8000000000000p+0, 2},       /* 1.5 */
    {0x1.2000000000000p+2, 4},       /* 4.5 */
    {0x1.8df5c28f5c28fp+6, 99},      /* 99.49 */
    {0x1.8e000006b5fcap+6, 100},     /* 99.5000001 */
    {0x1.9000000000000p+6, 100},     /* 100 */
    {0x1.a3ffe5c91d14ep+6, 100},     /* 104.9999 */
    {0x1.a400000000000p+6, 100},     /* 105 */
    {0x1.cc00000000000p+6, 120},     /* 115 */
    {0x1.f17eb851eb852p+9, 990},     /* 994.99 */
    {0x1.f180000000000p+9, 1000},    /* 995 */
    {0x1.f400000000000p+9, 1000},    /* 1000 */
    {0x1.067f5c28f5c29p+10, 1000},   /* 1049.99 */
    {0x1.0680000000000p+10, 1000},   /* 1050 */
    {0x1.1f80000000000p+10, 1200},   /* 1150 */
    {0x1.36efeb851eb85p+13, 9900},   /* 9949.99 */
    {0x1.3880000000000p+13, 10000},  /* 10000 */
    {0x1.4820000000000p+13, 10000},  /* 10500 */
    {0x1.6760000000000p+13, 12000},  /* 11500 */
    {0x1.869fe66666666p+16, 100000}, /* 99999.9 */
    {0x1.8894000000000p+16, 100000}, /* 100500 */
    {0x1.e240c9fbe76c9p+16, 123000}, /* 123456.789 */
    {0x1.a36e2eb1c432dp-14, 0},      /* 0.0001 */
    {0x1.7a66666666666p+5, 47},      /* 47.3 */
    {0x1.2600000000000p+7, 150},     /* 147.0 */
    {0x1.ad00000000000p+11, 3400},   /* 3432.0 */
    {0x1.d4be000000000p+15, 60000},  /* 59999.0 */
    {0x1.d4c0000000000p+15, 60000},  /* 60000.0 */
};

static void test_bucket_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bucket_cases / sizeof bucket_cases[0]; i++) {
        int64_t got = stats_bucket(bucket_cases[i].ms);
        if (got != bucket_cases[i].key)
            fail_msg("bucket(%.17g) = %lld, want %lld", bucket_cases[i].ms, (long long)got,
                     (long long)bucket_cases[i].key);
    }
}

/*
 * The sweep, in the same order as this Python generator:
 *   for k in range(400001): yield k * 0.001
 *   for k in range(200001): yield float(k)
 *   for q in (1.0, 10.0, 100.0, 1000.0):
 *       for k in range(200001 if q == 1.0 else 20001):
 *           t = (k + 0.5) * q
 *           if t > 200000.0: break
 *           yield nextafter(t, -inf); yield t; yield nextafter(t, inf)
 *   x = 0x2545F4914F6CDD1D
 *   for _ in range(300000):
 *       x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
 *       yield (x >> 11) * 2.0**-53 * 200000.0
 * and the digest is sha256 of struct.pack('<q', bucket_response_time(v))
 * for every value.
 */
typedef struct {
    EVP_MD_CTX *ctx;
    size_t n;
} sweep_digest;

static void sweep_add(sweep_digest *d, double v)
{
    int64_t k = stats_bucket(v);
    unsigned char le[8];

    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)k >> (8 * i));
    EVP_DigestUpdate(d->ctx, le, sizeof le);
    d->n++;
}

static void sweep_ties(sweep_digest *d, double q)
{
    long kmax = q == 1.0 ? 200000 : 20000;

    for (long k = 0; k <= kmax; k++) {
        double t = ((double)k + 0.5) * q;
        if (t > 200000.0)
            break;
        sweep_add(d, nextafter(t, -INFINITY));
        sweep_add(d, t);
        sweep_add(d, nextafter(t, INFINITY));
    }
}

static void sweep_values(sweep_digest *d)
{
    static const double tiers[] = {1.0, 10.0, 100.0, 1000.0};
    uint64_t x = 0x2545F4914F6CDD1DULL;

    for (long k = 0; k <= 400000; k++)
        sweep_add(d, (double)k * 0.001);
    for (long k = 0; k <= 200000; k++)
        sweep_add(d, (double)k);
    for (int i = 0; i < 4; i++)
        sweep_ties(d, tiers[i]);
    for (int i = 0; i < 300000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        sweep_add(d, (double)(x >> 11) * 0x1p-53 * 200000.0);
    }
}

static void test_bucket_sweep(void **state)
{
    sweep_digest d = {EVP_MD_CTX_new(), 0};
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65];

    (void)state;
    assert_non_null(d.ctx);
    assert_int_equal(EVP_DigestInit_ex(d.ctx, EVP_sha256(), NULL), 1);
    sweep_values(&d);
    assert_int_equal(EVP_DigestFinal_ex(d.ctx, md, &mdlen), 1);
    EVP_MD_CTX_free(d.ctx);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_int_equal(d.n, 1566602);
    assert_string_equal(hex, "bbc4f973e0cb1c9db03fb8419b82f1b6"
                             "b5c9d6d757f34948e746eaf01fbc0d69");
}

static void test_bucket_odd_inputs(void **state)
{
    (void)state;
    assert_int_equal(stats_bucket(NAN), 0);
    assert_int_equal(stats_bucket(INFINITY), INT64_MAX);
    assert_int_equal(stats_bucket(-2.5), -2);
    assert_int_equal(stats_bucket(1e300), INT64_MAX);
}

/* ---- report helpers --------------------------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_unpacked up;
    const msgpack_object *root;
} report;

static const proto_class_count no_classes[1] = {{NULL, 0}};

static void report_take(report *r, lw_stats *s, const proto_class_count *c, size_t nc, double now)
{
    msgpack_packer pk;

    msgpack_sbuffer_init(&r->sb);
    msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
    assert_int_equal(stats_pack_report(s, &pk, c, nc), 0);
    stats_report_sent(s, now);
    msgpack_unpacked_init(&r->up);
    assert_int_equal(msgpack_unpack_next(&r->up, r->sb.data, r->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    r->root = &r->up.data;
    assert_int_equal(r->root->type, MSGPACK_OBJECT_MAP);
}

static void report_done(report *r)
{
    msgpack_unpacked_destroy(&r->up);
    msgpack_sbuffer_destroy(&r->sb);
}

static int str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Value of a str key in a map, or NULL. */
static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (str_is(&map->via.map.ptr[i].key, key))
            return &map->via.map.ptr[i].val;
    return NULL;
}

static const msgpack_object *must_get(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = get(map, key);

    if (v == NULL)
        fail_msg("missing key %s", key);
    return v;
}

static int64_t get_int(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = must_get(map, key);

    assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return (int64_t)v->via.u64;
}

static double get_f64(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = must_get(map, key);

    assert_int_equal(v->type, MSGPACK_OBJECT_FLOAT64);
    return v->via.f64;
}

static void assert_nil(const msgpack_object *map, const char *key)
{
    assert_int_equal(must_get(map, key)->type, MSGPACK_OBJECT_NIL);
}

/* Count under an int key of an int->int map (0 when absent). */
static int64_t int_map_get(const msgpack_object *map, int64_t key)
{
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        assert_int_equal(kv->key.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        if ((int64_t)kv->key.via.u64 == key)
            return (int64_t)kv->val.via.u64;
    }
    return 0;
}

/* Every key and value of an int->int map are non-negative msgpack ints. */
static int64_t int_map_sum(const msgpack_object *map)
{
    int64_t sum = 0;

    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        assert_int_equal(kv->key.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        assert_int_equal(kv->val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        sum += (int64_t)kv->val.via.u64;
    }
    return sum;
}

static const char *const entry_keys[14] = {
    "name",
    "method",
    "last_request_timestamp",
    "start_time",
    "num_requests",
    "num_none_requests",
    "num_failures",
    "total_response_time",
    "max_response_time",
    "min_response_time",
    "total_content_length",
    "response_times",
    "num_reqs_per_sec",
    "num_fail_per_sec",
};

/* Exactly the 14 StatsEntryDict keys, with the types the master expects. */
static void check_entry_shape(const msgpack_object *e)
{
    const msgpack_object *v;

    assert_int_equal(e->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(e->via.map.size, 14);
    for (int i = 0; i < 14; i++)
        must_get(e, entry_keys[i]);
    assert_int_equal(must_get(e, "name")->type, MSGPACK_OBJECT_STR);
    assert_int_equal(must_get(e, "method")->type, MSGPACK_OBJECT_STR);
    get_f64(e, "start_time");
    get_f64(e, "total_response_time");
    get_f64(e, "max_response_time");
    get_int(e, "total_content_length");
    v = must_get(e, "last_request_timestamp");
    assert_true(v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_NIL);
    v = must_get(e, "min_response_time");
    assert_true(v->type == MSGPACK_OBJECT_FLOAT64 || v->type == MSGPACK_OBJECT_NIL);
    assert_int_equal(int_map_sum(must_get(e, "response_times")),
                     get_int(e, "num_requests") - get_int(e, "num_none_requests"));
    assert_int_equal(int_map_sum(must_get(e, "num_reqs_per_sec")), get_int(e, "num_requests"));
    assert_int_equal(int_map_sum(must_get(e, "num_fail_per_sec")), get_int(e, "num_failures"));
}

/* The entry (name, method) in the report's stats list, or NULL. */
static const msgpack_object *find_entry(const report *r, const char *name, const char *method)
{
    const msgpack_object *list = must_get(r->root, "stats");

    assert_int_equal(list->type, MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *e = &list->via.array.ptr[i];
        if (str_is(must_get(e, "name"), name) && str_is(must_get(e, "method"), method))
            return e;
    }
    return NULL;
}

static uint32_t stats_len(const report *r)
{
    const msgpack_object *list = must_get(r->root, "stats");

    assert_int_equal(list->type, MSGPACK_OBJECT_ARRAY);
    return list->via.array.size;
}

static const msgpack_object *errors_of(const report *r)
{
    const msgpack_object *e = must_get(r->root, "errors");

    assert_int_equal(e->type, MSGPACK_OBJECT_MAP);
    return e;
}

/* ---- report tests ----------------------------------------------------- */

static void test_report_top_level(void **state)
{
    proto_class_count classes[2] = {{"WebUser", 2}, {"ApiUser", 3}};
    lw_stats *s = stats_new(T0);
    const msgpack_object *ucc;
    report r;

    (void)state;
    assert_non_null(s);
    report_take(&r, s, classes, 2, T0 + 3);
    assert_int_equal(r.root->via.map.size, 5);
    assert_int_equal(stats_len(&r), 0);
    assert_int_equal(errors_of(&r)->via.map.size, 0);
    ucc = must_get(r.root, "user_classes_count");
    assert_int_equal(ucc->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(get_int(ucc, "WebUser"), 2);
    assert_int_equal(get_int(ucc, "ApiUser"), 3);
    assert_int_equal(get_int(r.root, "user_count"), 5);
    check_entry_shape(must_get(r.root, "stats_total"));
    report_done(&r);
    stats_free(s);
}

static void test_report_total_identity(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *t;
    report r;

    (void)state;
    report_take(&r, s, no_classes, 0, T0 + 3);
    t = must_get(r.root, "stats_total");
    assert_true(str_is(must_get(t, "name"), "Aggregated"));
    assert_true(str_is(must_get(t, "method"), ""));
    assert_nil(t, "last_request_timestamp");
    assert_nil(t, "min_response_time");
    assert_true(get_f64(t, "max_response_time") == 0.0);
    assert_true(get_f64(t, "start_time") == T0);
    assert_int_equal(get_int(t, "num_requests"), 0);
    assert_int_equal(must_get(t, "response_times")->via.map.size, 0);
    report_done(&r);
    stats_free(s);
}

static void log_sample_load(lw_stats *s)
{
    stats_log(s, "GET", "/a", 12.3, 100, NULL, T0 + 0.2);
    stats_log(s, "GET", "/a", 145.0, 50, "boom", T0 + 0.9);
    stats_log(s, "GET", "/a", 155.0, 0, NULL, T0 + 1.5);
    stats_log(s, "POST", "/b", -1, 7, NULL, T0 + 1.6);
    stats_log(s, "POST", "/b", -1, 0, "timeout", T0 + 2.1);
}

static void test_report_entry_counts(void **state)
{
    lw_stats *s = stats_new(T0 - 5);
    const msgpack_object *a, *rt;
    report r;

    (void)state;
    log_sample_load(s);
    assert_int_equal(stats_pending(s), 5);
    report_take(&r, s, no_classes, 0, T0 + 3);
    assert_int_equal(stats_len(&r), 2);
    a = find_entry(&r, "/a", "GET");
    assert_non_null(a);
    check_entry_shape(a);
    assert_int_equal(get_int(a, "num_requests"), 3);
    assert_int_equal(get_int(a, "num_failures"), 1);
    assert_int_equal(get_int(a, "num_none_requests"), 0);
    assert_int_equal(get_int(a, "total_content_length"), 150);
    assert_true(get_f64(a, "total_response_time") == 12.3 + 145.0 + 155.0);
    assert_true(get_f64(a, "min_response_time") == 12.3);
    assert_true(get_f64(a, "max_response_time") == 155.0);
    assert_true(get_f64(a, "last_request_timestamp") == T0 + 1.5);
    assert_true(get_f64(a, "start_time") == T0 + 0.2); /* created then */
    rt = must_get(a, "response_times");
    assert_int_equal(rt->via.map.size, 3);
    assert_int_equal(int_map_get(rt, 12), 1);
    assert_int_equal(int_map_get(rt, 140), 1);
    assert_int_equal(int_map_get(rt, 160), 1);
    report_done(&r);
    stats_free(s);
}

static void test_report_per_second(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *a, *t;
    report r;

    (void)state;
    log_sample_load(s);
    report_take(&r, s, no_classes, 0, T0 + 3);
    a = find_entry(&r, "/a", "GET");
    assert_int_equal(must_get(a, "num_reqs_per_sec")->via.map.size, 2);
    assert_int_equal(int_map_get(must_get(a, "num_reqs_per_sec"), T0), 2);
    assert_int_equal(int_map_get(must_get(a, "num_reqs_per_sec"), T0 + 1), 1);
    assert_int_equal(must_get(a, "num_fail_per_sec")->via.map.size, 1);
    assert_int_equal(int_map_get(must_get(a, "num_fail_per_sec"), T0), 1);
    t = must_get(r.root, "stats_total");
    assert_int_equal(int_map_get(must_get(t, "num_reqs_per_sec"), T0), 2);
    assert_int_equal(int_map_get(must_get(t, "num_reqs_per_sec"), T0 + 1), 2);
    assert_int_equal(int_map_get(must_get(t, "num_reqs_per_sec"), T0 + 2), 1);
    assert_int_equal(int_map_get(must_get(t, "num_fail_per_sec"), T0), 1);
    assert_int_equal(int_map_get(must_get(t, "num_fail_per_sec"), T0 + 2), 1);
    report_done(&r);
    stats_free(s);
}

static void test_report_none_only_entry(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *b;
    report r;

    (void)state;
    log_sample_load(s);
    stats_log(s, "POST", "/b", NAN, 0, NULL, T0 + 2.2);
    stats_log(s, "POST", "/b", INFINITY, 0, NULL, T0 + 2.3);
    report_take(&r, s, no_classes, 0, T0 + 3);
    b = find_entry(&r, "/b", "POST");
    assert_non_null(b);
    check_entry_shape(b);
    assert_int_equal(get_int(b, "num_requests"), 4);
    assert_int_equal(get_int(b, "num_none_requests"), 4);
    assert_int_equal(get_int(b, "num_failures"), 1);
    assert_int_equal(get_int(b, "total_content_length"), 7);
    assert_nil(b, "min_response_time");
    assert_true(get_f64(b, "max_response_time") == 0.0);
    assert_true(get_f64(b, "total_response_time") == 0.0);
    assert_int_equal(must_get(b, "response_times")->via.map.size, 0);
    assert_true(get_f64(b, "last_request_timestamp") == T0 + 2.3);
    report_done(&r);
    stats_free(s);
}

static void check_error_item(const msgpack_object *err, const char *method, const char *name,
                             const char *text, int64_t occ)
{
    assert_non_null(err);
    assert_int_equal(err->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(err->via.map.size, 6);
    assert_true(str_is(must_get(err, "method"), method));
    assert_true(str_is(must_get(err, "name"), name));
    assert_true(str_is(must_get(err, "error"), text));
    assert_int_equal(get_int(err, "occurrences"), occ);
}

static void test_report_errors(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *errs, *e;
    char key[65];
    report r;

    (void)state;
    log_sample_load(s);
    stats_log(s, "GET", "/a", 30, 0, "boom", T0 + 2.5);
    stats_log(s, "GET", "/a", 31, 0, "boom", T0 + 2.7);
    report_take(&r, s, no_classes, 0, T0 + 3);
    errs = errors_of(&r);
    assert_int_equal(errs->via.map.size, 2);
    assert_int_equal(error_key("GET", "/a", "boom", key), 0);
    e = get(errs, key);
    check_error_item(e, "GET", "/a", "boom", 3);
    assert_true(get_f64(e, "first_seen") == T0 + 0.9);
    assert_true(get_f64(e, "last_seen") == T0 + 2.7);
    assert_int_equal(error_key("POST", "/b", "timeout", key), 0);
    check_error_item(get(errs, key), "POST", "/b", "timeout", 1);
    assert_int_equal(get_int(find_entry(&r, "/a", "GET"), "num_failures"), 3);
    assert_int_equal(get_int(must_get(r.root, "stats_total"), "num_failures"), 4);
    report_done(&r);
    stats_free(s);
}

/* Entries whose texts give the same key string merge, keeping the first. */
static void test_report_error_key_collision(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *errs;
    char key[65], key2[65];
    report r;

    (void)state;
    stats_log(s, "a.b", "c", 1, 0, "x", T0 + 1);
    stats_log(s, "a", "b.c", 1, 0, "x", T0 + 2);
    stats_log(s, "a.b", "c", 1, 0, "x", T0 + 2.5);
    assert_int_equal(error_key("a.b", "c", "x", key), 0);
    assert_int_equal(error_key("a", "b.c", "x", key2), 0);
    assert_string_equal(key, key2);
    report_take(&r, s, no_classes, 0, T0 + 3);
    errs = errors_of(&r);
    assert_int_equal(errs->via.map.size, 1);
    check_error_item(get(errs, key), "a.b", "c", "x", 3);
    assert_true(get_f64(get(errs, key), "first_seen") == T0 + 1);
    assert_true(get_f64(get(errs, key), "last_seen") == T0 + 2.5);
    assert_int_equal(stats_len(&r), 2);
    report_done(&r);
    stats_free(s);
}

/* Invalid UTF-8 goes out as U+FFFD, and the key is that of the sent text. */
static void test_report_error_invalid_utf8(void **state)
{
    lw_stats *s = stats_new(T0);
    char key[65];
    report r;

    (void)state;
    stats_log(s, "GET", "/x", 1, 0, "caf\xe9", T0 + 1);
    report_take(&r, s, no_classes, 0, T0 + 3);
    assert_int_equal(error_key("GET", "/x", "caf\xef\xbf\xbd", key), 0);
    check_error_item(get(errors_of(&r), key), "GET", "/x", "caf\xef\xbf\xbd", 1);
    report_done(&r);
    stats_free(s);
}

/* A name of n bytes: prefix, then the 3-byte EURO SIGN repeated, then tail. */
static char *long_name(const char *prefix, size_t n, const char *tail)
{
    char *v = malloc(n + 1);
    size_t p = strlen(prefix), t = strlen(tail), i;

    assert_non_null(v);
    memcpy(v, prefix, p);
    for (i = p; i + 3 <= n - t; i += 3)
        memcpy(v + i, "\xe2\x82\xac", 3);
    memset(v + i, 'x', n - t - i);
    memcpy(v + n - t, tail, t);
    v[n] = '\0';
    return v;
}

/* Names are kept whole up to STATS_NAME_MAX bytes (the request layer used
 * to cut them at 255, merging different paths into one row); a longer name
 * is cut between two characters, and the error key uses the name kept. */
static void test_long_names(void **state)
{
    char *a = long_name("/a?", 300, "-1"), *b = long_name("/a?", 300, "-2");
    char *whole = long_name("/w?", STATS_NAME_MAX, "!");
    char *cut1 = long_name("/c?", STATS_NAME_MAX + 2, "1");
    char *cut2 = long_name("/c?", STATS_NAME_MAX + 2, "2");
    lw_stats *s = stats_new(T0);
    char key[65];
    report r;

    (void)state;
    assert_int_equal(stats_name_len(a), 300);
    assert_int_equal(stats_name_len(whole), STATS_NAME_MAX);
    /* "/c?" + 2730 euro signs = 8193 bytes: the cut falls after 2729 */
    assert_int_equal(stats_name_len(cut1), 3 + 2729 * 3);
    stats_log(s, "GET", a, 1, 0, NULL, T0 + 1);
    stats_log(s, "GET", b, 1, 0, NULL, T0 + 1);
    stats_log(s, "GET", whole, 1, 0, NULL, T0 + 1);
    stats_log(s, "GET", cut1, 1, 0, "boom", T0 + 1);
    stats_log(s, "GET", cut2, 1, 0, "boom", T0 + 1);
    report_take(&r, s, no_classes, 0, T0 + 3);
    assert_int_equal(stats_len(&r), 4);
    assert_int_equal(get_int(find_entry(&r, a, "GET"), "num_requests"), 1);
    assert_int_equal(get_int(find_entry(&r, b, "GET"), "num_requests"), 1);
    assert_int_equal(get_int(find_entry(&r, whole, "GET"), "num_requests"), 1);
    cut1[3 + 2729 * 3] = '\0'; /* what is kept of both: whole euro signs */
    assert_int_equal(get_int(find_entry(&r, cut1, "GET"), "num_failures"), 2);
    assert_int_equal(error_key("GET", cut1, "boom", key), 0);
    check_error_item(get(errors_of(&r), key), "GET", cut1, "boom", 2);
    report_done(&r);
    stats_free(s);
    free(a);
    free(b);
    free(whole);
    free(cut1);
    free(cut2);
}

static void test_report_second_is_empty(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *t;
    report r;

    (void)state;
    log_sample_load(s);
    report_take(&r, s, no_classes, 0, T0 + 3);
    report_done(&r);
    assert_int_equal(stats_pending(s), 0);
    report_take(&r, s, no_classes, 0, T0 + 6);
    assert_int_equal(stats_len(&r), 0);
    assert_int_equal(errors_of(&r)->via.map.size, 0);
    t = must_get(r.root, "stats_total");
    check_entry_shape(t);
    assert_int_equal(get_int(t, "num_requests"), 0);
    assert_int_equal(get_int(t, "num_failures"), 0);
    assert_int_equal(get_int(t, "total_content_length"), 0);
    assert_nil(t, "last_request_timestamp");
    assert_nil(t, "min_response_time");
    assert_true(get_f64(t, "max_response_time") == 0.0);
    assert_true(get_f64(t, "total_response_time") == 0.0);
    assert_true(get_f64(t, "start_time") == T0 + 3);
    assert_int_equal(must_get(t, "num_reqs_per_sec")->via.map.size, 0);
    assert_int_equal(must_get(t, "num_fail_per_sec")->via.map.size, 0);
    report_done(&r);
    stats_free(s);
}

static void test_report_deltas_reset(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *a;
    char key[65];
    report r;

    (void)state;
    log_sample_load(s);
    report_take(&r, s, no_classes, 0, T0 + 3);
    report_done(&r);
    stats_log(s, "GET", "/a", 20.0, 10, "boom", T0 + 4.5);
    report_take(&r, s, no_classes, 0, T0 + 6);
    assert_int_equal(stats_len(&r), 1);
    a = find_entry(&r, "/a", "GET");
    check_entry_shape(a);
    assert_int_equal(get_int(a, "num_requests"), 1);
    assert_int_equal(get_int(a, "num_failures"), 1);
    assert_int_equal(get_int(a, "total_content_length"), 10);
    assert_true(get_f64(a, "min_response_time") == 20.0);
    assert_true(get_f64(a, "max_response_time") == 20.0);
    assert_true(get_f64(a, "start_time") == T0 + 3);
    assert_int_equal(int_map_get(must_get(a, "response_times"), 20), 1);
    assert_int_equal(must_get(a, "response_times")->via.map.size, 1);
    assert_int_equal(must_get(a, "num_reqs_per_sec")->via.map.size, 1);
    assert_int_equal(error_key("GET", "/a", "boom", key), 0);
    assert_int_equal(errors_of(&r)->via.map.size, 1);
    check_error_item(get(errors_of(&r), key), "GET", "/a", "boom", 1);
    assert_null(find_entry(&r, "/b", "POST"));
    report_done(&r);
    stats_free(s);
}

/* Adds every int->int pair of src into the parallel arrays keys/counts. */
static size_t merge_int_map(const msgpack_object *src, int64_t *keys, int64_t *counts, size_t n,
                            size_t cap)
{
    for (uint32_t i = 0; i < src->via.map.size; i++) {
        int64_t k = (int64_t)src->via.map.ptr[i].key.via.u64;
        size_t j = 0;
        while (j < n && keys[j] != k)
            j++;
        if (j == n) {
            assert_true(n < cap);
            keys[n] = k;
            counts[n++] = 0;
        }
        counts[j] += (int64_t)src->via.map.ptr[i].val.via.u64;
    }
    return n;
}

/* The sum over all entries of one int->int map equals the total's. */
static void check_map_sum(const report *r, const char *field)
{
    const msgpack_object *list = must_get(r->root, "stats");
    const msgpack_object *tmap = must_get(must_get(r->root, "stats_total"), field);
    int64_t keys[512], counts[512];
    size_t n = 0;

    for (uint32_t i = 0; i < list->via.array.size; i++)
        n = merge_int_map(must_get(&list->via.array.ptr[i], field), keys, counts, n, 512);
    assert_int_equal(n, tmap->via.map.size);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(int_map_get(tmap, keys[j]), counts[j]);
}

static void check_int_sum(const report *r, const char *field)
{
    const msgpack_object *list = must_get(r->root, "stats");
    int64_t sum = 0;

    for (uint32_t i = 0; i < list->via.array.size; i++)
        sum += get_int(&list->via.array.ptr[i], field);
    assert_int_equal(sum, get_int(must_get(r->root, "stats_total"), field));
}

/* Deterministic pseudo-random load over a few names, methods and errors. */
static void log_random_load(lw_stats *s, int n)
{
    static const char *const names[] = {"/", "/login", "/items", "/cart"};
    static const char *const methods[] = {"GET", "POST", "custom"};
    static const char *const errors[] = {NULL, NULL, NULL, "500", "reset"};
    uint64_t x = 42;

    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double rt = (double)(x >> 40) / 16777216.0 * 30000.0;
        if ((x >> 20) % 17 == 0)
            rt = -1;
        stats_log(s, methods[(x >> 8) % 3], names[(x >> 12) % 4], rt, (int64_t)((x >> 16) % 5000),
                  errors[(x >> 24) % 5], T0 + i * 0.003);
    }
}

static void test_report_total_consistent(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *list, *t;
    double sum_rt = 0, max_rt = 0, min_rt = INFINITY;
    report r;

    (void)state;
    log_random_load(s, 1000);
    report_take(&r, s, no_classes, 0, T0 + 3);
    list = must_get(r.root, "stats");
    t = must_get(r.root, "stats_total");
    check_entry_shape(t);
    assert_int_equal(get_int(t, "num_requests"), 1000);
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *e = &list->via.array.ptr[i];
        check_entry_shape(e);
        sum_rt += get_f64(e, "total_response_time");
        max_rt = fmax(max_rt, get_f64(e, "max_response_time"));
        min_rt = fmin(min_rt, get_f64(e, "min_response_time"));
    }
    assert_int_equal(list->via.array.size, 12);
    check_int_sum(&r, "num_requests");
    check_int_sum(&r, "num_none_requests");
    check_int_sum(&r, "num_failures");
    check_int_sum(&r, "total_content_length");
    check_map_sum(&r, "response_times");
    check_map_sum(&r, "num_reqs_per_sec");
    check_map_sum(&r, "num_fail_per_sec");
    assert_true(fabs(sum_rt - get_f64(t, "total_response_time")) < 1e-6);
    assert_true(max_rt == get_f64(t, "max_response_time"));
    assert_true(min_rt == get_f64(t, "min_response_time"));
    report_done(&r);
    stats_free(s);
}

/* Keys above 10000 ms, many distinct ones, next to the fixed slots. */
static void test_report_big_buckets(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *rt;
    report r;

    (void)state;
    for (int i = 0; i < 50; i++)
        stats_log(s, "GET", "/slow", 10000.0 + 1000.0 * i, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 12500, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 58760, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 9950, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 9949.99, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 99.5, 0, NULL, T0 + 1);
    stats_log(s, "GET", "/slow", 100.0, 0, NULL, T0 + 1);
    report_take(&r, s, no_classes, 0, T0 + 3);
    rt = must_get(find_entry(&r, "/slow", "GET"), "response_times");
    assert_int_equal(rt->via.map.size, 52);
    assert_int_equal(int_map_get(rt, 10000), 2);
    assert_int_equal(int_map_get(rt, 12000), 2);
    assert_int_equal(int_map_get(rt, 59000), 2);
    assert_int_equal(int_map_get(rt, 9900), 1);
    assert_int_equal(int_map_get(rt, 100), 2);
    assert_int_equal(int_map_sum(rt), 56);
    report_done(&r);
    stats_free(s);
}

/* Per-second maps over more seconds than their first capacity. */
static void test_report_many_seconds(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *m;
    report r;

    (void)state;
    for (int i = 0; i < 40; i++) {
        stats_log(s, "GET", "/a", 1, 0, NULL, T0 + i + 0.5);
        stats_log(s, "GET", "/a", 1, 0, "e", T0 + i + 0.75);
    }
    stats_log(s, "GET", "/a", 1, 0, NULL, T0 + 3.1); /* clock went back */
    report_take(&r, s, no_classes, 0, T0 + 45);
    m = must_get(find_entry(&r, "/a", "GET"), "num_reqs_per_sec");
    assert_int_equal(m->via.map.size, 40);
    assert_int_equal(int_map_get(m, T0 + 3), 3);
    assert_int_equal(int_map_get(m, T0 + 39), 2);
    m = must_get(find_entry(&r, "/a", "GET"), "num_fail_per_sec");
    assert_int_equal(m->via.map.size, 40);
    assert_int_equal(int_map_sum(m), 40);
    report_done(&r);
    stats_free(s);
}

/* Enough entries and errors to grow every table several times. */
static void test_many_entries_and_errors(void **state)
{
    lw_stats *s = stats_new(T0);
    char name[32], err[32], key[65];
    report r;

    (void)state;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 500; i++) {
            snprintf(name, sizeof name, "/item/%d", i);
            snprintf(err, sizeof err, "error %d", i % 300);
            stats_log(s, i % 2 ? "GET" : "POST", name, i, 1, err, T0 + 1);
        }
    assert_int_equal(stats_pending(s), 1500);
    report_take(&r, s, no_classes, 0, T0 + 3);
    assert_int_equal(stats_len(&r), 500);
    assert_int_equal(get_int(find_entry(&r, "/item/123", "GET"), "num_requests"), 3);
    assert_int_equal(get_int(find_entry(&r, "/item/124", "POST"), "num_failures"), 3);
    assert_int_equal(errors_of(&r)->via.map.size, 500);
    assert_int_equal(error_key("GET", "/item/301", "error 1", key), 0);
    check_error_item(get(errors_of(&r), key), "GET", "/item/301", "error 1", 3);
    report_done(&r);
    stats_free(s);
}

static void test_clear(void **state)
{
    lw_stats *s = stats_new(T0);
    const msgpack_object *t;
    report r;

    (void)state;
    log_sample_load(s);
    stats_clear(s, T0 + 10);
    assert_int_equal(stats_pending(s), 0);
    report_take(&r, s, no_classes, 0, T0 + 12);
    assert_int_equal(stats_len(&r), 0);
    assert_int_equal(errors_of(&r)->via.map.size, 0);
    t = must_get(r.root, "stats_total");
    assert_int_equal(get_int(t, "num_requests"), 0);
    assert_true(get_f64(t, "start_time") == T0 + 10);
    report_done(&r);
    stats_log(s, "GET", "/a", 5, 0, "boom", T0 + 13);
    report_take(&r, s, no_classes, 0, T0 + 15);
    assert_int_equal(stats_len(&r), 1);
    assert_true(get_f64(find_entry(&r, "/a", "GET"), "start_time") == T0 + 13);
    assert_int_equal(errors_of(&r)->via.map.size, 1);
    report_done(&r);
    stats_free(s);
}

static void test_null_arguments(void **state)
{
    lw_stats *s = stats_new(T0);
    report r;

    (void)state;
    stats_log(s, NULL, NULL, 3, 0, "e", T0 + 1);
    report_take(&r, s, no_classes, 0, T0 + 3);
    assert_non_null(find_entry(&r, "", ""));
    report_done(&r);
    stats_free(s);
    stats_free(NULL);
    stats_log(NULL, "GET", "/", 1, 0, NULL, T0);
    stats_clear(NULL, T0);
    assert_int_equal(stats_pending(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_vectors),
        cmocka_unit_test(test_bucket_sweep),
        cmocka_unit_test(test_bucket_odd_inputs),
        cmocka_unit_test(test_report_top_level),
        cmocka_unit_test(test_report_total_identity),
        cmocka_unit_test(test_report_entry_counts),
        cmocka_unit_test(test_report_per_second),
        cmocka_unit_test(test_report_none_only_entry),
        cmocka_unit_test(test_report_errors),
        cmocka_unit_test(test_report_error_key_collision),
        cmocka_unit_test(test_report_error_invalid_utf8),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_report_second_is_empty),
        cmocka_unit_test(test_report_deltas_reset),
        cmocka_unit_test(test_report_total_consistent),
        cmocka_unit_test(test_report_big_buckets),
        cmocka_unit_test(test_report_many_seconds),
        cmocka_unit_test(test_many_entries_and_errors),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
