/*
 * summary.h - Locust's console tables of a standalone run: the stats table
 * (print_stats), the percentiles table (print_percentile_stats) and the
 * error report (print_error_report), with Locust's columns and widths.
 */
#ifndef LW_SUMMARY_H
#define LW_SUMMARY_H

#include <stdio.h>

#include "stats.h"

/* Locust's STATS_NAME_WIDTH: the terminal's width less 80, at most 80;
 * 80 when stdout is not a terminal. */
int summary_name_width(void);

/* current: rates of the last seconds (the table every 2 s); else totals
 * over the whole run (the final summary). Return 0, or -1 when out of
 * memory. */
int summary_print_stats(FILE *out, const lw_stats *s, int current, int width);
int summary_print_percentiles(FILE *out, const lw_stats *s, int width);
void summary_print_errors(FILE *out, const lw_stats *s, int width);

/* The entries' indexes sorted by (name, method), as Locust sorts them.
 * Returns a malloc'd array of stats_entry_count(s) items, or NULL. */
size_t *summary_sorted_entries(const lw_stats *s);

#endif
