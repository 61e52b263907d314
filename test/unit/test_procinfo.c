/*
 * test_procinfo.c - unit tests for worker/procinfo.c: the heartbeat's CPU
 * percent is rounded to one decimal exactly as psutil's cpu_percent()
 * rounds it, with Python's round(x, 1) (half to even on x's exact binary
 * value). The expected values were printed by CPython 3.11:
 *     [round(x, 1) for x in xs]
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../worker/procinfo.h"

#define assert_dbl_exact(got, want)                                        \
    do {                                                                   \
        double got_ = (got), want_ = (want);                               \
        if (!(got_ == want_)) {                                            \
            fail_msg("%s = %.17g, want exactly %.17g", #got, got_, want_); \
        }                                                                  \
    } while (0)

static void test_round1_like_python(void **state)
{
    (void)state;
    static const struct {
        double x, want;
    } v[] = {
        {0.028944453278598868, 0.0},
        {0.25, 0.2},
        {0.35, 0.3},
        {0.05, 0.1},
        {0.15, 0.1},
        {2.675, 2.7},
        {99.95, 100.0},
        {100.04999, 100.0},
        {12.345, 12.3},
        {0.0, 0.0},
        {187.55, 187.6},
        {3.14159, 3.1},
        {1e300, 1e300},
        {0.04999999999999999, 0.0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_dbl_exact(procinfo_round1(v[i].x), v[i].want);
    }
    assert_true(isinf(procinfo_round1(INFINITY)));
    assert_true(isnan(procinfo_round1(NAN)));
}

/* What the master's web UI shows: Python's repr of the value. */
static int decimals(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", x);
    for (int p = 1; p < 17; p++) { /* shortest repr that reads back */
        snprintf(buf, sizeof buf, "%.*g", p, x);
        double back = 0;
        sscanf(buf, "%lf", &back);
        if (back == x) {
            break;
        }
    }
    const char *dot = strchr(buf, '.');
    return dot ? (int)strlen(dot + 1) : 0;
}

static void test_cpu_percent_has_one_decimal(void **state)
{
    (void)state;
    procinfo p;
    procinfo_init(&p);
    for (int round = 0; round < 5; round++) {
        struct timespec start, now;
        volatile double sink = 0;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do { /* 20 ms of work: a fraction of a core with many digits */
            for (int i = 0; i < 1000; i++) {
                sink += sqrt((double)i);
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1e3 + (now.tv_nsec - start.tv_nsec) / 1e6 < 20);
        struct timespec idle = {0, 7 * 1000 * 1000};
        nanosleep(&idle, NULL);
        double pct = procinfo_cpu_percent(&p);
        assert_true(pct >= 0.0 && pct <= 200.0);
        assert_dbl_exact(pct, procinfo_round1(pct));
        assert_true(decimals(pct) <= 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round1_like_python),
        cmocka_unit_test(test_cpu_percent_has_one_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
