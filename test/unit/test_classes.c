/*
 * test_classes.c - unit tests for worker/classes.c and lw_main's refusal of
 * user class tables that cannot run: task weights whose sum overflows an
 * int ({INT_MAX, 1} used to start a respawn storm), no classes, nameless
 * or duplicate names, bad wait_time or client, no tasks, a task without a
 * function or with a weight below 1. lw_main prints one line and returns 2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../worker/classes.h"
#include "../../worker/lw.h"

static void task(lw_user *u)
{
    (void)u;
}

static const lw_task ok_tasks[] = {{"a", 1, task, NULL}, {"b", 3, task, NULL}};
static const lw_task max_tasks[] = {{"a", INT_MAX, task, NULL}};
static const lw_task overflow_tasks[] = {{"a", INT_MAX, task, NULL}, {"b", 1, task, NULL}};
static const lw_task sum_overflow_tasks[] = {{"a", INT_MAX / 2 + 1, task, NULL},
                                             {"b", INT_MAX / 2 + 1, task, NULL}};
static const lw_task zero_tasks[] = {{"a", 1, task, NULL}, {"b", 0, task, NULL}};
static const lw_task negative_tasks[] = {{"a", -5, task, NULL}};
static const lw_task nofn_tasks[] = {{"a", 1, task, NULL}, {"b", 1, NULL, NULL}};

#define CLASS(n, t)                                                          \
    {                                                                        \
        .name = (n), .weight = 1, .wait_time = LW_CONSTANT(1), .tasks = (t), \
        .ntasks = sizeof(t) / sizeof((t)[0])                                 \
    }

static void expect_error(const lw_user_class *c, size_t n, const char *want)
{
    char err[300] = "";
    assert_int_equal(classes_check(c, n, err, sizeof err), -1);
    if (!strstr(err, want)) {
        fail_msg("error '%s' does not say '%s'", err, want);
    }
    assert_null(strchr(err, '\n'));
}

static void test_valid_tables(void **state)
{
    (void)state;
    char err[300] = "";
    const lw_user_class two[] = {CLASS("A", ok_tasks), CLASS("B", max_tasks)};
    assert_int_equal(classes_check(two, 2, err, sizeof err), 0);
    lw_user_class fast = CLASS("F", ok_tasks);
    fast.client = LW_CLIENT_FAST;
    assert_int_equal(classes_check(&fast, 1, err, sizeof err), 0);
}

static void test_weights_overflow(void **state)
{
    (void)state;
    const lw_user_class over[] = {CLASS("Over", overflow_tasks)};
    expect_error(over, 1, "user class 'Over': the task weights add up to more than 2147483647");
    const lw_user_class sum[] = {CLASS("A", ok_tasks), CLASS("Sum", sum_overflow_tasks)};
    expect_error(sum, 2, "user class 'Sum': the task weights add up to more than");
}

static void test_other_invalid_tables(void **state)
{
    (void)state;
    const lw_user_class ok = CLASS("A", ok_tasks);
    expect_error(NULL, 0, "no user classes");
    expect_error(&ok, 0, "no user classes");
    expect_error(NULL, 3, "no user classes");

    lw_user_class c[2] = {CLASS("A", ok_tasks), CLASS("A", ok_tasks)};
    expect_error(c, 2, "user class name 'A' appears twice");
    c[1].name = NULL;
    expect_error(c, 2, "user class 1 has no name");
    c[1].name = "";
    expect_error(c, 2, "user class 1 has no name");

    lw_user_class one = ok;
    one.wait_time = LW_BETWEEN(2, 1);
    expect_error(&one, 1, "user class 'A' has an invalid wait_time");
    one = ok;
    one.client = (lw_client)7;
    expect_error(&one, 1, "user class 'A' has an invalid client (7)");
    one = ok;
    one.ntasks = 0;
    expect_error(&one, 1, "user class 'A' has no tasks");
    one = ok;
    one.tasks = NULL;
    expect_error(&one, 1, "user class 'A' has no tasks");

    const lw_user_class zero[] = {CLASS("Z", zero_tasks)};
    expect_error(zero, 1, "user class 'Z': task 1 needs a function and a weight >= 1");
    const lw_user_class neg[] = {CLASS("N", negative_tasks)};
    expect_error(neg, 1, "user class 'N': task 0 needs a function and a weight >= 1");
    const lw_user_class nofn[] = {CLASS("F", nofn_tasks)};
    expect_error(nofn, 1, "user class 'F': task 1 needs a function and a weight >= 1");
}

/* lw_main's exit code and what it wrote to stderr (and stdout). */
static int run_main(const lw_user_class *c, size_t n, char *out, size_t outlen)
{
    char *argv[] = {"prog", "--master-port", "1", NULL};
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stdout);
    fflush(stderr);
    int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
    assert_true(saved_err >= 0 && saved_out >= 0);
    assert_true(dup2(fileno(f), STDERR_FILENO) >= 0 && dup2(fileno(f), STDOUT_FILENO) >= 0);
    int rc = lw_main(3, argv, c, n);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_err, STDERR_FILENO) >= 0 && dup2(saved_out, STDOUT_FILENO) >= 0);
    close(saved_err);
    close(saved_out);
    rewind(f);
    size_t got = fread(out, 1, outlen - 1, f);
    out[got] = '\0';
    fclose(f);
    return rc;
}

static void test_lw_main_exits_2_with_one_line(void **state)
{
    (void)state;
    char out[1000];
    const lw_user_class over[] = {CLASS("Over", overflow_tasks)};
    assert_int_equal(run_main(over, 1, out, sizeof out), 2);
    assert_string_equal(out, "prog: error: user class 'Over': the task weights add up to "
                             "more than 2147483647\n");
    assert_int_equal(run_main(NULL, 0, out, sizeof out), 2);
    assert_string_equal(out, "prog: error: no user classes\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_tables),
        cmocka_unit_test(test_weights_overflow),
        cmocka_unit_test(test_other_invalid_tables),
        cmocka_unit_test(test_lw_main_exits_2_with_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
