/*
 * csvout.h - Locust's --csv files of a standalone run: PREFIX_stats.csv,
 * PREFIX_stats_history.csv, PREFIX_failures.csv, PREFIX_exceptions.csv,
 * with Locust's columns, number formats and csv module quoting (CRLF).
 */
#ifndef LW_CSVOUT_H
#define LW_CSVOUT_H

#include <stdint.h>
#include <stdio.h>

#include "stats.h"

typedef struct csvout csvout;

/* One exception row: Count, Message, Traceback, Nodes. */
typedef struct {
    int64_t count;
    const char *msg;
    const char *traceback;
} csv_exception;

/* Opens (truncates) the four files and writes their headers. NULL with err
 * filled (one line) when one cannot be written. */
csvout *csvout_open(const char *prefix, char *err, size_t errlen);
void csvout_close(csvout *c);

/* Rewrite _stats.csv, _failures.csv and _exceptions.csv with the current
 * numbers. Returns 0 or -1 (write error, logged by the caller). */
int csvout_write(csvout *c, const lw_stats *s, const csv_exception *ex, size_t nex);
/* Append one _stats_history.csv row (the total) at epoch second `now`. */
int csvout_history(csvout *c, const lw_stats *s, int64_t user_count, double now);

/* Writers of one piece, for tests: a field quoted as Python's csv module
 * does, and the rows of _stats.csv (header included). */
void csv_field(FILE *out, const char *s, int first);
int csv_stats_rows(FILE *out, const lw_stats *s);

#endif
