/*
 * test_taskpick.c - unit tests for worker/taskpick.c: Locust's tag rules
 * (_filter_tasks_by_tags: --tags keeps tasks with a listed tag, untagged
 * ones go; --exclude-tags drops tasks with a listed tag, untagged ones
 * stay; both at once; an empty list or None filters nothing; a class left
 * with no task), the class picker's selection by task name and its host,
 * and the weighted choice among the tasks that may run (each task's share
 * equals its weight over the runnable total, at every r in [0, 1)).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../worker/taskpick.h"

static void fn(lw_user *u)
{
    (void)u;
}

static const char *const t_read[] = {"read", NULL};
static const char *const t_write[] = {"write", "slow", NULL};
static const lw_task tasks[] = {
    {"state_read", 15, fn, t_read},
    {"state_update", 80, fn, t_write},
    {"trigger_workflow", 5, fn, NULL},
};
static const lw_user_class cls = {.name = "MixedUser", .weight = 1, .tasks = tasks, .ntasks = 3};

static proto_option list_opt(char **items, size_t n)
{
    proto_option o = {.name = "tags", .is_list = 1, .items = items, .nitems = n};
    return o;
}

/* How often each task is chosen over r = 0, 1/N, ..., (N-1)/N. */
static void shares(const taskpick *t, int out[3])
{
    memset(out, 0, 3 * sizeof *out);
    for (int i = 0; i < 1000; i++) {
        const lw_task *task = taskpick_choose(t, i / 1000.0);
        assert_non_null(task);
        out[task - tasks]++;
    }
}

static void test_weights(void **state)
{
    (void)state;
    taskpick t;
    int n[3];
    assert_int_equal(taskpick_init(&t, &cls), 0);
    shares(&t, n);
    assert_int_equal(n[0], 150);
    assert_int_equal(n[1], 800);
    assert_int_equal(n[2], 50);
    assert_ptr_equal(taskpick_choose(&t, 0.999999999), &tasks[2]);
    taskpick_free(&t);
}

static void test_tags(void **state)
{
    (void)state;
    taskpick t;
    int n[3];
    char *read[] = {"read"}, *slow[] = {"slow"}, *none[] = {"nope"};
    assert_int_equal(taskpick_init(&t, &cls), 0);
    proto_option tags = list_opt(read, 1), excl = list_opt(slow, 1);
    assert_int_equal(taskpick_tags(&t, &tags, NULL), 1); /* untagged go */
    shares(&t, n);
    assert_int_equal(n[0], 1000);
    assert_int_equal(taskpick_tags(&t, NULL, &excl), 2); /* untagged stay */
    shares(&t, n);
    assert_int_equal(n[1], 0);
    assert_int_equal(n[0], 750);
    assert_int_equal(taskpick_tags(&t, &tags, &excl), 1);
    proto_option empty = list_opt(NULL, 0), nil = {.name = "tags"};
    assert_int_equal(taskpick_tags(&t, &empty, &nil), 3); /* [] and None: no filter */
    proto_option nomatch = list_opt(none, 1);
    assert_int_equal(taskpick_tags(&t, &nomatch, NULL), 0); /* a class left with none */
    assert_null(taskpick_choose(&t, 0.5));
    taskpick_free(&t);
}

static void test_picker(void **state)
{
    (void)state;
    taskpick t;
    int n[3];
    char *only_read[] = {"state_read", "not_a_task"};
    char *read_and_flow[] = {"trigger_workflow", "state_read"};
    assert_int_equal(taskpick_init(&t, &cls), 0);
    assert_int_equal(taskpick_select(&t, only_read, 2), 1);
    shares(&t, n);
    assert_int_equal(n[0], 1000);
    assert_int_equal(taskpick_select(&t, read_and_flow, 2), 2);
    shares(&t, n);
    assert_int_equal(n[0], 750);
    assert_int_equal(n[2], 250);
    char *excl_items[] = {"read"};
    proto_option excl = list_opt(excl_items, 1);
    assert_int_equal(taskpick_tags(&t, NULL, &excl), 1); /* both rules at once */
    shares(&t, n);
    assert_int_equal(n[2], 1000);
    assert_int_equal(taskpick_select(&t, NULL, 0), 0);
    assert_null(taskpick_choose(&t, 0.0));
    assert_null(t.host);
    assert_int_equal(taskpick_set_host(&t, "http://other:8000"), 0);
    assert_string_equal(t.host, "http://other:8000");
    assert_int_equal(taskpick_set_host(&t, ""), 0);
    assert_null(t.host);
    taskpick_free(&t);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_picker),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
