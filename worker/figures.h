/*
 * figures.h - the numbers Locust derives from a stats entry for its console
 * tables and CSV files (median, average, percentiles, current and total
 * rates), computed the way locust/stats.py computes them, and Python's
 * repr() of a float, which its csv module writes.
 */
#ifndef LW_FIGURES_H
#define LW_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* Locust's PERCENTILES_TO_REPORT. */
#define FIG_NPCT 11
extern const double fig_percentiles[FIG_NPCT];
extern const char *const fig_percentile_names[FIG_NPCT]; /* "50%", ... */

/* A Python number: an int or a float (they print differently). */
typedef struct {
    int is_float;
    int64_t i;
    double d;
} pynum;

typedef struct {
    stats_view v;
    pynum median;      /* median_response_time */
    double avg;        /* avg_response_time */
    pynum min;         /* min_response_time or 0 */
    pynum max;         /* max_response_time */
    pynum avg_content; /* avg_content_length */
    double fail_ratio;
    double current_rps, current_fail_per_sec;
    double total_rps, total_fail_per_sec;
    int64_t pct[FIG_NPCT]; /* get_response_time_percentile of each */
    int has_times;         /* the histogram is not empty */
} figures;

/* calculate_response_time_percentile over buckets sorted ascending. */
int64_t fig_percentile(const stats_bucket_count *h, size_t n, int64_t num_requests, double percent);

/* The figures of entry i (or STATS_TOTAL). Returns 0, or -1 when out of
 * memory or i is out of range. */
int fig_compute(const lw_stats *s, size_t i, figures *out);

/* Python's repr(float). Returns buf. */
char *fig_float_repr(double v, char *buf, size_t len);
/* str() of a pynum. Returns buf. */
char *fig_pynum(pynum n, char *buf, size_t len);

#endif
