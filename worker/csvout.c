/*
 * csvout.c - the --csv files, after locust/stats.py StatsCSV and
 * StatsCSVFileWriter: the same columns; ints as ints, floats as Python's
 * repr(); "N/A" percentiles for an entry without requests; failures sorted
 * by their error key; rows ended by CRLF as Python's csv.writer ends them.
 * _stats.csv, _failures.csv and _exceptions.csv are rewritten whole each
 * time, _stats_history.csv gets one row per call.
 */
#include "csvout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "figures.h"
#include "summary.h"

struct csvout {
    FILE *stats, *history, *failures, *exceptions;
};

static const char *const stats_cols[] = {"Type",
                                         "Name",
                                         "Request Count",
                                         "Failure Count",
                                         "Median Response Time",
                                         "Average Response Time",
                                         "Min Response Time",
                                         "Max Response Time",
                                         "Average Content Size",
                                         "Requests/s",
                                         "Failures/s"};
static const char *const history_cols[] = {"Timestamp", "User Count", "Type",
                                           "Name",      "Requests/s", "Failures/s"};
static const char *const history_tail[] = {
    "Total Request Count",         "Total Failure Count",     "Total Median Response Time",
    "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
    "Total Average Content Size"};
static const char *const failure_cols[] = {"Method",      "Name",       "Error",
                                           "Occurrences", "First Seen", "Last Seen"};
static const char *const exception_cols[] = {"Count", "Message", "Traceback", "Nodes"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

void csv_field(FILE *out, const char *s, int first)
{
    if (!first) {
        fputc(',', out);
    }
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', out);
        }
        fputc(*s, out);
    }
    fputc('"', out);
}

static void end_row(FILE *out)
{
    fputs("\r\n", out);
}

static void header(FILE *out, const char *const *cols, size_t n, int first)
{
    for (size_t i = 0; i < n; i++) {
        csv_field(out, cols[i], first && i == 0);
    }
}

static void num_field(FILE *out, pynum n)
{
    char buf[64];
    csv_field(out, fig_pynum(n, buf, sizeof buf), 0);
}

static void float_field(FILE *out, double v)
{
    char buf[64];
    csv_field(out, fig_float_repr(v, buf, sizeof buf), 0);
}

static void int_field(FILE *out, int64_t v, int first)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    csv_field(out, buf, first);
}

static void percentile_fields(FILE *out, const figures *f)
{
    for (int k = 0; k < FIG_NPCT; k++) {
        if (f->v.num_requests) {
            int_field(out, f->pct[k], 0);
        } else {
            csv_field(out, "N/A", 0);
        }
    }
}

/* Median, average, min, max, average content size. */
static void times_fields(FILE *out, const figures *f)
{
    num_field(out, f->median);
    float_field(out, f->avg);
    num_field(out, f->min);
    num_field(out, f->max);
    num_field(out, f->avg_content);
}

static void stats_row(FILE *out, const figures *f)
{
    csv_field(out, f->v.method, 1);
    csv_field(out, f->v.name, 0);
    int_field(out, f->v.num_requests, 0);
    int_field(out, f->v.num_failures, 0);
    times_fields(out, f);
    float_field(out, f->total_rps);
    float_field(out, f->total_fail_per_sec);
    percentile_fields(out, f);
    end_row(out);
}

int csv_stats_rows(FILE *out, const lw_stats *s)
{
    size_t *idx = summary_sorted_entries(s);
    figures f;
    if (!idx) {
        return -1;
    }
    header(out, stats_cols, N(stats_cols), 1);
    header(out, fig_percentile_names, FIG_NPCT, 0);
    end_row(out);
    for (size_t k = 0; k < stats_entry_count(s); k++) {
        if (fig_compute(s, idx[k], &f) == 0) {
            stats_row(out, &f);
        }
    }
    if (fig_compute(s, STATS_TOTAL, &f) == 0) {
        stats_row(out, &f);
    }
    free(idx);
    return 0;
}

static void utc_field(FILE *out, double t)
{
    char buf[32];
    time_t secs = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        buf[0] = '\0';
    }
    csv_field(out, buf, 0);
}

static const lw_stats *err_ctx;

static int by_key(const void *a, const void *b)
{
    stats_error_view x, y;
    stats_error_view_at(err_ctx, *(const size_t *)a, &x);
    stats_error_view_at(err_ctx, *(const size_t *)b, &y);
    return strcmp(x.key, y.key);
}

static int failure_rows(FILE *out, const lw_stats *s)
{
    size_t n = stats_error_count(s);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    stats_error_view e;
    if (!idx) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
    }
    err_ctx = s;
    qsort(idx, n, sizeof *idx, by_key);
    header(out, failure_cols, N(failure_cols), 1);
    end_row(out);
    for (size_t k = 0; k < n; k++) {
        if (stats_error_view_at(s, idx[k], &e) != 0) {
            continue;
        }
        csv_field(out, e.method, 1);
        csv_field(out, e.name, 0);
        csv_field(out, e.error, 0);
        int_field(out, e.occurrences, 0);
        utc_field(out, e.first_seen);
        utc_field(out, e.last_seen);
        end_row(out);
    }
    free(idx);
    return 0;
}

static void exception_rows(FILE *out, const csv_exception *ex, size_t n)
{
    header(out, exception_cols, N(exception_cols), 1);
    end_row(out);
    for (size_t i = 0; i < n; i++) {
        int_field(out, ex[i].count, 1);
        csv_field(out, ex[i].msg, 0);
        csv_field(out, ex[i].traceback ? ex[i].traceback : "", 0);
        csv_field(out, "local", 0);
        end_row(out);
    }
}

/* Rewind and truncate f before rewriting it whole. */
static int restart(FILE *f)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
        return -1;
    }
    return ftruncate(fileno(f), 0);
}

int csvout_write(csvout *c, const lw_stats *s, const csv_exception *ex, size_t nex)
{
    if (restart(c->stats) || csv_stats_rows(c->stats, s) || fflush(c->stats)) {
        return -1;
    }
    if (restart(c->failures) || failure_rows(c->failures, s) || fflush(c->failures)) {
        return -1;
    }
    if (restart(c->exceptions)) {
        return -1;
    }
    exception_rows(c->exceptions, ex, nex);
    return fflush(c->exceptions) ? -1 : 0;
}

int csvout_history(csvout *c, const lw_stats *s, int64_t user_count, double now)
{
    figures f;
    char rate[64];
    FILE *out = c->history;
    if (fig_compute(s, STATS_TOTAL, &f) != 0) {
        return -1;
    }
    int_field(out, (int64_t)now, 1);
    int_field(out, user_count, 0);
    csv_field(out, f.v.method, 0);
    csv_field(out, f.v.name, 0);
    snprintf(rate, sizeof rate, "%2f", f.current_rps);
    csv_field(out, rate, 0);
    snprintf(rate, sizeof rate, "%2f", f.current_fail_per_sec);
    csv_field(out, rate, 0);
    percentile_fields(out, &f);
    int_field(out, f.v.num_requests, 0);
    int_field(out, f.v.num_failures, 0);
    times_fields(out, &f);
    end_row(out);
    return fflush(out) ? -1 : 0;
}

static FILE *open_one(const char *prefix, const char *suffix, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w+");
    if (!f) {
        snprintf(err, errlen, "--csv: cannot write '%.300s': %s", path, strerror(errno));
    }
    return f;
}

csvout *csvout_open(const char *prefix, char *err, size_t errlen)
{
    csvout *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(c->stats = open_one(prefix, "_stats.csv", err, errlen)) ||
        !(c->history = open_one(prefix, "_stats_history.csv", err, errlen)) ||
        !(c->failures = open_one(prefix, "_failures.csv", err, errlen)) ||
        !(c->exceptions = open_one(prefix, "_exceptions.csv", err, errlen))) {
        csvout_close(c);
        return NULL;
    }
    header(c->history, history_cols, N(history_cols), 1);
    header(c->history, fig_percentile_names, FIG_NPCT, 0);
    header(c->history, history_tail, N(history_tail), 0);
    end_row(c->history);
    fflush(c->history);
    return c;
}

void csvout_close(csvout *c)
{
    if (!c) {
        return;
    }
    FILE *f[4] = {c->stats, c->history, c->failures, c->exceptions};
    for (int i = 0; i < 4; i++) {
        if (f[i]) {
            fclose(f[i]);
        }
    }
    free(c);
}
