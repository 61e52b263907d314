/*
 * stats.c - request statistics with Locust's exact semantics.
 *
 * What is kept, per (name, method) entry and for the "Aggregated" total, is
 * what Locust's StatsEntry keeps: counters, sum/min/max of response times, a
 * histogram keyed by stats_bucket(), and requests/failures per epoch second.
 * A failure is a request plus a failure, in the entry and in the total.
 * Errors are keyed by error_key() (Locust 2.28+ scheme) and serialized with
 * name, method, error, occurrences, first_seen and last_seen (the last two
 * are read with .get() by 2.44+ and ignored by older masters).
 *
 * Layout, chosen so that logging a request does not allocate once its entry
 * exists:
 *   - entries live in an array (insertion order, like Python's dict) indexed
 *     by an open-addressing hash table on (name, method);
 *   - histogram keys below 10000 ms go to a fixed array of 280 slots (1 ms
 *     steps below 100, 10 ms to 1000, 100 ms to 10000); larger keys go to a
 *     small growable array;
 *   - per-second maps are small arrays searched from the end;
 *   - errors are found through a hash table on (method, name, error text), so
 *     sha256 runs once per distinct error text per report interval. Distinct
 *     texts that give the same key (e.g. method "a.b" + name "c" and method
 *     "a" + name "b.c") are merged when the report is packed, keeping the
 *     first one's fields, as Python's dict would.
 * Array capacities survive resets, so steady state does not allocate.
 *
 * After a report every entry is reset, start_time included, whether or not
 * it was in the report (Python resets only the entries it sent, so an idle
 * entry keeps an older start_time there). A new entry starts at the time of
 * its first request, as in Python.
 *
 * Names longer than STATS_NAME_MAX bytes are cut between two characters
 * (stats.h).
 *
 * Response times that are negative or not finite count as Locust's None.
 * If memory runs out, the affected sample is dropped from the histogram,
 * per-second map or error table, and everything else is still counted; if
 * the packer's buffer cannot grow, nothing is reset.
 * Not thread-safe: the caller serializes access.
 */
#include "stats.h"
#include "buf.h"
#include "error_key.h"
#include "log.h"
#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_SMALL 280   /* histogram slots for keys below 10000 */
#define SEC_INITIAL 8    /* first capacity of a per-second map */
#define ARRAY_INITIAL 16 /* first capacity of entries and errors */

typedef struct {
    int64_t key;
    int64_t count;
} kv;

/* A small int->int map kept as an array (per-second maps, big buckets). */
typedef struct {
    kv *v;
    size_t n, cap;
} kv_map;

typedef struct {
    char *owned;  /* name and method storage; NULL for total */
    stats_view v; /* the fields a reader sees (stats.h) */
    uint64_t hash;
    int64_t hist[HIST_SMALL];
    size_t hist_used; /* non-zero slots in hist */
    kv_map hist_big;  /* keys >= 10000 */
    kv_map reqs_per_sec, fail_per_sec;
} entry;

typedef struct {
    stats_error_view v; /* the fields a reader sees (stats.h) */
    uint64_t hash;      /* of (method, name, error) */
    size_t seq;         /* order of first occurrence */
    char *owned;        /* method, name, error and key storage */
} err_rec;

/* Open-addressing table of indexes + 1 (0 = empty); cap is a power of 2. */
typedef struct {
    uint32_t *slot;
    size_t cap;
} index_table;

struct lw_stats {
    entry total;
    entry **entries;
    size_t nentries, cap_entries;
    index_table entry_index;
    err_rec *errs;
    size_t nerrs, cap_errs;
    index_table err_index;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff; /* end of string, so "ab","c" != "a","bc" */
    return h * 0x100000001b3ULL;
}

static uint64_t hash_strings(const char *a, const char *b, const char *c)
{
    uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, a), b);
    return c ? fnv1a(h, c) : h;
}

/* Concatenate n (at most 4) NUL-terminated strings into one malloc'd
 * block. */
static char *pack_strings(const char **in, const char **out, int n)
{
    size_t len[4], total = 0;
    char *block, *p;

    for (int i = 0; i < n; i++) {
        len[i] = strlen(in[i]) + 1;
        total += len[i];
    }
    block = malloc(total);
    if (block == NULL)
        return NULL;
    p = block;
    for (int i = 0; i < n; i++) {
        memcpy(p, in[i], len[i]);
        out[i] = p;
        p += len[i];
    }
    return block;
}

static int64_t epoch_second(double now)
{
    if (!(now > -9.2e18 && now < 9.2e18))
        return 0;
    return (int64_t)floor(now);
}

/* ---- index tables ----------------------------------------------------- */

static void table_free(index_table *t)
{
    free(t->slot);
    t->slot = NULL;
    t->cap = 0;
}

static void table_clear(index_table *t)
{
    if (t->slot != NULL)
        memset(t->slot, 0, t->cap * sizeof *t->slot);
}

/* Slot k of hash's probe sequence: an index + 1, or 0 (empty: the end). */
static uint32_t table_probe(const index_table *t, uint64_t hash, size_t k)
{
    return t->cap ? t->slot[((size_t)hash + k) & (t->cap - 1)] : 0;
}

static void table_put(index_table *t, uint64_t hash, size_t idx)
{
    size_t mask = t->cap - 1, i = (size_t)hash & mask;

    while (t->slot[i] != 0)
        i = (i + 1) & mask;
    t->slot[i] = (uint32_t)(idx + 1);
}

/*
 * Make room for one more item when n items are stored; hash_of(ctx, i) gives
 * item i's hash for rehashing. Keeps the load factor at most 1/2.
 */
static int table_reserve(index_table *t, size_t n, uint64_t (*hash_of)(const void *, size_t),
                         const void *ctx)
{
    index_table bigger = {NULL, t->cap};

    if ((n + 1) * 2 <= t->cap)
        return 0;
    if (n >= UINT32_MAX / 4)
        return -1;
    /* a new array (the slots are rehashed, not copied), grown by the
     * same rule as every other */
    bigger.slot = grow_array(NULL, &bigger.cap, (n + 1) * 2, sizeof *bigger.slot, ARRAY_INITIAL);
    if (bigger.slot == NULL)
        return -1;
    memset(bigger.slot, 0, bigger.cap * sizeof *bigger.slot);
    for (size_t i = 0; i < n; i++)
        table_put(&bigger, hash_of(ctx, i), i);
    free(t->slot);
    *t = bigger;
    return 0;
}

/* Room for one more item in an indexed array of n items (capacity *cap)
 * and in its index t: the array, perhaps moved, or NULL (out of memory). */
static void *indexed_reserve(index_table *t, void *items, size_t *cap, size_t n, size_t size,
                             uint64_t (*hash_of)(const void *, size_t), const void *ctx)
{
    if (table_reserve(t, n, hash_of, ctx) != 0)
        return NULL;
    return grow_array(items, cap, n + 1, size, ARRAY_INITIAL);
}

/* ---- int->int array maps ---------------------------------------------- */

/* Room for need pairs; 0, or -1 when out of memory. */
static int kv_reserve(kv_map *m, size_t need)
{
    kv *v = grow_array(m->v, &m->cap, need, sizeof *v, SEC_INITIAL);

    if (v == NULL)
        return -1;
    m->v = v;
    return 0;
}

/* Add count to key, searching from the end (recent keys are last). */
static void kv_add(kv_map *m, int64_t key, int64_t count)
{
    for (size_t i = m->n; i-- > 0;) {
        if (m->v[i].key == key) {
            m->v[i].count += count;
            return;
        }
    }
    if (kv_reserve(m, m->n + 1) != 0)
        return;
    m->v[m->n].key = key;
    m->v[m->n].count = count;
    m->n++;
}

/* Pack an int->int pair; 0, or -1 when the buffer could not grow. */
static int pack_pair(msgpack_packer *pk, int64_t key, int64_t value)
{
    if (msgpack_pack_int64(pk, key) || msgpack_pack_int64(pk, value))
        return -1;
    return 0;
}

static int kv_pack(msgpack_packer *pk, const kv_map *m)
{
    if (msgpack_pack_map(pk, m->n) != 0)
        return -1;
    for (size_t i = 0; i < m->n; i++)
        if (pack_pair(pk, m->v[i].key, m->v[i].count) != 0)
            return -1;
    return 0;
}

/* ---- bucketing and histogram ------------------------------------------ */

int64_t stats_bucket(double ms)
{
    double q, r;

    if (isnan(ms))
        return 0;
    q = ms < 100 ? 1 : ms < 1000 ? 10 : ms < 10000 ? 100 : 1000;
    r = nearbyint(ms / q) * q;
    if (r >= 9.2e18)
        return INT64_MAX;
    if (r <= -9.2e18)
        return INT64_MIN;
    return (int64_t)r;
}

/* Slot of a bucket key below 10000, or -1 for the big-key array. */
static int hist_slot(int64_t key)
{
    if (key < 0)
        return -1;
    if (key < 100)
        return (int)key;
    if (key < 1000)
        return 100 + (int)((key - 100) / 10);
    if (key < 10000)
        return 190 + (int)((key - 1000) / 100);
    return -1;
}

static int64_t hist_slot_key(int slot)
{
    if (slot < 100)
        return slot;
    if (slot < 190)
        return 100 + (int64_t)(slot - 100) * 10;
    return 1000 + (int64_t)(slot - 190) * 100;
}

static void hist_add(entry *e, double ms)
{
    int64_t key = stats_bucket(ms);
    int slot = hist_slot(key);

    if (slot < 0) {
        kv_add(&e->hist_big, key, 1);
        return;
    }
    if (e->hist[slot]++ == 0)
        e->hist_used++;
}

static int hist_pack(msgpack_packer *pk, const entry *e)
{
    if (msgpack_pack_map(pk, e->hist_used + e->hist_big.n) != 0)
        return -1;
    for (int i = 0; i < HIST_SMALL; i++)
        if (e->hist[i] != 0 && pack_pair(pk, hist_slot_key(i), e->hist[i]))
            return -1;
    for (size_t i = 0; i < e->hist_big.n; i++)
        if (pack_pair(pk, e->hist_big.v[i].key, e->hist_big.v[i].count))
            return -1;
    return 0;
}

/* ---- entries ---------------------------------------------------------- */

static void entry_reset(entry *e, double now)
{
    e->v = (stats_view){.name = e->v.name, .method = e->v.method, .start_time = now};
    if (e->hist_used != 0)
        memset(e->hist, 0, sizeof e->hist);
    e->hist_used = 0;
    e->hist_big.n = 0;
    e->reqs_per_sec.n = 0;
    e->fail_per_sec.n = 0;
}

static void entry_free_maps(entry *e)
{
    free(e->hist_big.v);
    free(e->reqs_per_sec.v);
    free(e->fail_per_sec.v);
}

static void entry_free(entry *e)
{
    entry_free_maps(e);
    free(e->owned);
    free(e);
}

static entry *entry_new(const char *name, const char *method, uint64_t hash, double now)
{
    const char *in[2] = {name, method}, *out[2];
    entry *e = calloc(1, sizeof *e);

    if (e == NULL)
        return NULL;
    e->owned = pack_strings(in, out, 2);
    if (e->owned == NULL || kv_reserve(&e->reqs_per_sec, 1) != 0 ||
        kv_reserve(&e->fail_per_sec, 1) != 0) {
        entry_free(e);
        return NULL;
    }
    e->v.name = out[0];
    e->v.method = out[1];
    e->hash = hash;
    entry_reset(e, now);
    return e;
}

static uint64_t entry_hash_at(const void *ctx, size_t i)
{
    return ((const lw_stats *)ctx)->entries[i]->hash;
}

static entry *entry_find(const lw_stats *s, const char *name, const char *method, uint64_t hash)
{
    uint32_t at;

    for (size_t k = 0; (at = table_probe(&s->entry_index, hash, k)); k++) {
        entry *e = s->entries[at - 1];
        if (e->hash == hash && strcmp(e->v.name, name) == 0 && strcmp(e->v.method, method) == 0)
            return e;
    }
    return NULL;
}

/* The entry for (name, method), created on first use; NULL on OOM. */
static entry *entry_get(lw_stats *s, const char *name, const char *method, double now)
{
    uint64_t hash = hash_strings(name, method, NULL);
    entry *e = entry_find(s, name, method, hash);
    entry **v;

    if (e != NULL)
        return e;
    v = indexed_reserve(&s->entry_index, s->entries, &s->cap_entries, s->nentries, sizeof *v,
                        entry_hash_at, s);
    if (v == NULL)
        return NULL;
    s->entries = v;
    e = entry_new(name, method, hash, now);
    if (e == NULL)
        return NULL;
    s->entries[s->nentries] = e;
    table_put(&s->entry_index, hash, s->nentries);
    s->nentries++;
    return e;
}

/* StatsEntry.log(): one request, rt_ms < 0 or non-finite meaning None. */
static void entry_log(entry *e, double rt_ms, int64_t content_length, double now, int64_t sec)
{
    e->v.num_requests++;
    kv_add(&e->reqs_per_sec, sec, 1);
    e->v.last_request_timestamp = now;
    e->v.has_last = 1;
    e->v.total_content_length += content_length;
    if (!(rt_ms >= 0) || isinf(rt_ms)) {
        e->v.num_none_requests++;
        return;
    }
    e->v.total_response_time += rt_ms;
    if (!e->v.has_min || rt_ms < e->v.min_response_time)
        e->v.min_response_time = rt_ms;
    e->v.has_min = 1;
    if (rt_ms > e->v.max_response_time)
        e->v.max_response_time = rt_ms;
    hist_add(e, rt_ms);
}

/* StatsEntry.log_error(). */
static void entry_fail(entry *e, int64_t sec)
{
    e->v.num_failures++;
    kv_add(&e->fail_per_sec, sec, 1);
}

/* The pack helpers below return 0, or -1 when the buffer could not grow. */
static int pack_key(msgpack_packer *pk, const char *key)
{
    return proto_pack_str(pk, key);
}

static int pack_opt_double(msgpack_packer *pk, int has, double v)
{
    return has ? msgpack_pack_double(pk, v) : msgpack_pack_nil(pk);
}

static int pack_str_field(msgpack_packer *pk, const char *key, const char *v)
{
    return pack_key(pk, key) || proto_pack_str(pk, v) ? -1 : 0;
}

static int pack_int_field(msgpack_packer *pk, const char *key, int64_t v)
{
    return pack_key(pk, key) || msgpack_pack_int64(pk, v) ? -1 : 0;
}

static int pack_double_field(msgpack_packer *pk, const char *key, double v)
{
    return pack_key(pk, key) || msgpack_pack_double(pk, v) ? -1 : 0;
}

static int pack_opt_field(msgpack_packer *pk, const char *key, int has, double v)
{
    return pack_key(pk, key) || pack_opt_double(pk, has, v) ? -1 : 0;
}

/* StatsEntry.serialize(): exactly the 14 keys of StatsEntryDict. */
static int entry_pack(msgpack_packer *pk, const entry *e)
{
    const stats_view *v = &e->v;

    if (msgpack_pack_map(pk, 14) || pack_str_field(pk, "name", v->name) ||
        pack_str_field(pk, "method", v->method) ||
        pack_opt_field(pk, "last_request_timestamp", v->has_last, v->last_request_timestamp) ||
        pack_double_field(pk, "start_time", v->start_time) ||
        pack_int_field(pk, "num_requests", v->num_requests) ||
        pack_int_field(pk, "num_none_requests", v->num_none_requests) ||
        pack_int_field(pk, "num_failures", v->num_failures) ||
        pack_double_field(pk, "total_response_time", v->total_response_time) ||
        pack_double_field(pk, "max_response_time", v->max_response_time) ||
        pack_opt_field(pk, "min_response_time", v->has_min, v->min_response_time) ||
        pack_int_field(pk, "total_content_length", v->total_content_length))
        return -1;
    if (pack_key(pk, "response_times") || hist_pack(pk, e) || pack_key(pk, "num_reqs_per_sec") ||
        kv_pack(pk, &e->reqs_per_sec) || pack_key(pk, "num_fail_per_sec") ||
        kv_pack(pk, &e->fail_per_sec))
        return -1;
    return 0;
}

static int entry_active(const entry *e)
{
    return e->v.num_requests != 0 || e->v.num_failures != 0;
}

/* ---- errors ----------------------------------------------------------- */

static uint64_t err_hash_at(const void *ctx, size_t i)
{
    return ((const lw_stats *)ctx)->errs[i].hash;
}

static err_rec *err_find(lw_stats *s, const char *method, const char *name, const char *error,
                         uint64_t hash)
{
    uint32_t at;

    for (size_t k = 0; (at = table_probe(&s->err_index, hash, k)); k++) {
        const stats_error_view *v = &s->errs[at - 1].v;
        if (s->errs[at - 1].hash == hash && strcmp(v->error, error) == 0 &&
            strcmp(v->name, name) == 0 && strcmp(v->method, method) == 0)
            return &s->errs[at - 1];
    }
    return NULL;
}

/* A new record for a text not seen in this interval; NULL on failure. */
static err_rec *err_new(lw_stats *s, const char *method, const char *name, const char *error,
                        uint64_t hash)
{
    char key[65];
    const char *in[4] = {method, name, error, key}, *out[4];
    err_rec *r =
        indexed_reserve(&s->err_index, s->errs, &s->cap_errs, s->nerrs, sizeof *r, err_hash_at, s);

    if (r == NULL)
        return NULL;
    s->errs = r;
    r = &s->errs[s->nerrs];
    if (error_key(method, name, error, key) != 0)
        return NULL;
    r->owned = pack_strings(in, out, 4);
    if (r->owned == NULL)
        return NULL;
    r->v = (stats_error_view){.method = out[0], .name = out[1], .error = out[2], .key = out[3]};
    r->hash = hash;
    r->seq = s->nerrs;
    table_put(&s->err_index, hash, s->nerrs);
    s->nerrs++;
    return r;
}

/* StatsError.occurred() for the error's record, creating it if needed. */
static void err_log(lw_stats *s, const char *method, const char *name, const char *error,
                    double now)
{
    uint64_t hash = hash_strings(method, name, error);
    err_rec *r = err_find(s, method, name, error, hash);

    if (r == NULL)
        r = err_new(s, method, name, error, hash);
    if (r == NULL)
        return;
    if (r->v.occurrences == 0)
        r->v.first_seen = now;
    r->v.last_seen = now;
    r->v.occurrences++;
}

static void errs_clear(lw_stats *s)
{
    for (size_t i = 0; i < s->nerrs; i++)
        free(s->errs[i].owned);
    s->nerrs = 0;
    table_clear(&s->err_index);
}

static int err_cmp(const void *a, const void *b)
{
    const err_rec *x = a, *y = b;
    int c = strcmp(x->v.key, y->v.key);

    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Pack the n records at g (all with the same key) as one StatsErrorDict. */
static int err_pack_group(msgpack_packer *pk, const err_rec *g, size_t n)
{
    int64_t occ = 0;
    double first = g[0].v.first_seen, last = g[0].v.last_seen;

    for (size_t i = 0; i < n; i++) {
        occ += g[i].v.occurrences;
        first = g[i].v.first_seen < first ? g[i].v.first_seen : first;
        last = g[i].v.last_seen > last ? g[i].v.last_seen : last;
    }
    if (proto_pack_str(pk, g[0].v.key) || msgpack_pack_map(pk, 6) ||
        pack_str_field(pk, "name", g[0].v.name) || pack_str_field(pk, "method", g[0].v.method) ||
        pack_str_field(pk, "error", g[0].v.error) || pack_int_field(pk, "occurrences", occ) ||
        pack_double_field(pk, "first_seen", first) || pack_double_field(pk, "last_seen", last))
        return -1;
    return 0;
}

static size_t group_len(const err_rec *v, size_t i, size_t n)
{
    size_t j = i + 1;

    while (j < n && strcmp(v[j].v.key, v[i].v.key) == 0)
        j++;
    return j - i;
}

/* Records sorted by key, then by first occurrence. */
static void errs_sort(lw_stats *s)
{
    if (s->nerrs > 1)
        qsort(s->errs, s->nerrs, sizeof *s->errs, err_cmp);
    for (size_t i = 0; i < s->nerrs; i++)
        s->errs[i].seq = i;
    table_clear(&s->err_index);
    for (size_t i = 0; i < s->nerrs; i++)
        table_put(&s->err_index, s->errs[i].hash, i);
}

/* The errors map, one item per distinct key. */
static int errs_pack(lw_stats *s, msgpack_packer *pk)
{
    size_t groups = 0;

    errs_sort(s);
    for (size_t i = 0; i < s->nerrs; i += group_len(s->errs, i, s->nerrs))
        groups++;
    if (msgpack_pack_map(pk, groups) != 0)
        return -1;
    for (size_t i = 0, n; i < s->nerrs; i += n) {
        n = group_len(s->errs, i, s->nerrs);
        if (err_pack_group(pk, &s->errs[i], n) != 0)
            return -1;
    }
    return 0;
}

/* ---- public API ------------------------------------------------------- */

static void total_init(entry *t, double now)
{
    memset(t, 0, sizeof *t);
    t->v.name = "Aggregated";
    t->v.method = "";
    entry_reset(t, now);
}

lw_stats *stats_new(double now_epoch)
{
    lw_stats *s = calloc(1, sizeof *s);

    if (s == NULL)
        return NULL;
    total_init(&s->total, now_epoch);
    return s;
}

static void drop_all(lw_stats *s)
{
    for (size_t i = 0; i < s->nentries; i++)
        entry_free(s->entries[i]);
    free(s->entries);
    s->entries = NULL;
    s->nentries = s->cap_entries = 0;
    table_free(&s->entry_index);
    errs_clear(s);
    free(s->errs);
    s->errs = NULL;
    s->cap_errs = 0;
    table_free(&s->err_index);
    entry_free_maps(&s->total);
}

void stats_free(lw_stats *s)
{
    if (s == NULL)
        return;
    drop_all(s);
    free(s);
}

void stats_clear(lw_stats *s, double now_epoch)
{
    if (s == NULL)
        return;
    drop_all(s);
    total_init(&s->total, now_epoch);
}

size_t stats_name_len(const char *name)
{
    static int warned;
    size_t len = strlen(name), kept = utf8_cut(name, len, STATS_NAME_MAX);

    if (kept < len && !warned) {
        warned = 1;
        log_msg(LOG_WARNING, LOG_RUNNER,
                "A request name of %zu bytes is "
                "cut to %zu bytes in the stats (names are kept whole up to "
                "%d bytes)",
                len, kept, STATS_NAME_MAX);
    }
    return kept;
}

/* name, or its first STATS_NAME_MAX bytes' whole characters copied to cut. */
static const char *bounded_name(const char *name, char *cut)
{
    size_t len = stats_name_len(name);

    if (name[len] == '\0')
        return name;
    memcpy(cut, name, len);
    cut[len] = '\0';
    return cut;
}

void stats_log(lw_stats *s, const char *method, const char *name, double rt_ms,
               int64_t content_length, const char *error, double now_epoch)
{
    int64_t sec = epoch_second(now_epoch);
    char cut[STATS_NAME_MAX + 1];
    entry *e;

    if (s == NULL)
        return;
    method = method ? method : "";
    name = bounded_name(name ? name : "", cut);
    e = entry_get(s, name, method, now_epoch);
    entry_log(&s->total, rt_ms, content_length, now_epoch, sec);
    if (e != NULL)
        entry_log(e, rt_ms, content_length, now_epoch, sec);
    if (error == NULL)
        return;
    entry_fail(&s->total, sec);
    if (e != NULL)
        entry_fail(e, sec);
    err_log(s, method, name, error, now_epoch);
}

/* Sum of the class counts, saturating instead of overflowing. */
static int64_t class_total(const proto_class_count *classes, size_t n)
{
    int64_t sum = 0;

    for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(sum, classes[i].count, &sum))
            sum = classes[i].count > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

static int pack_entries(lw_stats *s, msgpack_packer *pk)
{
    size_t active = 0;

    for (size_t i = 0; i < s->nentries; i++)
        active += entry_active(s->entries[i]);
    if (msgpack_pack_array(pk, active) != 0)
        return -1;
    for (size_t i = 0; i < s->nentries; i++)
        if (entry_active(s->entries[i]) && entry_pack(pk, s->entries[i]))
            return -1;
    return 0;
}

static void reset_deltas(lw_stats *s, double now)
{
    for (size_t i = 0; i < s->nentries; i++)
        entry_reset(s->entries[i], now);
    entry_reset(&s->total, now);
    errs_clear(s);
}

/* The whole data map; 0, or -1 when the buffer could not grow. */
static int pack_report(lw_stats *s, msgpack_packer *pk, const proto_class_count *classes,
                       size_t nclasses)
{
    if (msgpack_pack_map(pk, 5) || pack_key(pk, "stats") || pack_entries(s, pk) ||
        pack_key(pk, "stats_total") || entry_pack(pk, &s->total) || pack_key(pk, "errors") ||
        errs_pack(s, pk) || pack_key(pk, "user_classes_count") ||
        proto_pack_class_counts(pk, classes, nclasses) ||
        pack_int_field(pk, "user_count", class_total(classes, nclasses)))
        return -1;
    return 0;
}

/*
 * When packing fails (the buffer could not grow) nothing is reset, so the
 * next report still carries these deltas; what was packed is incomplete and
 * must not be sent.
 */
int stats_pack_report(lw_stats *s, msgpack_packer *pk, const proto_class_count *classes,
                      size_t nclasses)
{
    return pack_report(s, pk, classes, nclasses);
}

void stats_report_sent(lw_stats *s, double now_epoch)
{
    reset_deltas(s, now_epoch);
}

int64_t stats_pending(const lw_stats *s)
{
    return s ? s->total.v.num_requests : 0;
}

/* ---- reader API (standalone runs) -------------------------------------- */

static const entry *entry_at(const lw_stats *s, size_t i)
{
    if (s == NULL)
        return NULL;
    if (i == STATS_TOTAL)
        return &s->total;
    return i < s->nentries ? s->entries[i] : NULL;
}

size_t stats_entry_count(const lw_stats *s)
{
    return s ? s->nentries : 0;
}

int stats_entry_view(const lw_stats *s, size_t i, stats_view *out)
{
    const entry *e = entry_at(s, i);

    if (e == NULL)
        return -1;
    *out = e->v;
    return 0;
}

static int bucket_cmp(const void *a, const void *b)
{
    const stats_bucket_count *x = a, *y = b;

    return x->key < y->key ? -1 : x->key > y->key;
}

size_t stats_entry_hist(const lw_stats *s, size_t i, stats_bucket_count *out, size_t cap)
{
    const entry *e = entry_at(s, i);
    size_t n = 0, big_start;

    if (e == NULL)
        return 0;
    for (int k = 0; k < HIST_SMALL; k++) {
        if (e->hist[k] == 0)
            continue;
        if (n < cap)
            out[n] = (stats_bucket_count){hist_slot_key(k), e->hist[k]};
        n++;
    }
    big_start = n;
    for (size_t k = 0; k < e->hist_big.n; k++) {
        if (n < cap)
            out[n] = (stats_bucket_count){e->hist_big.v[k].key, e->hist_big.v[k].count};
        n++;
    }
    /* negative keys (big array) sort before the small ones */
    if (n <= cap && n > big_start)
        qsort(out, n, sizeof *out, bucket_cmp);
    return n;
}

int64_t stats_entry_per_sec(const lw_stats *s, size_t i, int64_t sec, int fails)
{
    const entry *e = entry_at(s, i);
    const kv_map *m;

    if (e == NULL)
        return 0;
    m = fails ? &e->fail_per_sec : &e->reqs_per_sec;
    for (size_t k = m->n; k-- > 0;)
        if (m->v[k].key == sec)
            return m->v[k].count;
    return 0;
}

size_t stats_error_count(const lw_stats *s)
{
    return s ? s->nerrs : 0;
}

int stats_error_view_at(const lw_stats *s, size_t i, stats_error_view *out)
{
    if (s == NULL || i >= s->nerrs)
        return -1;
    *out = s->errs[i].v;
    return 0;
}
