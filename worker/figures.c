/*
 * figures.c - Locust's derived numbers of a stats entry (see figures.h),
 * each one written after the Python property it copies.
 */
#include "figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double fig_percentiles[FIG_NPCT] = {0.50, 0.66, 0.75,  0.80,   0.90, 0.95,
                                          0.98, 0.99, 0.999, 0.9999, 1.0};
const char *const fig_percentile_names[FIG_NPCT] = {"50%", "66%", "75%",   "80%",    "90%", "95%",
                                                    "98%", "99%", "99.9%", "99.99%", "100%"};

static pynum py_int(int64_t v)
{
    return (pynum){0, v, 0};
}

static pynum py_float(double v)
{
    return (pynum){1, 0, v};
}

int64_t fig_percentile(const stats_bucket_count *h, size_t n, int64_t num_requests, double percent)
{
    int64_t wanted = (int64_t)((double)num_requests * percent);
    int64_t processed = 0;
    for (size_t k = n; k-- > 0;) {
        processed += h[k].count;
        if (num_requests - processed <= wanted) {
            return h[k].key;
        }
    }
    return 0;
}

/* median_response_time: the 50th percentile, kept within [min, max]. */
static pynum median(const stats_view *v, const stats_bucket_count *h, size_t n)
{
    if (n == 0) {
        return py_int(0);
    }
    int64_t m = fig_percentile(h, n, v->num_requests - v->num_none_requests, 0.5);
    if ((double)m > v->max_response_time) {
        return py_float(v->max_response_time);
    }
    if (v->has_min && (double)m < v->min_response_time) {
        return py_float(v->min_response_time);
    }
    return py_int(m);
}

/* current_rps / current_fail_per_sec: the mean of the per-second counts
 * from 12 s to 2 s before the last request (never before the start). */
static double current_rate(const lw_stats *s, size_t i, int fails)
{
    stats_view t;
    if (stats_entry_view(s, STATS_TOTAL, &t) || !t.has_last) {
        return 0;
    }
    int64_t last = (int64_t)floor(t.last_request_timestamp);
    int64_t start = last - 12;
    if ((int64_t)floor(t.start_time) > start) {
        start = (int64_t)floor(t.start_time);
    }
    double sum = 0;
    int64_t count = 0;
    for (int64_t sec = start; sec < last - 2; sec++, count++) {
        sum += (double)stats_entry_per_sec(s, i, sec, fails);
    }
    return sum / (double)(count > 1 ? count : 1);
}

/* total_rps / total_fail_per_sec: over the whole run of the total. */
static double total_rate(const lw_stats *s, int64_t n)
{
    stats_view t;
    if (stats_entry_view(s, STATS_TOTAL, &t) || !t.has_last || t.last_request_timestamp == 0 ||
        t.start_time == 0 || t.last_request_timestamp == t.start_time) {
        return 0.0;
    }
    return (double)n / (t.last_request_timestamp - t.start_time);
}

static void fill(figures *f, const lw_stats *s, size_t i, const stats_bucket_count *h, size_t n)
{
    const stats_view *v = &f->v;
    int64_t timed = v->num_requests - v->num_none_requests;
    f->has_times = n > 0;
    f->median = median(v, h, n);
    f->avg = timed ? v->total_response_time / (double)timed : 0.0;
    f->min = v->has_min && v->min_response_time != 0 ? py_float(v->min_response_time) : py_int(0);
    f->max = v->max_response_time > 0 ? py_float(v->max_response_time) : py_int(0);
    f->avg_content = v->num_requests
                         ? py_float((double)v->total_content_length / (double)v->num_requests)
                         : py_int(0);
    f->fail_ratio = v->num_requests ? (double)v->num_failures / (double)v->num_requests
                                    : (v->num_failures > 0 ? 1.0 : 0.0);
    f->current_rps = current_rate(s, i, 0);
    f->current_fail_per_sec = current_rate(s, i, 1);
    f->total_rps = total_rate(s, v->num_requests);
    f->total_fail_per_sec = total_rate(s, v->num_failures);
    for (int k = 0; k < FIG_NPCT; k++) {
        f->pct[k] = fig_percentile(h, n, timed, fig_percentiles[k]);
    }
}

int fig_compute(const lw_stats *s, size_t i, figures *out)
{
    memset(out, 0, sizeof *out);
    if (stats_entry_view(s, i, &out->v)) {
        return -1;
    }
    size_t n = stats_entry_hist(s, i, NULL, 0);
    stats_bucket_count *h = n ? malloc(n * sizeof *h) : NULL;
    if (n && !h) {
        return -1;
    }
    if (n) {
        stats_entry_hist(s, i, h, n);
    }
    fill(out, s, i, h, n);
    free(h);
    return 0;
}

/* The shortest digits that read back as v: digits[] and the decimal
 * exponent of the first digit. */
static void shortest(double v, char *digits, size_t len, int *exp10)
{
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    size_t n = 0;
    for (char *p = tmp; p < e && n + 1 < len; p++) {
        if (*p >= '0' && *p <= '9') {
            digits[n++] = *p;
        }
    }
    while (n > 1 && digits[n - 1] == '0') {
        n--;
    }
    digits[n] = '\0';
}

char *fig_float_repr(double v, char *buf, size_t len)
{
    char d[24];
    int e;
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    const char *sign = signbit(v) ? "-" : "";
    shortest(fabs(v), d, sizeof d, &e);
    int nd = (int)strlen(d);
    if (e < -4 || e >= 16) {
        snprintf(buf, len, "%s%c%s%.*se%c%02d", sign, d[0], nd > 1 ? "." : "", nd - 1, d + 1,
                 e < 0 ? '-' : '+', abs(e));
    } else if (e < 0) {
        snprintf(buf, len, "%s0.%0*d%s", sign, -e - 1, 0, d);
        if (-e - 1 == 0) { /* %0*d with width 0 still prints "0" */
            snprintf(buf, len, "%s0.%s", sign, d);
        }
    } else if (nd <= e + 1) {
        snprintf(buf, len, "%s%s%0*d.0", sign, d, e + 1 - nd, 0);
        if (e + 1 - nd == 0) {
            snprintf(buf, len, "%s%s.0", sign, d);
        }
    } else {
        snprintf(buf, len, "%s%.*s.%s", sign, e + 1, d, d + e + 1);
    }
    return buf;
}

char *fig_pynum(pynum n, char *buf, size_t len)
{
    if (n.is_float) {
        return fig_float_repr(n.d, buf, len);
    }
    snprintf(buf, len, "%lld", (long long)n.i);
    return buf;
}
