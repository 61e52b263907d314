/*
 * test_ratelimit.c - unit tests for the token bucket's arithmetic of
 * --max-rps (worker/ratelimit.c): refill up to the burst, the ramp of
 * --request-increase-rate, and the cap being off by default.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ev.h>

#include "../../worker/ratelimit.h"

static void test_refill(void **state)
{
    (void)state;
    assert_true(ratelimit_refill(0, 1000, 0.0005, 10) == 0.5);
    assert_true(ratelimit_refill(0.5, 1000, 0.0005, 10) == 1.0);
    assert_true(ratelimit_refill(2, 1000, 1.0, 10) == 10); /* capped at the burst */
    assert_true(ratelimit_refill(3, 1000, -1.0, 10) == 3); /* a clock going back adds nothing */
}

static void test_ramp(void **state)
{
    (void)state;
    /* 100/s more every 2 s, up to 350 */
    assert_true(ratelimit_ramp(350, 100, 2, 0) == 100);
    assert_true(ratelimit_ramp(350, 100, 2, 1.99) == 100);
    assert_true(ratelimit_ramp(350, 100, 2, 2) == 200);
    assert_true(ratelimit_ramp(350, 100, 2, 4.5) == 300);
    assert_true(ratelimit_ramp(350, 100, 2, 100) == 350);
    /* no upper bound without --max-rps; no ramp without a step */
    assert_true(ratelimit_ramp(0, 100, 1, 99.5) == 10000);
    assert_true(ratelimit_ramp(500, 0, 1, 99) == 500);
}

static void test_off_by_default(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(loop);
    ratelimit_init(loop, 0, 0, 1);
    assert_true(ratelimit_rate() == 0);
    assert_int_equal(ratelimit_defer(NULL, NULL), 0); /* never touches the request */
    ratelimit_init(loop, 250, 0, 1);
    assert_true(ratelimit_rate() == 250);
    ratelimit_free();
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refill),
        cmocka_unit_test(test_ramp),
        cmocka_unit_test(test_off_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
