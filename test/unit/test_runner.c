/*
 * test_runner.c - unit tests for the spawn/stop state machine of
 * worker/runner.c (with worker/user.c underneath), driven by a real libev
 * loop and no network: the user classes defined here have tasks that only
 * count, never send a request.
 *
 * Covered: a spawn reaching its per-class targets (spawning_complete once,
 * on_start once per user and before any task, tasks running); a second spawn
 * adjusting incrementally (surplus users stopped, newest first, with on_stop,
 * missing users started, the others left running and not restarted);
 * classes absent from a spawn message left untouched; unknown classes
 * reported once through the exception callback (and not at all with a count
 * of 0; past 16 names in a test, once for all the others; a long name cut
 * between characters); a 2000-user spawn done in slices; runner_stop with and without a
 * stop_timeout (every on_stop called, `stopped` once, counts 0, idle, no task
 * afterwards); stopping in the middle of a spawn; no on_stop for a user whose
 * on_start never ran (as in Locust); runner_shutdown's callback; and a class
 * without tasks (run in a child process, since a memory error there would
 * end the whole test program).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rng.h"
#include "../../worker/cli.h"
#include "../../worker/runner.h"
#include "../../worker/stats.h"
#include "../../worker/user.h"

#define T0 1700000000.0
#define MAX_IDS 8192

/* ---- user classes that record what happens to them -------------------- */

typedef struct {
    int id; /* order of on_start over the test, from 1 */
    int started;
    int stopped;
} udata;

enum { CA, CB, CBIG, CPLAIN, CNOTASK, NCLS };

static struct {
    int starts[NCLS];
    int stops[NCLS];
    long tasks[NCLS];
    int next_id;
    int starts_by_id[MAX_IDS];
    int stops_by_id[MAX_IDS];
    long tasks_by_id[MAX_IDS];
    int cls_by_id[MAX_IDS];
    int task_before_start;  /* a task ran before on_start */
    int task_after_stop;    /* a task ran after on_stop */
    int start_twice;        /* on_start ran twice for one user */
    int stop_twice;         /* on_stop ran twice for one user */
    int stop_without_start; /* on_stop for a user whose on_start never ran */
} rec;

static const lw_user_class classes[NCLS];

static int class_of(lw_user *u)
{
    return (int)(lw_user_class_of(u) - classes);
}

static void rec_on_start(lw_user *u)
{
    udata *d = lw_user_data(u);
    int c = class_of(u);
    if (d->started) {
        rec.start_twice++;
        return;
    }
    d->started = 1;
    d->id = ++rec.next_id;
    if (d->id < MAX_IDS) {
        rec.starts_by_id[d->id]++;
        rec.cls_by_id[d->id] = c;
    }
    rec.starts[c]++;
}

static void rec_on_stop(lw_user *u)
{
    udata *d = lw_user_data(u);
    int c = class_of(u);
    if (d->stopped) {
        rec.stop_twice++;
    }
    d->stopped = 1;
    if (!d->started) {
        rec.stop_without_start++;
    } else if (d->id < MAX_IDS) {
        rec.stops_by_id[d->id]++;
    }
    rec.stops[c]++;
}

static void rec_task(lw_user *u)
{
    udata *d = lw_user_data(u);
    if (!d->started) {
        rec.task_before_start++;
    }
    if (d->stopped) {
        rec.task_after_stop++;
    }
    if (d->id > 0 && d->id < MAX_IDS) {
        rec.tasks_by_id[d->id]++;
    }
    rec.tasks[class_of(u)]++;
}

static void plain_task(lw_user *u)
{
    rec.tasks[class_of(u)]++;
}

static const lw_task one_task[] = {{"count", 1, rec_task, NULL}};
static const lw_task two_tasks[] = {{"count1", 1, rec_task, NULL}, {"count3", 3, rec_task, NULL}};
static const lw_task plain_tasks[] = {{"plain", 1, plain_task, NULL}};

static const lw_user_class classes[NCLS] = {
    [CA] = {"A", 1, LW_CONSTANT(0.01), one_task, 1, rec_on_start, rec_on_stop, sizeof(udata)},
    [CB] = {"B", 1, LW_BETWEEN(0.005, 0.015), two_tasks, 2, rec_on_start, rec_on_stop,
            sizeof(udata)},
    [CBIG] = {"Big", 1, LW_CONSTANT(1.0), one_task, 1, rec_on_start, rec_on_stop, sizeof(udata)},
    [CPLAIN] = {"Plain", 1, LW_CONSTANT_PACING(0.01), plain_tasks, 1, NULL, NULL, 0},
    [CNOTASK] = {"NoTask", 1, LW_CONSTANT(0.01), NULL, 0, rec_on_start, rec_on_stop, sizeof(udata)},
};

/* ---- fixture: loop, stats, runner and the runner's events ------------- */

static struct {
    struct ev_loop *loop;
    lw_stats *stats;
    runner *r;
    int spawning_complete;
    int64_t count_at_complete; /* runner_user_count when it fired */
    int stopped;
    int exceptions;
    char last_exception[512];
    int shutdown_cb;
} fx;

static void ev_spawning_complete(void *ctx)
{
    assert_ptr_equal(ctx, &fx);
    fx.spawning_complete++;
    fx.count_at_complete = runner_user_count(fx.r);
}

static void ev_stopped(void *ctx)
{
    assert_ptr_equal(ctx, &fx);
    fx.stopped++;
}

static void ev_exception(const char *msg, void *ctx)
{
    assert_ptr_equal(ctx, &fx);
    fx.exceptions++;
    snprintf(fx.last_exception, sizeof fx.last_exception, "%s", msg);
}

static void on_shutdown_done(void *arg)
{
    assert_ptr_equal(arg, &fx);
    fx.shutdown_cb++;
}

static runner *make_runner(struct ev_loop *loop, lw_stats *stats)
{
    lw_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.master_host, sizeof cfg.master_host, "127.0.0.1");
    cfg.master_port = 5557;
    cfg.processes = 1;
    cfg.loglevel = LOG_INFO;
    cfg.request_timeout = 60.0;
    runner_events events = {ev_spawning_complete, ev_stopped, ev_exception, &fx};
    return runner_new(loop, classes, NCLS, &cfg, stats, events);
}

static int setup(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof rec);
    memset(&fx, 0, sizeof fx);
    fx.loop = ev_loop_new(EVFLAG_AUTO);
    fx.stats = stats_new(T0);
    if (!fx.loop || !fx.stats) {
        return -1;
    }
    fx.r = make_runner(fx.loop, fx.stats);
    return fx.r ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    runner_free(fx.r);
    stats_free(fx.stats);
    ev_loop_destroy(fx.loop);
    memset(&fx, 0, sizeof fx);
    return 0;
}

/* ---- driving the loop ------------------------------------------------- */

static void on_break(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void run_for(struct ev_loop *loop, double seconds)
{
    ev_timer t;
    ev_now_update(loop);
    ev_timer_init(&t, on_break, seconds, 0.0);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    ev_timer_stop(loop, &t);
}

/* Runs the loop in 5 ms steps until cond() holds; fails after `limit` s. */
static void run_until(int (*cond)(void), double limit, const char *what)
{
    double waited = 0.0;
    while (!cond()) {
        if (waited >= limit) {
            fail_msg("timed out after %.1f s waiting for %s", limit, what);
        }
        run_for(fx.loop, 0.005);
        waited += 0.005;
    }
}

/* ---- helpers ---------------------------------------------------------- */

static void spawn(const proto_class_count *cc, size_t n, int has_stop_timeout, double stop_timeout)
{
    proto_spawn sp;
    memset(&sp, 0, sizeof sp);
    sp.timestamp = T0;
    sp.host = NULL;
    sp.has_stop_timeout = has_stop_timeout;
    sp.stop_timeout = stop_timeout;
    sp.classes = (proto_class_count *)cc;
    sp.nclasses = n;
    runner_spawn(fx.r, &sp);
}

#define SPAWN(...)                                      \
    do {                                                \
        const proto_class_count cc_[] = {__VA_ARGS__};  \
        spawn(cc_, sizeof cc_ / sizeof cc_[0], 0, 0.0); \
    } while (0)

static void assert_counts(int64_t a, int64_t b, int64_t big, int64_t plain)
{
    proto_class_count out[NCLS];
    memset(out, 0, sizeof out);
    assert_int_equal(runner_counts(fx.r, out), NCLS);
    assert_int_equal(runner_nclasses(fx.r), NCLS);
    const int64_t want[NCLS] = {a, b, big, plain, 0};
    int64_t sum = 0;
    for (size_t i = 0; i < NCLS; i++) {
        assert_string_equal(out[i].name, classes[i].name);
        if (out[i].count != want[i]) {
            fail_msg("class %s: %lld users, want %lld", classes[i].name, (long long)out[i].count,
                     (long long)want[i]);
        }
        sum += want[i];
    }
    assert_int_equal(runner_user_count(fx.r), sum);
}

static void assert_no_order_violations(void)
{
    assert_int_equal(rec.task_before_start, 0);
    assert_int_equal(rec.task_after_stop, 0);
    assert_int_equal(rec.start_twice, 0);
    assert_int_equal(rec.stop_twice, 0);
    assert_int_equal(rec.stop_without_start, 0);
}

static int64_t target_users;
static int spawn_done(void)
{
    return fx.spawning_complete > 0;
}

static int all_started(void)
{
    int sum = 0;
    for (int c = 0; c < NCLS; c++) {
        sum += rec.starts[c];
    }
    return sum >= target_users;
}

/* Every started user has run at least `min_tasks` tasks. */
static long min_tasks;
static int all_ran_tasks(void)
{
    if (!all_started()) {
        return 0;
    }
    for (int id = 1; id <= rec.next_id && id < MAX_IDS; id++) {
        if (rec.stops_by_id[id] == 0 && rec.tasks_by_id[id] < min_tasks) {
            return 0;
        }
    }
    return 1;
}

/* Spawns {A:3, B:2} and runs until every user has run two tasks. */
static void spawn_a3_b2(void)
{
    SPAWN({"A", 3}, {"B", 2});
    target_users = 5;
    min_tasks = 2;
    run_until(spawn_done, 2.0, "spawning_complete");
    run_until(all_ran_tasks, 2.0, "5 users running tasks");
}

/* ---- tests ------------------------------------------------------------ */

static void test_new_runner_is_idle(void **state)
{
    (void)state;
    assert_true(runner_idle(fx.r));
    assert_counts(0, 0, 0, 0);
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.spawning_complete, 0);
    assert_int_equal(fx.stopped, 0);
    assert_int_equal(fx.exceptions, 0);
}

static void test_spawn(void **state)
{
    (void)state;
    SPAWN({"A", 3}, {"B", 2});
    /* Users come from the loop, not from within runner_spawn. */
    assert_int_equal(fx.spawning_complete, 0);
    target_users = 5;
    min_tasks = 3;
    run_until(spawn_done, 2.0, "spawning_complete");
    assert_int_equal(fx.count_at_complete, 5);
    run_until(all_ran_tasks, 2.0, "every user running tasks");
    run_for(fx.loop, 0.03);

    assert_int_equal(fx.spawning_complete, 1);
    assert_counts(3, 2, 0, 0);
    assert_false(runner_idle(fx.r));
    assert_int_equal(rec.starts[CA], 3);
    assert_int_equal(rec.starts[CB], 2);
    assert_int_equal(rec.next_id, 5);
    for (int id = 1; id <= 5; id++) {
        assert_int_equal(rec.starts_by_id[id], 1);
        assert_true(rec.tasks_by_id[id] >= 3);
    }
    assert_true(rec.tasks[CA] >= 9);
    assert_true(rec.tasks[CB] >= 6);
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 0);
    assert_int_equal(fx.stopped, 0);
    assert_int_equal(fx.exceptions, 0);
    assert_no_order_violations();
}

/* constant(0.01) paces tasks: about 100 per second per user, not a busy
 * loop and not stalled. */
static void test_wait_time_paces_tasks(void **state)
{
    (void)state;
    SPAWN({"A", 1});
    target_users = 1;
    min_tasks = 1;
    run_until(all_ran_tasks, 2.0, "the first task");
    long before = rec.tasks[CA];
    run_for(fx.loop, 0.2);
    long ran = rec.tasks[CA] - before;
    /* 20 at 10 ms; generous bounds for a loaded machine under ASan. */
    if (ran < 5 || ran > 25) {
        fail_msg("%ld tasks in 0.2 s with constant(0.01)", ran);
    }
}

static void test_spawn_incremental(void **state)
{
    (void)state;
    spawn_a3_b2();
    /* ids 1-5 were given by on_start: three A users and two B users. */
    long tasks_before[6];
    int na = 0;
    for (int id = 1; id <= 5; id++) {
        tasks_before[id] = rec.tasks_by_id[id];
        na += rec.cls_by_id[id] == CA;
    }
    assert_int_equal(na, 3);

    SPAWN({"A", 1}, {"B", 4});
    target_users = 7;
    run_until(all_started, 2.0, "two more B users");
    assert_int_equal(fx.spawning_complete, 2);
    assert_int_equal(fx.count_at_complete, 5);
    assert_counts(1, 4, 0, 0);

    /* Exactly two A users stopped, each once; no B user. */
    assert_int_equal(rec.stops[CA], 2);
    assert_int_equal(rec.stops[CB], 0);
    int kept_a = 0;
    for (int id = 1; id <= 5; id++) {
        if (rec.cls_by_id[id] == CA) {
            assert_in_range(rec.stops_by_id[id], 0, 1);
            if (!rec.stops_by_id[id]) {
                kept_a = id;
            }
        } else {
            assert_int_equal(rec.stops_by_id[id], 0);
        }
    }
    assert_true(kept_a > 0);

    /* Two new users, both B, and no one restarted. */
    assert_int_equal(rec.next_id, 7);
    assert_int_equal(rec.starts[CA], 3);
    assert_int_equal(rec.starts[CB], 4);
    for (int id = 1; id <= 7; id++) {
        assert_int_equal(rec.starts_by_id[id], 1);
    }
    assert_int_equal(rec.cls_by_id[6], CB);
    assert_int_equal(rec.cls_by_id[7], CB);

    /* The users kept go on running tasks, the stopped ones do not. */
    long after_stop[6];
    for (int id = 1; id <= 5; id++) {
        after_stop[id] = rec.tasks_by_id[id];
    }
    min_tasks = tasks_before[kept_a] + 3;
    run_until(all_ran_tasks, 2.0, "kept and new users running tasks");
    for (int id = 1; id <= 5; id++) {
        if (rec.stops_by_id[id]) {
            assert_int_equal(rec.tasks_by_id[id], after_stop[id]);
        } else {
            assert_true(rec.tasks_by_id[id] > tasks_before[id]);
        }
    }
    assert_true(rec.tasks_by_id[6] > 0);
    assert_true(rec.tasks_by_id[7] > 0);
    assert_int_equal(fx.spawning_complete, 2);
    assert_int_equal(fx.stopped, 0);
    assert_false(runner_idle(fx.r));
    assert_no_order_violations();
}

/* Surplus users are stopped newest first (runner.c's design). Spawning one
 * user at a time makes the on_start order the creation order. */
static void test_surplus_stopped_newest_first(void **state)
{
    (void)state;
    for (int n = 1; n <= 4; n++) {
        SPAWN({"A", n});
        target_users = n;
        run_until(all_started, 2.0, "one more A user");
    }
    assert_int_equal(rec.next_id, 4);
    assert_counts(4, 0, 0, 0);
    SPAWN({"A", 2});
    run_for(fx.loop, 0.03);
    assert_counts(2, 0, 0, 0);
    assert_int_equal(rec.stops_by_id[1], 0);
    assert_int_equal(rec.stops_by_id[2], 0);
    assert_int_equal(rec.stops_by_id[3], 1);
    assert_int_equal(rec.stops_by_id[4], 1);
    SPAWN({"A", 1});
    run_for(fx.loop, 0.03);
    assert_int_equal(rec.stops_by_id[1], 0);
    assert_int_equal(rec.stops_by_id[2], 1);
    assert_int_equal(fx.spawning_complete, 6);
    assert_no_order_violations();
}

/* The same targets again: nothing starts or stops, spawning_complete
 * still answers the message. */
static void test_spawn_same_targets(void **state)
{
    (void)state;
    spawn_a3_b2();
    SPAWN({"A", 3}, {"B", 2});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(3, 2, 0, 0);
    assert_int_equal(rec.next_id, 5);
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 0);
}

static void test_absent_class_untouched(void **state)
{
    (void)state;
    spawn_a3_b2();
    long b_tasks = rec.tasks[CB];
    SPAWN({"A", 2});
    run_for(fx.loop, 0.05);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(2, 2, 0, 0);
    assert_int_equal(rec.stops[CA], 1);
    assert_int_equal(rec.stops[CB], 0);
    assert_int_equal(rec.starts[CB], 2);
    assert_int_equal(rec.next_id, 5);
    assert_true(rec.tasks[CB] > b_tasks);

    /* An empty spawn message changes nothing either. */
    spawn(NULL, 0, 0, 0.0);
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.spawning_complete, 3);
    assert_counts(2, 2, 0, 0);
    assert_int_equal(rec.next_id, 5);
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 1);
    assert_no_order_violations();
}

static void test_spawn_to_zero(void **state)
{
    (void)state;
    spawn_a3_b2();
    SPAWN({"A", 0}, {"B", 0});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(0, 0, 0, 0);
    assert_true(runner_idle(fx.r));
    assert_int_equal(rec.stops[CA], 3);
    assert_int_equal(rec.stops[CB], 2);
    /* A spawn is not a stop: `stopped` is for runner_stop only. */
    assert_int_equal(fx.stopped, 0);
    long tasks = rec.tasks[CA] + rec.tasks[CB];
    run_for(fx.loop, 0.05);
    assert_int_equal(rec.tasks[CA] + rec.tasks[CB], tasks);
    assert_no_order_violations();
}

static void test_unknown_class(void **state)
{
    (void)state;
    SPAWN({"A", 1}, {"Ghost", 3}, {"Zero", 0});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 1);
    assert_non_null(strstr(fx.last_exception, "Ghost"));
    assert_null(strstr(fx.last_exception, "Zero"));
    assert_int_equal(fx.spawning_complete, 1);
    assert_counts(1, 0, 0, 0);

    /* Reported once per name while the test runs. */
    SPAWN({"A", 2}, {"Ghost", 4});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 1);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(2, 0, 0, 0);

    /* Another unknown name is reported too. */
    SPAWN({"A", 2}, {"Phantom", 1});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 2);
    assert_non_null(strstr(fx.last_exception, "Phantom"));

    /* After a stop, a new test reports it again. */
    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    SPAWN({"Ghost", 1});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 3);
    assert_non_null(strstr(fx.last_exception, "Ghost"));
    assert_counts(0, 0, 0, 0);
}

static void test_unknown_class_zero_count(void **state)
{
    (void)state;
    SPAWN({"A", 1}, {"Zero", 0}, {"Nothing", 0});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 0);
    assert_int_equal(fx.spawning_complete, 1);
    assert_counts(1, 0, 0, 0);
}

/* A spawn naming 1,000 unknown classes: the first 16 names are reported
 * one by one, the rest in one message, whatever the master sends again in
 * the same test (it used to be one report per name past the 16th, on every
 * spawn); a new test reports them again, as boundedly. */
static void test_many_unknown_classes(void **state)
{
    enum { N = 1000 };
    static proto_class_count cc[N + 1];
    static char names[N][24];
    (void)state;
    cc[0].name = "A";
    cc[0].count = 1;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "Ghost%d", i);
        cc[i + 1].name = names[i];
        cc[i + 1].count = 2;
    }
    spawn(cc, N + 1, 0, 0.0);
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 17);
    assert_non_null(strstr(fx.last_exception, "more than 16 user classes"));
    assert_counts(1, 0, 0, 0);
    spawn(cc, N + 1, 0, 0.0);
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 17);

    runner_stop(fx.r, 0.0);
    spawn(cc, N + 1, 0, 0.0);
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 34);
}

/* A name too long for one line is shown cut between characters, with
 * "..." after it. */
static void test_unknown_class_long_name(void **state)
{
    static char name[3 * 300 + 1];
    (void)state;
    for (int i = 0; i < 300; i++) {
        memcpy(name + 3 * i, "\xe2\x82\xac", 3);
    }
    SPAWN({name, 1});
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.exceptions, 1);
    const char *shown = strstr(fx.last_exception, "User class '");
    assert_non_null(shown);
    shown += strlen("User class '");
    assert_memory_equal(shown + 195, "\xe2\x82\xac...' was", 10); /* 66 whole euro signs */
}

static int big_started(void)
{
    return rec.starts[CBIG] >= 2000;
}

static void test_big_spawn_in_slices(void **state)
{
    (void)state;
    SPAWN({"Big", 2000});
    ev_run(fx.loop, EVRUN_NOWAIT);
    int64_t first = runner_user_count(fx.r);
    if (!(first > 0 && first < 2000)) {
        fail_msg("after one loop iteration %lld users exist; want some but "
                 "not all 2000 (spawning in slices)",
                 (long long)first);
    }
    assert_int_equal(fx.spawning_complete, 0);
    run_for(fx.loop, 0.02); /* slices are a few ms apart */
    assert_true(runner_user_count(fx.r) > first);

    run_until(spawn_done, 5.0, "spawning_complete for 2000 users");
    assert_int_equal(fx.count_at_complete, 2000);
    run_until(big_started, 5.0, "2000 on_start calls");
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.spawning_complete, 1);
    assert_counts(0, 0, 2000, 0);
    assert_int_equal(rec.starts[CBIG], 2000);
    for (int id = 1; id <= 2000; id++) {
        assert_int_equal(rec.starts_by_id[id], 1);
    }

    /* Down to 500: 1500 stop at once (they are all waiting). */
    SPAWN({"Big", 500});
    run_until(spawn_done, 1.0, "spawning_complete");
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(0, 0, 500, 0);
    assert_int_equal(rec.stops[CBIG], 1500);
    assert_int_equal(rec.starts[CBIG], 2000);

    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    assert_int_equal(rec.stops[CBIG], 2000);
    assert_true(runner_idle(fx.r));
    assert_no_order_violations();
}

static void test_stop(void **state)
{
    (void)state;
    spawn_a3_b2();
    runner_stop(fx.r, 0.0);
    /* Users that are only waiting stop at once. */
    assert_int_equal(fx.stopped, 1);
    assert_true(runner_idle(fx.r));
    assert_counts(0, 0, 0, 0);
    assert_int_equal(rec.stops[CA], 3);
    assert_int_equal(rec.stops[CB], 2);
    for (int id = 1; id <= 5; id++) {
        assert_int_equal(rec.stops_by_id[id], 1);
    }
    long tasks = rec.tasks[CA] + rec.tasks[CB];
    run_for(fx.loop, 0.05);
    assert_int_equal(rec.tasks[CA] + rec.tasks[CB], tasks);
    assert_int_equal(fx.stopped, 1);
    assert_int_equal(fx.spawning_complete, 1);
    assert_int_equal(fx.exceptions, 0);
    assert_no_order_violations();

    /* A new spawn after the stop starts fresh users. */
    SPAWN({"A", 2});
    target_users = 7;
    run_until(all_started, 2.0, "two new A users");
    assert_counts(2, 0, 0, 0);
    assert_int_equal(rec.next_id, 7);
    assert_int_equal(fx.spawning_complete, 2);
}

static int got_stopped(void)
{
    return fx.stopped > 0;
}

static void test_stop_with_timeout(void **state)
{
    (void)state;
    spawn_a3_b2();
    runner_stop(fx.r, 0.5);
    assert_counts(0, 0, 0, 0);
    run_until(got_stopped, 1.0, "stopped");
    assert_int_equal(fx.stopped, 1);
    assert_true(runner_idle(fx.r));
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 5);
    long tasks = rec.tasks[CA] + rec.tasks[CB];
    /* Past the stop_timeout: nothing more happens. */
    run_for(fx.loop, 0.6);
    assert_int_equal(fx.stopped, 1);
    assert_int_equal(rec.tasks[CA] + rec.tasks[CB], tasks);
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 5);
    assert_no_order_violations();
}

/* A spawn message with a stop_timeout: surplus users stop gracefully. */
static void test_spawn_with_stop_timeout(void **state)
{
    (void)state;
    spawn_a3_b2();
    const proto_class_count cc[] = {{"A", 1}};
    spawn(cc, 1, 1, 0.5);
    run_until(spawn_done, 1.0, "spawning_complete");
    run_for(fx.loop, 0.03);
    assert_int_equal(fx.spawning_complete, 2);
    assert_counts(1, 2, 0, 0);
    assert_int_equal(rec.stops[CA], 2);
    runner_stop(fx.r, 0.5);
    run_until(got_stopped, 1.0, "stopped");
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 5);
    assert_true(runner_idle(fx.r));
    assert_no_order_violations();
}

static void test_stop_idle_runner(void **state)
{
    (void)state;
    /* The master may stop a worker that has no users: answer anyway. */
    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    assert_true(runner_idle(fx.r));
    runner_stop(fx.r, 1.0);
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.stopped, 2);
}

static void test_stop_during_spawn(void **state)
{
    (void)state;
    SPAWN({"Big", 2000});
    ev_run(fx.loop, EVRUN_NOWAIT);
    int64_t made = runner_user_count(fx.r);
    assert_true(made > 0 && made < 2000);
    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    assert_counts(0, 0, 0, 0);
    assert_true(runner_idle(fx.r));
    run_for(fx.loop, 0.05);
    /* The spawn was abandoned: no completion, no more users. */
    assert_int_equal(fx.spawning_complete, 0);
    assert_counts(0, 0, 0, 0);
    assert_int_equal(fx.stopped, 1);
    /* No user on_stopped twice, none runs a task after stopping. */
    assert_int_equal(rec.stop_twice, 0);
    assert_int_equal(rec.task_after_stop, 0);
    assert_int_equal(rec.stops[CBIG] - rec.stop_without_start, rec.starts[CBIG]);
}

/* Locust kills a user whose greenlet has not started yet (state None)
 * without calling on_stop (User.stop -> killone; on_stop is only called from
 * inside User.run). A user stopped before its on_start ran must not get an
 * on_stop either. */
static void test_no_on_stop_before_on_start(void **state)
{
    (void)state;
    SPAWN({"A", 3});
    ev_run(fx.loop, EVRUN_NOWAIT); /* the users exist, on_start is due */
    assert_int_equal(runner_user_count(fx.r), 3);
    assert_int_equal(rec.starts[CA], 0);
    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    assert_true(runner_idle(fx.r));
    if (rec.stops[CA] != 0) {
        fail_msg("on_stop ran %d times for users whose on_start never ran", rec.stops[CA]);
    }
}

static void test_shutdown(void **state)
{
    (void)state;
    spawn_a3_b2();
    runner_shutdown(fx.r, 1.0, on_shutdown_done, &fx);
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.shutdown_cb, 1);
    assert_true(runner_idle(fx.r));
    assert_counts(0, 0, 0, 0);
    assert_int_equal(rec.stops[CA] + rec.stops[CB], 5);
    long tasks = rec.tasks[CA] + rec.tasks[CB];
    run_for(fx.loop, 0.05);
    assert_int_equal(fx.shutdown_cb, 1);
    assert_int_equal(rec.tasks[CA] + rec.tasks[CB], tasks);
    assert_no_order_violations();
}

static void test_shutdown_idle(void **state)
{
    (void)state;
    runner_shutdown(fx.r, 1.0, on_shutdown_done, &fx);
    run_for(fx.loop, 0.02);
    assert_int_equal(fx.shutdown_cb, 1);
    assert_true(runner_idle(fx.r));
}

static void test_shutdown_during_spawn(void **state)
{
    (void)state;
    SPAWN({"Big", 2000});
    ev_run(fx.loop, EVRUN_NOWAIT);
    runner_shutdown(fx.r, 1.0, on_shutdown_done, &fx);
    run_for(fx.loop, 0.05);
    assert_int_equal(fx.shutdown_cb, 1);
    assert_int_equal(fx.spawning_complete, 0);
    assert_counts(0, 0, 0, 0);
    assert_true(runner_idle(fx.r));
}

/* A class without on_start / on_stop / user data. */
static int plain_ran(void)
{
    return rec.tasks[CPLAIN] >= 10;
}

static void test_class_without_hooks(void **state)
{
    (void)state;
    SPAWN({"Plain", 2});
    run_until(plain_ran, 2.0, "Plain tasks");
    assert_counts(0, 0, 0, 2);
    assert_int_equal(fx.spawning_complete, 1);
    runner_stop(fx.r, 0.0);
    assert_int_equal(fx.stopped, 1);
    assert_true(runner_idle(fx.r));
    assert_counts(0, 0, 0, 0);
}

/*
 * A class with no task (lw_main refuses such classes, but the runner may be
 * given one): the user reports an exception and stops itself. The runner
 * must stay consistent: the count drops, and stopping and freeing it is
 * safe. Run in a child process: a memory error is reported by ASan there
 * and makes the child exit non-zero, without ending this program.
 */
static int got_exception(void)
{
    return fx.exceptions > 0;
}

static void test_class_without_tasks(void **state)
{
    (void)state;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Child: plain checks and exit codes, no cmocka asserts. */
        struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
        lw_stats *stats = stats_new(T0);
        memset(&rec, 0, sizeof rec);
        memset(&fx, 0, sizeof fx);
        fx.loop = loop;
        fx.stats = stats;
        fx.r = make_runner(loop, stats);
        if (!fx.r) {
            _exit(10);
        }
        SPAWN({"NoTask", 2});
        for (int i = 0; i < 400 && !got_exception(); i++) {
            run_for(loop, 0.005);
        }
        if (!got_exception()) {
            _exit(11);
        }
        run_for(loop, 0.05);
        /* its users wait for a task (the class picker may select some) */
        int64_t left = runner_user_count(fx.r);
        if (left != 2) {
            fprintf(stderr,
                    "class without tasks: %lld users counted, want the 2 "
                    "that wait for a task\n",
                    (long long)left);
        }
        runner_stop(fx.r, 0.0);
        run_for(loop, 0.02);
        int ok = fx.stopped == 1 && runner_idle(fx.r);
        runner_free(fx.r);
        stats_free(stats);
        ev_loop_destroy(loop);
        _exit(left != 2 ? 12 : ok ? 0 : 13);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("child running a class without tasks: %s %d (1: ASan "
                 "report above; 11: no exception; 12: users still counted; "
                 "13: stop did not complete)",
                 WIFEXITED(status) ? "exit code" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rng_seed();
    const struct CMUnitTest tests[] = {
        T(test_new_runner_is_idle),
        T(test_spawn),
        T(test_wait_time_paces_tasks),
        T(test_spawn_incremental),
        T(test_surplus_stopped_newest_first),
        T(test_spawn_same_targets),
        T(test_absent_class_untouched),
        T(test_spawn_to_zero),
        T(test_unknown_class),
        T(test_unknown_class_zero_count),
        T(test_many_unknown_classes),
        T(test_unknown_class_long_name),
        T(test_big_spawn_in_slices),
        T(test_stop),
        T(test_stop_with_timeout),
        T(test_spawn_with_stop_timeout),
        T(test_stop_idle_runner),
        T(test_stop_during_spawn),
        T(test_no_on_stop_before_on_start),
        T(test_shutdown),
        T(test_shutdown_idle),
        T(test_shutdown_during_spawn),
        T(test_class_without_hooks),
        T(test_class_without_tasks),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
