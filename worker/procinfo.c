/*
 * procinfo.c - CPU percent from getrusage() deltas (rounded to one decimal,
 * as psutil's cpu_percent() rounds it), RSS from /proc/self/statm, and the
 * two clocks the worker uses.
 */
#include "procinfo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0.0;
    }
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void procinfo_init(procinfo *p)
{
    p->last_cpu_s = cpu_seconds();
    p->last_wall_s = now_mono();
}

/* Python's round(x, 1): the double nearest the decimal rounded half to
 * even from x's exact value, which is what glibc's printf computes. */
double procinfo_round1(double x)
{
    char buf[400]; /* "%.1f" of DBL_MAX needs 311 bytes */
    if (!isfinite(x)) {
        return x;
    }
    snprintf(buf, sizeof buf, "%.1f", x);
    return strtod(buf, NULL);
}

double procinfo_cpu_percent(procinfo *p)
{
    double cpu = cpu_seconds();
    double wall = now_mono();
    double dt = wall - p->last_wall_s;
    double pct = dt > 0 ? (cpu - p->last_cpu_s) / dt * 100.0 : 0.0;
    p->last_cpu_s = cpu;
    p->last_wall_s = wall;
    return pct < 0 ? 0.0 : procinfo_round1(pct);
}

int64_t procinfo_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) {
        return 0;
    }
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
        resident = 0;
    }
    fclose(f);
    return (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
}
