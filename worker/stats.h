/*
 * stats.h - request statistics, kept exactly the way Locust keeps them.
 *
 * One entry per (name, method) plus the "Aggregated" total, each with Locust's
 * bucketed response-time histogram (Python round-half-even), per-second
 * request and failure counts keyed by epoch second, and an error table keyed
 * the way Locust 2.28+ keys errors. A report packs the deltas since the last
 * report into a msgpack map and resets everything, as Locust's worker does.
 */
#ifndef LW_STATS_H
#define LW_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "../proto/proto.h"

typedef struct lw_stats lw_stats;

/*
 * Request names (the rows of the master's tables) are kept whole up to
 * STATS_NAME_MAX bytes: 8 KB, the longest request line common servers accept
 * (nginx's large_client_header_buffers), so a name taken from any URL a
 * server would answer is never cut. A longer name is cut to at most that
 * many bytes, between two UTF-8 characters (never inside one); names that
 * differ only past the bound share a row. The first cut is logged once.
 */
#define STATS_NAME_MAX 8192

/* The length of name as stats keeps it: <= STATS_NAME_MAX, whole
 * characters. The first name it cuts is logged (a WARNING line, once). */
size_t stats_name_len(const char *name);

lw_stats *stats_new(double now_epoch);
void stats_free(lw_stats *s);

/*
 * Log one finished request. rt_ms < 0 means "no response time" (Locust's
 * None). error NULL means success; otherwise the request counts as a failure
 * and error is the text shown in the master's Failures tab.
 * now_epoch is wall-clock epoch seconds (for per-second maps and timestamps).
 */
void stats_log(lw_stats *s, const char *method, const char *name, double rt_ms,
               int64_t content_length, const char *error, double now_epoch);

/* Forget everything (first spawn after ready: a new test starts). */
void stats_clear(lw_stats *s, double now_epoch);

/*
 * Pack the data map of a "stats" message: stats, stats_total, errors,
 * user_classes_count, user_count. Returns 0, or -1 if the buffer could not
 * grow. Nothing is reset: once the message has really been sent, call
 * stats_report_sent(), so a report that could not be sent is folded into
 * the next one instead of being lost.
 */
int stats_pack_report(lw_stats *s, msgpack_packer *pk, const proto_class_count *classes,
                      size_t nclasses);
/* Reset all deltas; start_time of every entry becomes now_epoch. */
void stats_report_sent(lw_stats *s, double now_epoch);

/* Requests logged since the last report (for tests and shutdown logic). */
int64_t stats_pending(const lw_stats *s);

/* Locust's bucket key for a response time in ms (round half to even). */
int64_t stats_bucket(double ms);

/*
 * Reading the numbers (a standalone run keeps them whole, as a master does:
 * it never calls stats_report_sent). Entry i in [0, stats_entry_count) in
 * insertion order; STATS_TOTAL is the "Aggregated" total.
 */
#define STATS_TOTAL ((size_t)-1)

/* One entry's counters. Each entry keeps exactly this struct, so a field
 * added here is kept, reset and read without another edit. */
typedef struct {
    const char *name, *method; /* valid until the next stats_log/clear */
    double start_time;
    int has_last;
    double last_request_timestamp;
    int64_t num_requests, num_none_requests, num_failures;
    double total_response_time, max_response_time, min_response_time;
    int has_min;
    int64_t total_content_length;
} stats_view;

typedef struct {
    int64_t key; /* bucket key (ms) */
    int64_t count;
} stats_bucket_count;

size_t stats_entry_count(const lw_stats *s);
/* 0, or -1 when i is out of range. */
int stats_entry_view(const lw_stats *s, size_t i, stats_view *out);
/* The histogram of entry i, keys ascending, into out[cap]. Returns the
 * number of distinct keys (more than cap: only cap were written). */
size_t stats_entry_hist(const lw_stats *s, size_t i, stats_bucket_count *out, size_t cap);
/* Requests (fails = 0) or failures (fails = 1) of entry i logged in the
 * epoch second sec. */
int64_t stats_entry_per_sec(const lw_stats *s, size_t i, int64_t sec, int fails);

/* One error record, kept as is by stats (as for stats_view). */
typedef struct {
    const char *method, *name, *error;
    const char *key; /* Locust's error key (sha256 hex) */
    int64_t occurrences;
    double first_seen, last_seen;
} stats_error_view;

/* Distinct (method, name, error) records, in order of first occurrence. */
size_t stats_error_count(const lw_stats *s);
int stats_error_view_at(const lw_stats *s, size_t i, stats_error_view *out);

#endif
