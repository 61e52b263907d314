/*
 * summary.c - Locust's console tables (locust/stats.py get_stats_summary,
 * get_percentile_stats_summary, get_error_report_summary), line for line.
 * Names are padded by characters, as Python pads them, not by bytes.
 */
#include "summary.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "figures.h"

#define TYPE_WIDTH 8

int summary_name_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
        return 80;
    }
    int w = (int)ws.ws_col - 80;
    return w < 0 ? 0 : w > 80 ? 80 : w;
}

/* "%-Ns" of Python: pad to `width` characters (UTF-8 aware). */
static void put_left(FILE *out, const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        chars += (*p & 0xc0) != 0x80;
    }
    fputs(s, out);
    for (; chars < width; chars++) {
        fputc(' ', out);
    }
}

static void dashes(FILE *out, int n)
{
    for (int i = 0; i < n; i++) {
        fputc('-', out);
    }
}

static const lw_stats *sort_ctx;

static int by_name_method(const void *a, const void *b)
{
    stats_view x, y;
    stats_entry_view(sort_ctx, *(const size_t *)a, &x);
    stats_entry_view(sort_ctx, *(const size_t *)b, &y);
    int c = strcmp(x.name, y.name);
    return c ? c : strcmp(x.method, y.method);
}

size_t *summary_sorted_entries(const lw_stats *s)
{
    size_t n = stats_entry_count(s);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
    }
    sort_ctx = s;
    qsort(idx, n, sizeof *idx, by_name_method);
    return idx;
}

/* StatsEntry.to_string(current). */
static void stats_row(FILE *out, const figures *f, int current, int width)
{
    char type[64], fails[64];
    snprintf(type, sizeof type, "%.50s%s", f->v.method, f->v.method[0] ? " " : "");
    snprintf(fails, sizeof fails, "%lld(%.2f%%)", (long long)f->v.num_failures,
             f->fail_ratio * 100);
    put_left(out, type, TYPE_WIDTH);
    fputc(' ', out);
    put_left(out, f->v.name, width - TYPE_WIDTH + 4);
    fprintf(out, " %7lld %12s |%7lld %7lld %7lld%7lld | %7.2f %11.2f\n",
            (long long)f->v.num_requests, fails, (long long)f->avg,
            (long long)(f->min.is_float ? f->min.d : (double)f->min.i),
            (long long)(f->max.is_float ? f->max.d : (double)f->max.i),
            (long long)(f->median.is_float ? f->median.d : (double)f->median.i),
            current ? f->current_rps : f->total_rps,
            current ? f->current_fail_per_sec : f->total_fail_per_sec);
}

static void stats_separator(FILE *out, int width)
{
    dashes(out, TYPE_WIDTH);
    fputc('|', out);
    dashes(out, width - TYPE_WIDTH + 4);
    fputs("|-------|-------------|-------|-------|-------|-------|--------|-----------\n", out);
}

int summary_print_stats(FILE *out, const lw_stats *s, int current, int width)
{
    size_t *idx = summary_sorted_entries(s);
    figures f;
    if (!idx) {
        return -1;
    }
    put_left(out, "Type", TYPE_WIDTH);
    fputc(' ', out);
    put_left(out, "Name", width - TYPE_WIDTH + 4);
    fprintf(out, " %7s %12s |%7s %7s %7s%7s | %7s %11s\n", "# reqs", "# fails", "Avg", "Min", "Max",
            "Med", "req/s", "failures/s");
    stats_separator(out, width);
    for (size_t k = 0; k < stats_entry_count(s); k++) {
        if (fig_compute(s, idx[k], &f) == 0) {
            stats_row(out, &f, current, width);
        }
    }
    stats_separator(out, width);
    if (fig_compute(s, STATS_TOTAL, &f) == 0) {
        stats_row(out, &f, current, width);
    }
    fputc('\n', out);
    free(idx);
    fflush(out);
    return 0;
}

static void pct_separator(FILE *out, int width)
{
    dashes(out, TYPE_WIDTH);
    fputc('|', out);
    dashes(out, width);
    fputc('|', out);
    dashes(out, 8);
    for (int k = 0; k < FIG_NPCT; k++) {
        fputc('|', out);
        dashes(out, 6);
    }
    fputc('\n', out);
}

/* StatsEntry.percentile(): %8d takes the 50%, the %6d the rest and
 * the count, as Locust's template lines them up. */
static void pct_row(FILE *out, const figures *f, int width)
{
    put_left(out, f->v.method, TYPE_WIDTH);
    fputc(' ', out);
    put_left(out, f->v.name, width);
    fprintf(out, " %8lld", (long long)f->pct[0]);
    for (int k = 1; k < FIG_NPCT; k++) {
        fprintf(out, " %6lld", (long long)f->pct[k]);
    }
    fprintf(out, " %6lld\n", (long long)f->v.num_requests);
}

int summary_print_percentiles(FILE *out, const lw_stats *s, int width)
{
    size_t *idx = summary_sorted_entries(s);
    figures f;
    if (!idx) {
        return -1;
    }
    fputs("Response time percentiles (approximated)\n", out);
    put_left(out, "Type", TYPE_WIDTH);
    fputc(' ', out);
    put_left(out, "Name", width);
    fprintf(out, " %8s", fig_percentile_names[0]);
    for (int k = 1; k < FIG_NPCT; k++) {
        fprintf(out, " %6s", fig_percentile_names[k]);
    }
    fprintf(out, " %6s\n", "# reqs");
    pct_separator(out, width);
    for (size_t k = 0; k < stats_entry_count(s); k++) {
        if (fig_compute(s, idx[k], &f) == 0 && f.has_times) {
            pct_row(out, &f, width);
        }
    }
    pct_separator(out, width);
    if (fig_compute(s, STATS_TOTAL, &f) == 0 && f.has_times) {
        pct_row(out, &f, width);
    }
    fputc('\n', out);
    free(idx);
    fflush(out);
    return 0;
}

/* StatsError.to_name(): "METHOD NAME: error", CatchResponseError(...)
 * unwrapped. */
static void error_row(FILE *out, const stats_error_view *e)
{
    static const char wrap[] = "CatchResponseError(";
    const char *err = e->error;
    int len = (int)strlen(err);
    if (strncmp(err, wrap, sizeof wrap - 1) == 0) {
        err += sizeof wrap - 1;
        len -= (int)sizeof wrap; /* the prefix and the closing ')' */
        len = len < 0 ? 0 : len;
    }
    char occ[32];
    snprintf(occ, sizeof occ, "%lld", (long long)e->occurrences);
    put_left(out, occ, 18);
    fputc(' ', out);
    size_t need = strlen(e->method) + strlen(e->name) + (size_t)len + 4;
    char *name = malloc(need);
    if (!name) {
        fputs("(out of memory)\n", out);
        return;
    }
    snprintf(name, need, "%s %s: %.*s", e->method, e->name, len, err);
    put_left(out, name, 100);
    fputc('\n', out);
    free(name);
}

void summary_print_errors(FILE *out, const lw_stats *s, int width)
{
    stats_error_view e;
    if (stats_error_count(s) == 0) {
        return;
    }
    fputs("Error report\n", out);
    put_left(out, "# occurrences", 18);
    fputc(' ', out);
    put_left(out, "Error", 100);
    fputc('\n', out);
    dashes(out, 18);
    fputc('|', out);
    dashes(out, 80 + width - 19);
    fputc('\n', out);
    for (size_t i = 0; i < stats_error_count(s); i++) {
        if (stats_error_view_at(s, i, &e) == 0) {
            error_row(out, &e);
        }
    }
    dashes(out, 18);
    fputc('|', out);
    dashes(out, 80 + width - 19);
    fputs("\n\n", out);
    fflush(out);
}
