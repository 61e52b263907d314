/*
 * bench.c - the benchmark worker (test/bench/bench.py drives it).
 *
 *   BenchUser  constant(0), GET /: throughput, as many requests as it can.
 *   PacedUser  between(5, 10), GET /: the load-testing plan's Scenario 1
 *              pacing, for users per process.
 *   TimedUser  constant(0), GET /, and keeps every response time it reports
 *              to the master, at full resolution: when LW_BENCH_TIMES names a
 *              file, the times are written there in microseconds, one a line,
 *              when the worker exits. The master's percentiles are rounded to
 *              whole milliseconds, too coarse to compare with wrk's.
 *
 *   FastBenchUser, FastPacedUser, FastTimedUser: the same three on the
 *              fast client (LW_CLIENT_FAST), like Locust's FastHttpUser.
 *
 * Each user keeps its own keep-alive connection, so N users hold N
 * connections, as N Locust HttpUsers would.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../worker/lw.h"

static void get_index(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/"});
}

/* ---- TimedUser: response times kept for the exit ---- */

static double *times_us;
static size_t ntimes, times_cap;

static void keep_time(lw_user *u, lw_response *r, void *arg)
{
    (void)u;
    (void)arg;
    if (ntimes == times_cap) {
        size_t cap = times_cap ? 2 * times_cap : 65536;
        double *grown = realloc(times_us, cap * sizeof *grown);
        if (!grown) {
            return;
        }
        times_us = grown;
        times_cap = cap;
    }
    times_us[ntimes++] = lw_response_time_ms(r) * 1000.0;
}

static void get_index_timed(lw_user *u)
{
    lw_request_send(u, &(lw_request){.method = "GET", .path = "/", .on_response = keep_time});
}

static void write_times(void)
{
    const char *path = getenv("LW_BENCH_TIMES");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        return;
    }
    for (size_t i = 0; i < ntimes; i++) {
        fprintf(f, "%.1f\n", times_us[i]);
    }
    fclose(f);
}

/* ---- classes ---- */

static const lw_task bench_tasks[] = {{"index", 1, get_index, NULL}};
static const lw_task timed_tasks[] = {{"index", 1, get_index_timed, NULL}};

static const lw_user_class classes[] = {
    {.name = "BenchUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = bench_tasks,
     .ntasks = 1},
    {.name = "PacedUser",
     .weight = 1,
     .wait_time = LW_BETWEEN(5, 10),
     .tasks = bench_tasks,
     .ntasks = 1},
    {.name = "TimedUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = timed_tasks,
     .ntasks = 1},
    /* the same three on the fast client, like FastHttpUser */
    {.name = "FastBenchUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = bench_tasks,
     .ntasks = 1,
     .client = LW_CLIENT_FAST},
    {.name = "FastPacedUser",
     .weight = 1,
     .wait_time = LW_BETWEEN(5, 10),
     .tasks = bench_tasks,
     .ntasks = 1,
     .client = LW_CLIENT_FAST},
    {.name = "FastTimedUser",
     .weight = 1,
     .wait_time = LW_CONSTANT(0),
     .tasks = timed_tasks,
     .ntasks = 1,
     .client = LW_CLIENT_FAST},
};

int main(int argc, char **argv)
{
    if (getenv("LW_BENCH_TIMES")) {
        atexit(write_times);
    }
    return lw_main(argc, argv, classes, sizeof classes / sizeof classes[0]);
}
