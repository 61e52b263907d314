/*
 * test_wait_time.c - unit tests for worker/wait_time.c (and lw_random).
 *
 * The expected values follow Locust's locust/user/wait_time.py:
 *   between(a, b)          a + random() * (b - a)
 *   constant(a)            a
 *   constant_pacing(p)     max(0, p - run_time), where run_time is
 *                          now - _cp_last_run - _cp_last_wait_time and
 *                          _cp_last_run starts at the user's creation time
 *   constant_throughput(n) constant_pacing(1 / n)
 * Pacing is fed explicit `now` values; they are chosen as binary fractions
 * so that the results can be compared exactly. between() is checked at its
 * endpoints and as a distribution over 100k samples from lw_random().
 * wait_time_valid() must reject negative, NaN and out-of-order parameters
 * and unknown kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "rng.h"
#include "../../worker/lw.h"
#include "../../worker/user.h"
#include "../../worker/wait_time.h"

#define assert_dbl_exact(got, want)                                        \
    do {                                                                   \
        double got_ = (got), want_ = (want);                               \
        if (!(got_ == want_)) {                                            \
            fail_msg("%s = %.17g, want exactly %.17g", #got, got_, want_); \
        }                                                                  \
    } while (0)

#define assert_dbl_near(got, want, tol)                                                 \
    do {                                                                                \
        double got_ = (got), want_ = (want);                                            \
        if (!(fabs(got_ - want_) <= (tol))) {                                           \
            fail_msg("%s = %.17g, want %.17g +- %g", #got, got_, want_, (double)(tol)); \
        }                                                                               \
    } while (0)

/* ---- constant --------------------------------------------------------- */

static void test_constant(void **state)
{
    (void)state;
    wait_state ws;
    wait_state_init(&ws, 50.0);
    lw_wait_time wt = LW_CONSTANT(1.5);
    assert_int_equal(wt.kind, LW_WAIT_CONSTANT);
    /* Neither the time nor the random sample matters. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 50.0, 0.0), 1.5);
    assert_dbl_exact(wait_time_next(&wt, &ws, 51.0, 0.999), 1.5);
    assert_dbl_exact(wait_time_next(&wt, &ws, 1000.0, 0.5), 1.5);
    lw_wait_time zero = LW_CONSTANT(0);
    assert_dbl_exact(wait_time_next(&zero, &ws, 1001.0, 0.7), 0.0);
}

/* ---- between ---------------------------------------------------------- */

static void test_between_endpoints(void **state)
{
    (void)state;
    wait_state ws;
    wait_state_init(&ws, 0.0);
    lw_wait_time wt = LW_BETWEEN(2.0, 5.0);
    assert_int_equal(wt.kind, LW_WAIT_BETWEEN);
    assert_dbl_exact(wait_time_next(&wt, &ws, 1.0, 0.0), 2.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 1.0, 0.5), 3.5);
    assert_dbl_exact(wait_time_next(&wt, &ws, 1.0, 0.25), 2.75);
    /* The largest sample below 1 gives b (2 + (1 - 2^-53) * 3 rounds to
     * 5.0, as it does in Python) and never more. */
    double top = nextafter(1.0, 0.0);
    double w = wait_time_next(&wt, &ws, 1.0, top);
    assert_true(w <= 5.0);
    assert_dbl_near(w, 5.0, 1e-12);
    /* a + rnd * (b - a), not rnd * b or similar. */
    lw_wait_time wt2 = LW_BETWEEN(10.0, 11.0);
    assert_dbl_exact(wait_time_next(&wt2, &ws, 1.0, 0.125), 10.125);
    /* between(a, a) is a constant. */
    lw_wait_time same = LW_BETWEEN(0.75, 0.75);
    assert_dbl_exact(wait_time_next(&same, &ws, 1.0, 0.0), 0.75);
    assert_dbl_exact(wait_time_next(&same, &ws, 1.0, 0.9), 0.75);
    lw_wait_time zero = LW_BETWEEN(0.0, 0.0);
    assert_dbl_exact(wait_time_next(&zero, &ws, 1.0, 0.3), 0.0);
}

static void test_lw_random_range(void **state)
{
    (void)state;
    double lo = 1.0, hi = 0.0;
    for (int i = 0; i < 100000; i++) {
        double r = lw_random();
        if (!(r >= 0.0 && r < 1.0)) {
            fail_msg("lw_random() = %.17g, outside [0, 1)", r);
        }
        lo = r < lo ? r : lo;
        hi = r > hi ? r : hi;
    }
    /* 100k uniform samples: min below 0.001 and max above 0.999 with a
     * probability of 1 - 2 * e^-100. */
    assert_true(lo < 0.001);
    assert_true(hi > 0.999);
}

static void test_between_distribution(void **state)
{
    (void)state;
    enum { N = 100000, BINS = 10 };
    const double a = 2.0, b = 5.0;
    lw_wait_time wt = LW_BETWEEN(a, b);
    wait_state ws;
    wait_state_init(&ws, 0.0);
    long bins[BINS] = {0};
    double sum = 0.0, sumsq = 0.0;
    for (int i = 0; i < N; i++) {
        double w = wait_time_next(&wt, &ws, (double)i, lw_random());
        if (!(w >= a && w <= b)) {
            fail_msg("between(2, 5) gave %.17g", w);
        }
        sum += w;
        sumsq += w * w;
        int k = (int)((w - a) / (b - a) * BINS);
        bins[k < BINS ? k : BINS - 1]++;
    }
    double mean = sum / N;
    double var = sumsq / N - mean * mean;
    /* Uniform on [2, 5]: mean 3.5 (standard error 0.0027), variance
     * 9 / 12 = 0.75. */
    assert_dbl_near(mean, 3.5, 0.02);
    assert_dbl_near(var, 0.75, 0.03);
    /* Deciles: 10000 expected each, standard deviation about 95. */
    double chi2 = 0.0;
    for (int k = 0; k < BINS; k++) {
        if (bins[k] < 9400 || bins[k] > 10600) {
            fail_msg("decile %d holds %ld of %d samples", k, bins[k], N);
        }
        double d = (double)bins[k] - N / BINS;
        chi2 += d * d / (N / BINS);
    }
    /* 9 degrees of freedom: P(chi2 > 40) is about 1e-5. */
    if (chi2 > 40.0) {
        fail_msg("deciles too uneven: chi2 = %g", chi2);
    }
}

/* ---- constant_pacing -------------------------------------------------- */

/* The task is shorter than the period: the wait fills the period. */
static void test_pacing_short_tasks(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(1.0);
    assert_int_equal(wt.kind, LW_WAIT_CONSTANT_PACING);
    wait_state ws;
    wait_state_init(&ws, 100.0);
    /* First task ran from the user's start (100.0) to 100.25. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 100.25, 0.5), 0.75);
    /* The wait ended at 101.0; the task took 0.5 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 101.5, 0.5), 0.5);
    /* The wait ended at 102.0; the task took 0.125 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 102.125, 0.0), 0.875);
    /* The wait ended at 103.0; a task of exactly the period: no wait. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 104.0, 0.0), 0.0);
    /* The wait (0) ended at 104.0; the task took 0.0625 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 104.0625, 0.0), 0.9375);
}

/* The task is longer than the period: wait 0, and the overrun is not
 * carried over into the next period (Locust does not catch up). */
static void test_pacing_long_tasks(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(1.0);
    wait_state ws;
    wait_state_init(&ws, 10.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 10.5, 0.0), 0.5);
    /* The wait ended at 11.0; the task took 2.5 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 13.5, 0.0), 0.0);
    /* The wait of 0 ended at 13.5; the task took 1.25 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 14.75, 0.0), 0.0);
    /* The next short task gets the full remainder of its own period. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 15.0, 0.0), 0.75);
    /* The wait ended at 15.75; the task took 0.25 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 16.0, 0.0), 0.75);
}

/* The first run time is measured from wait_state_init's time. */
static void test_pacing_first_call(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(2.0);
    wait_state ws;

    wait_state_init(&ws, 5.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 5.0, 0.0), 2.0);

    wait_state_init(&ws, 5.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 6.5, 0.0), 0.5);

    wait_state_init(&ws, 5.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 7.0, 0.0), 0.0);

    wait_state_init(&ws, 5.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 9.0, 0.0), 0.0);

    /* wait_state_init resets a state that has a pending wait. */
    wait_state_init(&ws, 0.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 0.5, 0.0), 1.5);
    wait_state_init(&ws, 20.0);
    assert_dbl_exact(ws.last_wait, 0.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 20.25, 0.0), 1.75);
}

/* A timer that fires late makes the next task look longer: the lateness is
 * part of run_time, exactly as with Locust's perf_counter() bookkeeping. */
static void test_pacing_late_wakeup(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(1.0);
    wait_state ws;
    wait_state_init(&ws, 0.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 0.25, 0.0), 0.75);
    /* The wait should have ended at 1.0 but the task started at 1.125 and
     * finished at 1.375: run_time 0.375. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 1.375, 0.0), 0.625);
}

/* Two users do not share pacing: each state is independent. */
static void test_pacing_independent_states(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(1.0);
    wait_state a, b;
    wait_state_init(&a, 0.0);
    wait_state_init(&b, 0.5);
    assert_dbl_exact(wait_time_next(&wt, &a, 0.25, 0.0), 0.75);
    assert_dbl_exact(wait_time_next(&wt, &b, 0.75, 0.0), 0.75);
    assert_dbl_exact(wait_time_next(&wt, &a, 1.5, 0.0), 0.5);
    assert_dbl_exact(wait_time_next(&wt, &b, 1.75, 0.0), 0.75);
}

static void test_pacing_zero_period(void **state)
{
    (void)state;
    lw_wait_time wt = LW_CONSTANT_PACING(0.0);
    wait_state ws;
    wait_state_init(&ws, 1.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 1.0, 0.0), 0.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 3.0, 0.0), 0.0);
}

/* ---- constant_throughput ---------------------------------------------- */

static void test_throughput(void **state)
{
    (void)state;
    /* 4 tasks per second: pacing 0.25 s. */
    lw_wait_time wt = LW_CONSTANT_THROUGHPUT(4.0);
    assert_int_equal(wt.kind, LW_WAIT_CONSTANT_THROUGHPUT);
    wait_state ws;
    wait_state_init(&ws, 8.0);
    assert_dbl_exact(wait_time_next(&wt, &ws, 8.0625, 0.9), 0.1875);
    /* The wait ended at 8.25; the task took 0.5 s: no wait. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 8.75, 0.9), 0.0);
    /* The wait ended at 8.75; the task took 0.125 s. */
    assert_dbl_exact(wait_time_next(&wt, &ws, 8.875, 0.9), 0.125);

    /* 0.5 tasks per second: pacing 2 s. */
    lw_wait_time slow = LW_CONSTANT_THROUGHPUT(0.5);
    wait_state_init(&ws, 0.0);
    assert_dbl_exact(wait_time_next(&slow, &ws, 0.5, 0.0), 1.5);
    assert_dbl_exact(wait_time_next(&slow, &ws, 3.0, 0.0), 1.0);

    /* 3 tasks per second: the same as constant_pacing(1 / 3). */
    lw_wait_time three = LW_CONSTANT_THROUGHPUT(3.0);
    lw_wait_time third = LW_CONSTANT_PACING(1.0 / 3.0);
    wait_state w1, w2;
    wait_state_init(&w1, 0.0);
    wait_state_init(&w2, 0.0);
    const double times[] = {0.1, 0.4, 0.9, 1.0, 1.05, 2.0};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        double x = wait_time_next(&three, &w1, times[i], 0.0);
        double y = wait_time_next(&third, &w2, times[i], 0.0);
        assert_dbl_near(x, y, 1e-12);
    }
    wait_state_init(&w1, 0.0);
    assert_dbl_near(wait_time_next(&three, &w1, 0.1, 0.0), 1.0 / 3.0 - 0.1, 1e-12);
}

/* ---- wait_time_valid -------------------------------------------------- */

static void test_valid(void **state)
{
    (void)state;
    const lw_wait_time good[] = {
        LW_CONSTANT(0),
        LW_CONSTANT(1.5),
        LW_CONSTANT(3600),
        LW_BETWEEN(0, 0),
        LW_BETWEEN(0, 1),
        LW_BETWEEN(1, 1),
        LW_BETWEEN(0.5, 10),
        LW_CONSTANT_PACING(0),
        LW_CONSTANT_PACING(2),
        LW_CONSTANT_THROUGHPUT(0.001),
        LW_CONSTANT_THROUGHPUT(1),
        LW_CONSTANT_THROUGHPUT(1000),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (wait_time_valid(&good[i]) != 0) {
            fail_msg("valid wait_time #%zu (kind %d, %g, %g) rejected", i, (int)good[i].kind,
                     good[i].a, good[i].b);
        }
    }
}

static void test_invalid(void **state)
{
    (void)state;
    const lw_wait_time bad[] = {
        LW_CONSTANT(-1),
        LW_CONSTANT(-0.001),
        LW_CONSTANT(NAN),
        LW_BETWEEN(-1, 1),
        LW_BETWEEN(-2, -1),
        LW_BETWEEN(2, 1),
        LW_BETWEEN(0.5, 0.25),
        LW_BETWEEN(NAN, 1),
        LW_BETWEEN(0, NAN),
        LW_CONSTANT_PACING(-1),
        LW_CONSTANT_PACING(NAN),
        LW_CONSTANT_THROUGHPUT(0),
        LW_CONSTANT_THROUGHPUT(-0.0),
        LW_CONSTANT_THROUGHPUT(-1),
        LW_CONSTANT_THROUGHPUT(NAN),
        {(lw_wait_kind)99, 1, 2},
        {(lw_wait_kind)-1, 1, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (wait_time_valid(&bad[i]) != -1) {
            fail_msg("invalid wait_time #%zu (kind %d, %g, %g) accepted", i, (int)bad[i].kind,
                     bad[i].a, bad[i].b);
        }
    }
}

int main(void)
{
    rng_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_between_endpoints),
        cmocka_unit_test(test_lw_random_range),
        cmocka_unit_test(test_between_distribution),
        cmocka_unit_test(test_pacing_short_tasks),
        cmocka_unit_test(test_pacing_long_tasks),
        cmocka_unit_test(test_pacing_first_call),
        cmocka_unit_test(test_pacing_late_wakeup),
        cmocka_unit_test(test_pacing_independent_states),
        cmocka_unit_test(test_pacing_zero_period),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
