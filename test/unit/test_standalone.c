/*
 * test_standalone.c - unit tests for what a standalone run computes on its
 * own: the class order of Locust's dispatcher (dispatch.c), its ramp steps,
 * the percentile maths and Python's float repr (figures.c), the CSV files'
 * quoting and number formats (csvout.c), and the standalone command line.
 * The _stats.csv rows are what StatsCSV.requests_csv writes for the same
 * requests logged at the same (mocked) times.
 *
 * Expected values come from Locust 2.47 under CPython: _kl_generator,
 * calculate_response_time_percentile and repr() of the same inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../worker/cli.h"
#include "../../worker/csvout.h"
#include "../../worker/dispatch.h"
#include "../../worker/figures.h"
#include "../../worker/stats.h"

#define T0 1700000000.0

static void noop(lw_user *u)
{
    (void)u;
}

static const lw_task one_task[] = {{"t", 1, noop, NULL}};

static void order_of(const char *const *names, const int *weights, size_t n, char *out, size_t len)
{
    lw_user_class c[4];
    dispatcher d;
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < n; i++) {
        c[i] =
            (lw_user_class){.name = names[i], .weight = weights[i], .tasks = one_task, .ntasks = 1};
    }
    assert_int_equal(dispatch_init(&d, c, n, NULL), 0);
    for (size_t k = 0; k + 1 < len; k++) {
        long i = dispatch_next(&d);
        assert_true(i >= 0);
        out[k] = names[i][0];
        out[k + 1] = '\0';
    }
    dispatch_free(&d);
}

/* Locust's _kl_generator, classes given in any order (it sorts by name). */
static void test_dispatch_order(void **state)
{
    (void)state;
    char got[25];
    const char *ab[] = {"B", "A"};
    const int ab_w[] = {1, 5};
    order_of(ab, ab_w, 2, got, sizeof got);
    assert_string_equal(got, "AABAAAAABAAAAABAAAAABAAA");
    const char *abc[] = {"C", "A", "B"};
    const int abc_w[] = {1, 1, 1};
    order_of(abc, abc_w, 3, got, sizeof got);
    assert_string_equal(got, "ABCABCABCABCABCABCABCABC");
    const char *hlm[] = {"Mid", "Heavy", "Light"};
    const int hlm_w[] = {7, 3, 2};
    order_of(hlm, hlm_w, 3, got, sizeof got);
    assert_string_equal(got, "MHMLMHMMLMHMMHMLMHMMLMHM");
}

static void test_dispatch_selection_and_steps(void **state)
{
    (void)state;
    lw_user_class c[2] = {
        {.name = "A", .weight = 5, .tasks = one_task, .ntasks = 1},
        {.name = "B", .weight = 1, .tasks = one_task, .ntasks = 1},
    };
    int only_b[2] = {0, 1};
    dispatcher d;
    assert_int_equal(dispatch_init(&d, c, 2, only_b), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dispatch_next(&d), 1);
    }
    dispatch_free(&d);
    int none[2] = {0, 0};
    assert_int_equal(dispatch_init(&d, c, 2, none), 0);
    assert_int_equal(dispatch_next(&d), -1);
    dispatch_free(&d);
    /* max(1, floor(rate)) users per step, that many / rate seconds apart */
    assert_int_equal(dispatch_step_users(0.5), 1);
    assert_true(dispatch_step_seconds(0.5) == 2.0);
    assert_int_equal(dispatch_step_users(10.7), 10);
    assert_true(dispatch_step_seconds(10.7) == 10 / 10.7);
}

/* calculate_response_time_percentile({1:3, 2:5, 40:1, 150:2, 12000:1}, 12, p) */
static void test_percentiles(void **state)
{
    (void)state;
    const stats_bucket_count h[] = {{1, 3}, {2, 5}, {40, 1}, {150, 2}, {12000, 1}};
    const int64_t want[FIG_NPCT] = {2, 2, 150, 150, 150, 12000, 12000, 12000, 12000, 12000, 12000};
    for (int k = 0; k < FIG_NPCT; k++) {
        assert_int_equal(fig_percentile(h, 5, 12, fig_percentiles[k]), want[k]);
    }
    assert_int_equal(fig_percentile(h, 0, 0, 0.5), 0);
}

/* The same numbers through stats.c's histogram. */
static void test_percentiles_from_stats(void **state)
{
    (void)state;
    lw_stats *s = stats_new(T0);
    const double rt[] = {1, 1.2, 0.6, 2, 2.4, 1.6, 2.2, 1.9, 40.3, 149, 151, 12345};
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
        stats_log(s, "GET", "/x", rt[i], 10, NULL, T0 + 1);
    }
    stats_log(s, "GET", "/x", -1, 0, "boom", T0 + 2); /* no response time */
    figures f;
    assert_int_equal(fig_compute(s, 0, &f), 0);
    const int64_t want[FIG_NPCT] = {2, 2, 150, 150, 150, 12000, 12000, 12000, 12000, 12000, 12000};
    for (int k = 0; k < FIG_NPCT; k++) {
        assert_int_equal(f.pct[k], want[k]);
    }
    assert_int_equal(f.v.num_requests, 13);
    assert_false(f.median.is_float);
    assert_int_equal(f.median.i, 2);
    assert_true(f.min.is_float && f.min.d == 0.6);
    assert_true(f.max.is_float && f.max.d == 12345);
    stats_free(s);
}

static void test_float_repr(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        {0.054, "0.054"},
        {0.42593333333333344, "0.42593333333333344"},
        {3.741150421165563, "3.741150421165563"},
        {1e16, "1e+16"},
        {1.5e-05, "1.5e-05"},
        {0.0001, "0.0001"},
        {123456789012345.6, "123456789012345.6"},
        {6.0, "6.0"},
        {100.0, "100.0"},
        {1e-7, "1e-07"},
        {2.5e20, "2.5e+20"},
        {0.1 + 0.2, "0.30000000000000004"},
        {0.0, "0.0"},
        {-2.5, "-2.5"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_string_equal(fig_float_repr(cases[i].v, buf, sizeof buf), cases[i].repr);
    }
    assert_string_equal(fig_pynum((pynum){0, 42, 0}, buf, sizeof buf), "42");
}

static char *rows_of(const lw_stats *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(csv_stats_rows(f, s), 0);
    fclose(f);
    return text;
}

/* Python's csv module: quotes only fields with , " CR or LF; CRLF rows;
 * "N/A" percentiles without requests; entries sorted by (name, method). */
static void test_csv_rows(void **state)
{
    (void)state;
    lw_stats *s = stats_new(T0);
    stats_log(s, "POST", "/b,\"q\"", 2.5, 4, NULL, T0 + 1);
    stats_log(s, "GET", "/a", 10, 3, NULL, T0 + 2);
    char *text = rows_of(s);
    const char *want =
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n"
        "GET,/a,1,0,10,10.0,10.0,10.0,3.0,0.5,0.0,10,10,10,10,10,10,10,10,10,10,10\r\n"
        "POST,\"/b,\"\"q\"\"\",1,0,2.5,2.5,2.5,2.5,4.0,0.5,0.0,2,2,2,2,2,2,2,2,2,2,2\r\n"
        ",Aggregated,2,0,10,6.25,2.5,10.0,3.5,1.0,0.0,10,10,10,10,10,10,10,10,10,10,10\r\n";
    assert_string_equal(text, want);
    free(text);
    stats_free(s);
    s = stats_new(T0);
    text = rows_of(s);
    assert_non_null(strstr(
        text,
        ",Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n"));
    free(text);
    stats_free(s);
}

static lw_config cfg;
static char err[600];

static cli_result parse(int argc, char **argv)
{
    err[0] = '\0';
    return cli_parse(argc, argv, &cfg, err, sizeof err);
}

#define PARSE(...) \
    parse(sizeof((char *[]){"lw", __VA_ARGS__}) / sizeof(char *), (char *[]){"lw", __VA_ARGS__})

static void test_cli_modes(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--headless", "-u", "50", "-r", "10", "-t", "1m30s", "--csv", "out",
                           "-s", "5", "--exit-code-on-error", "3", "--html", "x.html", "A"),
                     CLI_RUN);
    assert_true(cli_standalone(&cfg));
    assert_int_equal(cfg.users, 50);
    assert_true(cfg.spawn_rate == 10 && cfg.run_time == 90 && cfg.stop_timeout == 5);
    assert_string_equal(cfg.csv_prefix, "out");
    assert_int_equal(cfg.exit_code_on_error, 3);
    assert_string_equal(cfg.ignored, "--html");
    /* a worker names them all as ignored */
    assert_int_equal(
        PARSE("--worker", "--headless", "-u", "50", "--csv", "out", "--run-tasks", "A.t"), CLI_RUN);
    assert_false(cli_standalone(&cfg));
    assert_string_equal(cfg.ignored, "--headless, -u/--users, --csv, --run-tasks");
    /* --run-tasks alone is a run without a master */
    assert_int_equal(PARSE("--run-tasks", "A.t"), CLI_RUN);
    assert_true(cli_standalone(&cfg));
    /* neither: a worker as before */
    assert_int_equal(PARSE("--master-host", "m"), CLI_RUN);
    assert_false(cli_standalone(&cfg));
    assert_int_equal(PARSE("-u", "5"), CLI_ERROR);
    assert_non_null(strstr(err, "--headless"));
    assert_int_equal(PARSE("--headless", "-t", "5x"), CLI_ERROR);
    assert_non_null(strstr(err, "--run-time"));
    assert_int_equal(PARSE("--headless", "-r", "0"), CLI_ERROR);
}

static void test_cli_rate_cap(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--max-rps", "2500.5", "--request-increase-rate", "100/500ms"), CLI_RUN);
    assert_true(cfg.max_rps == 2500.5 && cfg.rps_increase == 100 && cfg.rps_interval == 0.5);
    assert_int_equal(PARSE("--request-increase-rate", "10"), CLI_RUN);
    assert_true(cfg.rps_increase == 10 && cfg.rps_interval == 1);
    const char *bad[] = {"0", "-5", "abc", "1e10", "nan", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(PARSE("--max-rps", (char *)bad[i]), CLI_ERROR);
        assert_non_null(strstr(err, "--max-rps"));
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(PARSE("--request-increase-rate", "10/2x"), CLI_ERROR);
    assert_int_equal(PARSE("--request-increase-rate", "/1s"), CLI_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_order), cmocka_unit_test(test_dispatch_selection_and_steps),
        cmocka_unit_test(test_percentiles),    cmocka_unit_test(test_percentiles_from_stats),
        cmocka_unit_test(test_float_repr),     cmocka_unit_test(test_csv_rows),
        cmocka_unit_test(test_cli_modes),      cmocka_unit_test(test_cli_rate_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
