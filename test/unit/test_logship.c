/*
 * test_logship.c - unit tests for worker/logship.c: nothing is sent before
 * the master takes logs; then all kept lines once, then only when new lines
 * came; the last LOGSHIP_KEEP lines are kept, oldest first; a burst of more
 * than LOGSHIP_BURST new lines in one interval sends one last time and
 * stops sending for good, as a Python worker does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../worker/logship.h"

static void add_lines(logship *l, int from, int n)
{
    char line[32];
    for (int i = from; i < from + n; i++) {
        snprintf(line, sizeof line, "line %d", i);
        logship_add(l, line);
    }
}

static void test_sends_only_when_enabled_and_new(void **state)
{
    (void)state;
    logship *l = logship_new();
    const char *const *lines;
    size_t n;
    assert_non_null(l);
    add_lines(l, 0, 3);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_NOTHING);
    logship_enable(l);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_SEND); /* what was kept */
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], "line 0");
    assert_string_equal(lines[2], "line 2");
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_NOTHING);
    add_lines(l, 3, 1);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_SEND);
    assert_int_equal(n, 4);
    assert_string_equal(lines[3], "line 3");
    logship_free(l);
}

static void test_keeps_the_last_lines(void **state)
{
    (void)state;
    logship *l = logship_new();
    const char *const *lines;
    size_t n;
    logship_enable(l);
    for (int i = 0; i < 20; i++) { /* 20 intervals of 60 lines: no burst */
        add_lines(l, i * 60, 60);
        assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_SEND);
    }
    assert_int_equal(n, LOGSHIP_KEEP);
    assert_string_equal(lines[0], "line 700");
    assert_string_equal(lines[LOGSHIP_KEEP - 1], "line 1199");
    logship_free(l);
}

static void test_burst_stops_sending(void **state)
{
    (void)state;
    logship *l = logship_new();
    const char *const *lines;
    size_t n;
    logship_enable(l);
    add_lines(l, 0, LOGSHIP_BURST);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_SEND); /* 70: not yet */
    add_lines(l, LOGSHIP_BURST, LOGSHIP_BURST + 1);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_SEND_LAST);
    assert_int_equal(n, 2 * LOGSHIP_BURST + 1);
    add_lines(l, 1000, 1);
    assert_int_equal(logship_take(l, &lines, &n), LOGSHIP_NOTHING);
    logship_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sends_only_when_enabled_and_new),
        cmocka_unit_test(test_keeps_the_last_lines),
        cmocka_unit_test(test_burst_stops_sending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
