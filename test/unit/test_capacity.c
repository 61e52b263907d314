/*
 * test_capacity.c - unit tests for worker/capacity.c: fitting the master's
 * per-class targets to the users this process can hold (file descriptors
 * and memory), and measuring those limits.
 *
 * capacity_fit: no cut when everything fits; users to add cut in
 * proportion to each class's share, the rest given one by one; users kept
 * and stopping users taking their descriptors; classes that shrink left
 * alone; the memory bound with per-class estimates; no room at all; counts
 * near INT64_MAX without overflow. capacity_measure: the open-file
 * limit less the descriptors held and the reserve (in a child process,
 * under setrlimit), and a finite memory figure. (The memory limits
 * themselves are tested on the non-ASan build, under RLIMIT_AS, in
 * test/integration/test_resources.py: ASan's own mappings need more
 * address space than any such limit leaves.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../worker/capacity.h"

#define MILLION_USERS 1000000

static capacity fds(int64_t users)
{
    capacity c = {
        .fd_users = users, .nofile = users + 64, .mem_bytes = INT64_MAX, .mem_what = "no limit"};
    return c;
}

static const double curl[4] = {CAPACITY_CURL_USER_BYTES, CAPACITY_CURL_USER_BYTES,
                               CAPACITY_CURL_USER_BYTES, CAPACITY_CURL_USER_BYTES};

static void test_fits(void **state)
{
    (void)state;
    capacity c = fds(100);
    int64_t alive[2] = {10, 0}, target[2] = {50, 40};
    capacity_cut cut;
    assert_int_equal(capacity_fit(&c, 2, alive, target, curl, 0, &cut), 0);
    assert_int_equal(target[0], 50);
    assert_int_equal(target[1], 40);
    int64_t same[2] = {10, 0};
    assert_int_equal(capacity_fit(&c, 2, alive, same, curl, 0, &cut), 0);
}

static void test_fd_cut_in_proportion(void **state)
{
    (void)state;
    capacity c = fds(208);
    int64_t alive[3] = {0, 0, 0}, target[3] = {600000, 300000, 100000};
    capacity_cut cut;
    assert_int_equal(capacity_fit(&c, 3, alive, target, curl, 0, &cut), 1);
    assert_int_equal(target[0] + target[1] + target[2], 208);
    assert_int_equal(target[0], 125); /* 124.8: one of the 2 left */
    assert_int_equal(target[1], 62);  /* 62.4 */
    assert_int_equal(target[2], 21);  /* 20.8: the other */
    assert_int_equal(cut.asked, 1000000);
    assert_int_equal(cut.runs, 208);
    assert_true(cut.by_fds);
}

static void test_kept_and_stopping_users_hold_fds(void **state)
{
    (void)state;
    capacity c = fds(100);
    /* 60 A kept, B shrinks from 30 to 10 (10 kept, 20 stopping soon), 5
     * users still stopping: room for 100 - 70 - 5 = 25 more A */
    int64_t alive[2] = {60, 30}, target[2] = {1000, 10};
    capacity_cut cut;
    assert_int_equal(capacity_fit(&c, 2, alive, target, curl, 5, &cut), 1);
    assert_int_equal(target[0], 85);
    assert_int_equal(target[1], 10);
    assert_int_equal(cut.asked, 1010);
    assert_int_equal(cut.runs, 95);

    int64_t full[2] = {100, 0}, want[2] = {200, 50};
    assert_int_equal(capacity_fit(&c, 2, full, want, curl, 0, &cut), 1);
    assert_int_equal(want[0], 100); /* no room: nothing added */
    assert_int_equal(want[1], 0);
    assert_int_equal(cut.runs, 100);
}

static void test_memory_bound(void **state)
{
    (void)state;
    /* 10 MB left, 80 % usable: 8 MB at 16 KB per fast user and 48 KB per
     * curl user, added half and half: 32 KB on average, 256 users */
    capacity c = {.fd_users = INT64_MAX,
                  .nofile = INT64_MAX,
                  .mem_bytes = 10 << 20,
                  .mem_what = "the address-space limit, RLIMIT_AS"};
    const double bytes[2] = {CAPACITY_FAST_USER_BYTES, CAPACITY_CURL_USER_BYTES};
    int64_t alive[2] = {0, 0}, target[2] = {MILLION_USERS, MILLION_USERS};
    capacity_cut cut;
    assert_int_equal(capacity_fit(&c, 2, alive, target, bytes, 0, &cut), 1);
    assert_int_equal(target[0] + target[1], 256);
    assert_int_equal(target[0], 128);
    assert_false(cut.by_fds);
    assert_true(cut.user_bytes == 32 * 1024);
}

static void test_huge_counts(void **state)
{
    (void)state;
    capacity c = fds(1000);
    int64_t alive[2] = {0, 0}, target[2] = {INT64_MAX, INT64_MAX};
    capacity_cut cut;
    assert_int_equal(capacity_fit(&c, 2, alive, target, curl, 0, &cut), 1);
    assert_int_equal(target[0], 500);
    assert_int_equal(target[1], 500);
    assert_int_equal(cut.asked, INT64_MAX);
    assert_int_equal(cut.runs, 1000);
}

/* Runs fn in a child (its rlimits stay there); fails if the child fails. */
static void in_child(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void measure_nofile(void)
{
    struct rlimit rl = {128, 128};
    capacity c;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || capacity_measure(&c, 10) != 0 || c.nofile != 128 ||
        c.fd_users != 128 - 10 - CAPACITY_FD_RESERVE) {
        _exit(1);
    }
    rl.rlim_cur = rl.rlim_max = 20; /* less than held + reserve: none */
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || capacity_measure(&c, -1) != 0 || c.fd_users != 0) {
        _exit(2);
    }
}

static void test_measure_nofile(void **state)
{
    (void)state;
    in_child(measure_nofile);
}

static void test_measure_memory(void **state)
{
    (void)state;
    capacity c;
    assert_int_equal(capacity_measure(&c, -1), 0);
    assert_true(c.mem_bytes > 0 && c.mem_bytes < INT64_MAX);
    assert_true(strcmp(c.mem_what, "MemAvailable") == 0 ||
                strcmp(c.mem_what, "the cgroup's memory limit") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_fd_cut_in_proportion),
        cmocka_unit_test(test_kept_and_stopping_users_hold_fds),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_measure_nofile),
        cmocka_unit_test(test_measure_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
