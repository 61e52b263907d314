/*
 * test_cli.c - unit tests for worker/cli.c (cli_parse).
 *
 * Defaults (127.0.0.1:5557, one process, INFO, 60 s request timeout);
 * every flag in both its `--flag value` and `--flag=value` forms (and the
 * short -H / -L forms); the environment variables LOCUST_MASTER_NODE_HOST,
 * LOCUST_MASTER_NODE_PORT, LOCUST_HOST and LOCUST_LOGLEVEL, and flags
 * overriding them; every error (unknown flag, missing value, bad port,
 * process count, log level, URL, timeout, too many class names) giving
 * CLI_ERROR with a single printable line of text; --help and --version giving
 * CLI_EXIT_OK; and that one call leaves nothing behind that changes the next.
 *
 * Every test starts from a clean environment and a reset getopt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../worker/cli.h"
#include "../../worker/lw.h"

static const char *const env_names[] = {
    "LOCUST_MASTER_NODE_HOST", "LOCUST_MASTER_NODE_PORT", "LOCUST_HOST",    "LOCUST_LOGLEVEL",
    "LOCUST_MODE_WORKER",      "LOCUST_LOCUSTFILE",       "LOCUST_LOGFILE", "LOCUST_PROCESSES",
};

static lw_config cfg;
static char err[512];

/* getopt keeps hidden state (the rest of a short-option cluster) that
 * optind = 1 does not clear; optind = 0 does. Start each test clean. */
static void reset_getopt(void)
{
    static char prog[] = "reset";
    static char *argv[] = {prog, NULL};
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 0;
    while (getopt_long(1, argv, "", none, NULL) != -1) {
    }
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
        unsetenv(env_names[i]);
    }
    reset_getopt();
    memset(&cfg, 0xa5, sizeof cfg);
    memset(err, 0, sizeof err);
    return 0;
}

static int teardown(void **state)
{
    return setup(state);
}

/* argv is NULL-terminated. */
static cli_result parse_args(char **argv)
{
    int argc = 0;
    while (argv[argc]) {
        argc++;
    }
    return cli_parse(argc, argv, &cfg, err, sizeof err);
}

/* argv[0] is "lw"; the arguments follow. */
#define PARSE(...) parse_args((char *[]){"lw", __VA_ARGS__, NULL})

static cli_result parse_none(void)
{
    char *argv[] = {"lw", NULL};
    return cli_parse(1, argv, &cfg, err, sizeof err);
}

static void assert_defaults_except(const char *which)
{
    if (strcmp(which, "master_host")) {
        assert_string_equal(cfg.master_host, "127.0.0.1");
    }
    if (strcmp(which, "master_port")) {
        assert_int_equal(cfg.master_port, 5557);
    }
    if (strcmp(which, "host")) {
        assert_string_equal(cfg.host, "");
    }
    if (strcmp(which, "processes")) {
        assert_int_equal(cfg.processes, 1);
    }
    if (strcmp(which, "loglevel")) {
        assert_int_equal(cfg.loglevel, LOG_INFO);
    }
    if (strcmp(which, "request_timeout")) {
        assert_true(cfg.request_timeout == 60.0);
    }
    if (strcmp(which, "insecure")) {
        assert_int_equal(cfg.insecure, 0);
    }
    if (strcmp(which, "reconnect_on_quit")) {
        assert_int_equal(cfg.reconnect_on_quit, 0);
    }
    if (strcmp(which, "http_client")) {
        assert_int_equal(cfg.http_client, -1);
    }
}

/* An error: CLI_ERROR and one non-empty line of printable text. */
static void assert_error_line(cli_result r, const char *what)
{
    if (r != CLI_ERROR) {
        fail_msg("%s: result %d, want CLI_ERROR", what, (int)r);
    }
    if (err[0] == '\0') {
        fail_msg("%s: empty error message", what);
    }
    for (const char *p = err; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n' || c == '\r') {
            fail_msg("%s: error message has a line break: '%s'", what, err);
        }
        if (c < 0x20 || c > 0x7e) {
            fail_msg("%s: error message has byte 0x%02x at %d: '%s'", what, c, (int)(p - err), err);
        }
    }
}

/* ---- defaults --------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse_none(), CLI_RUN);
    assert_defaults_except("");
}

static void test_worker_flag_ignored(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--worker"), CLI_RUN);
    assert_defaults_except("");
}

/* ---- each flag, both forms -------------------------------------------- */

static void test_master_host(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--master-host", "master.example"), CLI_RUN);
    assert_string_equal(cfg.master_host, "master.example");
    assert_defaults_except("master_host");

    assert_int_equal(PARSE("--master-host=10.1.2.3"), CLI_RUN);
    assert_string_equal(cfg.master_host, "10.1.2.3");
    assert_defaults_except("master_host");
}

static void test_master_port(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--master-port", "6000"), CLI_RUN);
    assert_int_equal(cfg.master_port, 6000);
    assert_defaults_except("master_port");

    assert_int_equal(PARSE("--master-port=1"), CLI_RUN);
    assert_int_equal(cfg.master_port, 1);
    assert_int_equal(PARSE("--master-port=65535"), CLI_RUN);
    assert_int_equal(cfg.master_port, 65535);
    assert_defaults_except("master_port");
}

static void test_host(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--host", "http://example.com"), CLI_RUN);
    assert_string_equal(cfg.host, "http://example.com");
    assert_defaults_except("host");

    assert_int_equal(PARSE("--host=https://example.com:8443/base"), CLI_RUN);
    assert_string_equal(cfg.host, "https://example.com:8443/base");
    assert_defaults_except("host");

    assert_int_equal(PARSE("-H", "http://127.0.0.1:8080"), CLI_RUN);
    assert_string_equal(cfg.host, "http://127.0.0.1:8080");
    assert_defaults_except("host");

    assert_int_equal(PARSE("-Hhttp://h"), CLI_RUN);
    assert_string_equal(cfg.host, "http://h");
}

static void test_processes(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--processes", "4"), CLI_RUN);
    assert_int_equal(cfg.processes, 4);
    assert_defaults_except("processes");

    assert_int_equal(PARSE("--processes=-1"), CLI_RUN);
    assert_int_equal(cfg.processes, -1);
    assert_defaults_except("processes");

    assert_int_equal(PARSE("--processes", "-1"), CLI_RUN);
    assert_int_equal(cfg.processes, -1);
}

static void test_loglevel(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--loglevel", "DEBUG"), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_DEBUG);
    assert_defaults_except("loglevel");

    assert_int_equal(PARSE("--loglevel=WARNING"), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_WARNING);
    assert_defaults_except("loglevel");

    assert_int_equal(PARSE("-L", "ERROR"), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_ERROR);

    assert_int_equal(PARSE("-Ldebug"), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_DEBUG);

    assert_int_equal(PARSE("--loglevel", "info"), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_INFO);
}

static void test_request_timeout(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--request-timeout", "2.5"), CLI_RUN);
    assert_true(cfg.request_timeout == 2.5);
    assert_defaults_except("request_timeout");

    assert_int_equal(PARSE("--request-timeout=30"), CLI_RUN);
    assert_true(cfg.request_timeout == 30.0);
    assert_defaults_except("request_timeout");
}

static void test_http_client(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--http-client", "fast"), CLI_RUN);
    assert_int_equal(cfg.http_client, LW_CLIENT_FAST);
    assert_defaults_except("http_client");

    assert_int_equal(PARSE("--http-client=curl"), CLI_RUN);
    assert_int_equal(cfg.http_client, LW_CLIENT_CURL);
    assert_defaults_except("http_client");
}

static void test_bad_http_client(void **state)
{
    (void)state;
    assert_error_line(PARSE("--http-client", "wget"), "--http-client wget");
    assert_non_null(strstr(err, "curl or fast"));
    assert_error_line(PARSE("--http-client="), "--http-client=");
    assert_error_line(PARSE("--http-client"), "--http-client without a value");
}

static void test_switches(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--insecure"), CLI_RUN);
    assert_int_equal(cfg.insecure, 1);
    assert_defaults_except("insecure");

    assert_int_equal(PARSE("--reconnect-on-quit"), CLI_RUN);
    assert_int_equal(cfg.reconnect_on_quit, 1);
    assert_defaults_except("reconnect_on_quit");
}

static void test_all_flags_together(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--worker", "--master-host", "m", "--master-port=7000",
                           "--host=http://t:1", "--processes", "3", "-L", "WARNING",
                           "--request-timeout=0.5", "--insecure", "--reconnect-on-quit"),
                     CLI_RUN);
    assert_string_equal(cfg.master_host, "m");
    assert_int_equal(cfg.master_port, 7000);
    assert_string_equal(cfg.host, "http://t:1");
    assert_int_equal(cfg.processes, 3);
    assert_int_equal(cfg.loglevel, LOG_WARNING);
    assert_true(cfg.request_timeout == 0.5);
    assert_int_equal(cfg.insecure, 1);
    assert_int_equal(cfg.reconnect_on_quit, 1);
}

static void test_last_flag_wins(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--master-port", "6000", "--master-port=6001"), CLI_RUN);
    assert_int_equal(cfg.master_port, 6001);
}

/* ---- environment ------------------------------------------------------ */

static void test_env(void **state)
{
    (void)state;
    setenv("LOCUST_MASTER_NODE_HOST", "env-master", 1);
    setenv("LOCUST_MASTER_NODE_PORT", "6111", 1);
    setenv("LOCUST_HOST", "https://env.example", 1);
    setenv("LOCUST_LOGLEVEL", "DEBUG", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_string_equal(cfg.master_host, "env-master");
    assert_int_equal(cfg.master_port, 6111);
    assert_string_equal(cfg.host, "https://env.example");
    assert_int_equal(cfg.loglevel, LOG_DEBUG);
    assert_int_equal(cfg.processes, 1);
    assert_true(cfg.request_timeout == 60.0);
}

static void test_env_each(void **state)
{
    (void)state;
    setenv("LOCUST_MASTER_NODE_HOST", "only-host", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_string_equal(cfg.master_host, "only-host");
    assert_defaults_except("master_host");
    unsetenv("LOCUST_MASTER_NODE_HOST");

    setenv("LOCUST_MASTER_NODE_PORT", "1234", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_int_equal(cfg.master_port, 1234);
    assert_defaults_except("master_port");
    unsetenv("LOCUST_MASTER_NODE_PORT");

    setenv("LOCUST_HOST", "http://only", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_string_equal(cfg.host, "http://only");
    assert_defaults_except("host");
    unsetenv("LOCUST_HOST");

    setenv("LOCUST_LOGLEVEL", "error", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_int_equal(cfg.loglevel, LOG_ERROR);
    assert_defaults_except("loglevel");
    unsetenv("LOCUST_LOGLEVEL");

    /* Empty variables count as unset. */
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
        setenv(env_names[i], "", 1);
    }
    assert_int_equal(parse_none(), CLI_RUN);
    assert_defaults_except("");
}

static void test_flags_override_env(void **state)
{
    (void)state;
    setenv("LOCUST_MASTER_NODE_HOST", "env-master", 1);
    setenv("LOCUST_MASTER_NODE_PORT", "6111", 1);
    setenv("LOCUST_HOST", "https://env.example", 1);
    setenv("LOCUST_LOGLEVEL", "DEBUG", 1);
    assert_int_equal(PARSE("--master-host", "flag-master", "--master-port=6222", "-H",
                           "http://flag.example", "--loglevel=ERROR"),
                     CLI_RUN);
    assert_string_equal(cfg.master_host, "flag-master");
    assert_int_equal(cfg.master_port, 6222);
    assert_string_equal(cfg.host, "http://flag.example");
    assert_int_equal(cfg.loglevel, LOG_ERROR);

    /* A flag for one setting leaves the others from the environment. */
    assert_int_equal(PARSE("--master-port", "6333"), CLI_RUN);
    assert_string_equal(cfg.master_host, "env-master");
    assert_int_equal(cfg.master_port, 6333);
    assert_string_equal(cfg.host, "https://env.example");
    assert_int_equal(cfg.loglevel, LOG_DEBUG);
}

static void test_env_errors(void **state)
{
    (void)state;
    setenv("LOCUST_MASTER_NODE_PORT", "abc", 1);
    assert_error_line(parse_none(), "LOCUST_MASTER_NODE_PORT=abc");
    setenv("LOCUST_MASTER_NODE_PORT", "0", 1);
    assert_error_line(parse_none(), "LOCUST_MASTER_NODE_PORT=0");
    unsetenv("LOCUST_MASTER_NODE_PORT");

    setenv("LOCUST_HOST", "ftp://x", 1);
    assert_error_line(parse_none(), "LOCUST_HOST=ftp://x");
    unsetenv("LOCUST_HOST");

    setenv("LOCUST_LOGLEVEL", "LOUD", 1);
    assert_error_line(parse_none(), "LOCUST_LOGLEVEL=LOUD");
    unsetenv("LOCUST_LOGLEVEL");

    assert_int_equal(parse_none(), CLI_RUN);
}

/* ---- errors ----------------------------------------------------------- */

static void test_unknown_flag(void **state)
{
    (void)state;
    assert_error_line(PARSE("--bogus"), "--bogus");
    assert_non_null(strstr(err, "bogus"));
    assert_error_line(PARSE("--bogus=1"), "--bogus=1");
    assert_error_line(PARSE("-x"), "-x");
    assert_error_line(PARSE("--master-port", "6000", "--nope"), "--nope");
}

static void test_bad_port(void **state)
{
    (void)state;
    const char *bad[] = {"0", "70000", "abc", "65536", "-1", "5557x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "--master-port=%s", bad[i]);
        assert_error_line(PARSE(buf), buf);
        assert_error_line(PARSE("--master-port", (char *)bad[i]), bad[i]);
    }
}

static void test_bad_processes(void **state)
{
    (void)state;
    assert_error_line(PARSE("--processes", "0"), "--processes 0");
    assert_error_line(PARSE("--processes=0"), "--processes=0");
    assert_error_line(PARSE("--processes", "abc"), "--processes abc");
    assert_error_line(PARSE("--processes=abc"), "--processes=abc");
    assert_error_line(PARSE("--processes=-2"), "--processes=-2");
    assert_error_line(PARSE("--processes=1025"), "--processes=1025");
}

static void test_bad_loglevel(void **state)
{
    (void)state;
    assert_error_line(PARSE("--loglevel", "LOUD"), "--loglevel LOUD");
    assert_error_line(PARSE("--loglevel="), "--loglevel=");
    assert_error_line(PARSE("-L", "10"), "-L 10");
}

static void test_bad_host(void **state)
{
    (void)state;
    assert_error_line(PARSE("--host", "ftp://x"), "--host ftp://x");
    assert_error_line(PARSE("--host=http://"), "--host=http://");
    assert_error_line(PARSE("--host", "https://"), "--host https://");
    assert_error_line(PARSE("-H", "example.com"), "-H example.com");
    assert_error_line(PARSE("--host", "http:///path"), "--host http:///path");
}

static void test_bad_timeout(void **state)
{
    (void)state;
    assert_error_line(PARSE("--request-timeout", "0"), "--request-timeout 0");
    assert_error_line(PARSE("--request-timeout=-1"), "--request-timeout=-1");
    assert_error_line(PARSE("--request-timeout=abc"), "--request-timeout=abc");
    assert_error_line(PARSE("--request-timeout=nan"), "--request-timeout=nan");
}

static void test_too_long_values(void **state)
{
    (void)state;
    char big[1200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_error_line(PARSE("--master-host", big), "--master-host <1199 chars>");

    char url[1100];
    memcpy(url, "http://", 7);
    memset(url + 7, 'b', sizeof url - 8);
    url[sizeof url - 1] = '\0';
    assert_error_line(PARSE("--host", url), "--host <1099 chars>");
}

/* Positional arguments are user class names, as with `locust`: collected
 * in order (lw_main checks them against the compiled classes); after "--"
 * everything is one. */
static void test_positional_class_names(void **state)
{
    (void)state;
    assert_int_equal(PARSE("UserA", "--master-port", "6000", "UserB"), CLI_RUN);
    assert_int_equal(cfg.nuser_classes, 2);
    assert_string_equal(cfg.user_classes[0], "UserA");
    assert_string_equal(cfg.user_classes[1], "UserB");
    assert_int_equal(cfg.master_port, 6000);
    assert_int_equal(PARSE("--", "--not-an-option"), CLI_RUN);
    assert_int_equal(cfg.nuser_classes, 1);
    assert_string_equal(cfg.user_classes[0], "--not-an-option");
    char *many[CLI_MAX_CLASSES + 3];
    many[0] = "lw";
    for (int i = 1; i <= CLI_MAX_CLASSES + 1; i++) {
        many[i] = "U";
    }
    many[CLI_MAX_CLASSES + 2] = NULL;
    assert_error_line(parse_args(many), "too many class names");
}

/* The argv the Kubernetes operators and the Helm chart give a worker:
 * every Locust option is accepted, the master-only ones are named once. */
static void test_locust_command_lines(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--locustfile", "/lotest/src/locustfile.py", "--otel", "--worker",
                           "--master-port=5557", "--master-host=locust-master"),
                     CLI_RUN);
    assert_int_equal(cfg.worker_mode, 1);
    assert_string_equal(cfg.master_host, "locust-master");
    assert_string_equal(cfg.ignored, "--locustfile, --otel");
    assert_int_equal(PARSE("--worker", "--master-host", "svc", "-f", "x.py", "--headless",
                           "--users", "300", "--spawn-rate", "10", "--run-time", "5m"),
                     CLI_RUN);
    assert_string_equal(cfg.master_host, "svc");
    assert_int_equal(cfg.nuser_classes, 0);
    assert_string_equal(cfg.ignored,
                        "-f/--locustfile, --headless, --users, --spawn-rate, --run-time");
    /* list options take every value up to the next option */
    assert_int_equal(PARSE("-T", "a", "b", "--exclude-tags", "c", "--master-port", "6001"),
                     CLI_RUN);
    assert_int_equal(cfg.master_port, 6001);
    assert_int_equal(cfg.nuser_classes, 0);
    assert_int_equal(PARSE("--tags=a", "Cls"), CLI_RUN);
    assert_int_equal(cfg.nuser_classes, 1);
    /* short options with attached values, and prefixes of long names */
    assert_int_equal(
        PARSE("--worker", "-u10", "-r2", "-t1m", "--master-h", "m1", "--logf", "/tmp/x.log"),
        CLI_RUN);
    assert_string_equal(cfg.master_host, "m1");
    assert_string_equal(cfg.logfile, "/tmp/x.log");
    assert_int_equal(PARSE("-l"), CLI_RUN);
    assert_int_equal(cfg.list_classes, 1);
}

static void test_locust_option_errors(void **state)
{
    (void)state;
    assert_error_line(PARSE("--master-bind"), "ambiguous prefix");
    assert_error_line(PARSE("--headless=yes"), "value for a switch");
    assert_error_line(PARSE("--users"), "missing value");
    assert_error_line(PARSE("-u"), "missing short value");
    assert_error_line(PARSE("-Z"), "unknown short");
    assert_error_line(PARSE("--logfile="), "empty logfile");
}

/* LOCUST_* variables of every option: the worker's are honoured (switches
 * take true/false), the others are named as ignored. */
static void test_locust_environment(void **state)
{
    (void)state;
    setenv("LOCUST_MODE_WORKER", "true", 1);
    setenv("LOCUST_LOCUSTFILE", "/mnt/locust/locustfile.py", 1);
    setenv("LOCUST_LOGFILE", "/tmp/w.log", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_int_equal(cfg.worker_mode, 1);
    assert_string_equal(cfg.logfile, "/tmp/w.log");
    assert_string_equal(cfg.ignored, "LOCUST_LOCUSTFILE");
    setenv("LOCUST_MODE_WORKER", "false", 1);
    assert_int_equal(parse_none(), CLI_RUN);
    assert_int_equal(cfg.worker_mode, 0);
    setenv("LOCUST_MODE_WORKER", "maybe", 1);
    assert_error_line(parse_none(), "LOCUST_MODE_WORKER=maybe");
    assert_non_null(strstr(err, "LOCUST_MODE_WORKER"));
    unsetenv("LOCUST_MODE_WORKER");
    unsetenv("LOCUST_LOCUSTFILE");
    unsetenv("LOCUST_LOGFILE");
}

/* A missing value or a value given to a switch: CLI_ERROR and one line of
 * printable text naming the option (by its long name, or by its short alias
 * if it has one). Returns 0 if so; otherwise prints why and returns 1. */
static int bad_option_message(const char *arg, const char *name, const char *alias)
{
    cli_result r = PARSE((char *)arg);
    if (r != CLI_ERROR || !err[0]) {
        print_error("'%s': result %d, message '%s'\n", arg, (int)r, err);
        return 1;
    }
    for (const char *p = err; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e) {
            print_error("'%s': message has byte 0x%02x at offset %d: '%s'\n", arg, c,
                        (int)(p - err), err);
            return 1;
        }
    }
    if (!strstr(err, name) && !(alias && strstr(err, alias))) {
        print_error("'%s': message does not name the option: '%s'\n", arg, err);
        return 1;
    }
    return 0;
}

static void test_missing_value_short(void **state)
{
    (void)state;
    int bad = 0;
    bad += bad_option_message("-H", "-H", NULL);
    bad += bad_option_message("-L", "-L", NULL);
    if (bad) {
        fail_msg("%d of 2 short options without a value got a bad message", bad);
    }
}

static void test_missing_value_long(void **state)
{
    (void)state;
    static const struct {
        const char *flag, *alias;
    } flags[] = {
        {"--master-host", NULL},     {"--master-port", NULL}, {"--processes", NULL},
        {"--request-timeout", NULL}, {"--host", "-H"},        {"--loglevel", "-L"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        bad += bad_option_message(flags[i].flag, flags[i].flag + 2, flags[i].alias);
    }
    if (bad) {
        fail_msg("%d of %zu long options without a value got a bad message", bad,
                 sizeof flags / sizeof flags[0]);
    }
}

/* A value given to a switch that takes none. */
static void test_value_for_switch(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *name;
    } cases[] = {
        {"--insecure=1", "insecure"},
        {"--reconnect-on-quit=yes", "reconnect-on-quit"},
        {"--worker=1", "worker"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad += bad_option_message(cases[i].arg, cases[i].name, NULL);
    }
    if (bad) {
        fail_msg("%d of %zu switches given a value got a bad message", bad,
                 sizeof cases / sizeof cases[0]);
    }
}

/* ---- help and version ------------------------------------------------- */

/* Runs cli_parse with stdout sent to a temporary file; returns what was
 * printed (static buffer). */
static const char *parse_capturing_stdout(char **argv, cli_result *r)
{
    static char out[8192];
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    *r = parse_args(argv);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void test_help_version(void **state)
{
    (void)state;
    static const char *const help_flags[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        cli_result r;
        const char *out = parse_capturing_stdout((char *[]){"lw", (char *)help_flags[i], NULL}, &r);
        assert_int_equal(r, CLI_EXIT_OK);
        assert_non_null(strstr(out, "Usage: lw"));
        assert_non_null(strstr(out, "--master-host"));
        assert_non_null(strstr(out, "--request-timeout"));
    }
    static const char *const version_flags[] = {"--version", "-V"};
    for (size_t i = 0; i < 2; i++) {
        cli_result r;
        const char *out =
            parse_capturing_stdout((char *[]){"lw", (char *)version_flags[i], NULL}, &r);
        assert_int_equal(r, CLI_EXIT_OK);
        assert_non_null(strstr(out, LW_VERSION));
    }
    /* --version after other (valid) flags still exits. */
    cli_result r;
    const char *out =
        parse_capturing_stdout((char *[]){"lw", "--master-port", "6000", "--version", NULL}, &r);
    assert_int_equal(r, CLI_EXIT_OK);
    assert_non_null(strstr(out, LW_VERSION));
}

/* ---- one call does not leak into the next ----------------------------- */

static void test_repeated_calls(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--master-port", "6001"), CLI_RUN);
    assert_int_equal(cfg.master_port, 6001);
    /* Defaults come back on every call. */
    assert_int_equal(parse_none(), CLI_RUN);
    assert_defaults_except("");
    assert_error_line(PARSE("--bogus"), "--bogus");
    assert_int_equal(PARSE("--master-port", "6002"), CLI_RUN);
    assert_int_equal(cfg.master_port, 6002);
}

/* A call that ends inside a short-option cluster ("-VL": -V returns at once)
 * must not make the next call continue that cluster. */
static void test_repeated_calls_after_cluster(void **state)
{
    (void)state;
    cli_result r0;
    parse_capturing_stdout((char *[]){"lw", "-VL", NULL}, &r0);
    assert_int_equal(r0, CLI_EXIT_OK);
    cli_result r = PARSE("--master-port", "6003");
    if (r != CLI_RUN || cfg.master_port != 6003) {
        fail_msg("after \"-VL\", parsing \"--master-port 6003\" gave result %d, "
                 "port %d, err '%s'",
                 (int)r, cfg.master_port, err);
    }
    assert_error_line(PARSE("-xH"), "-xH");
    r = PARSE("--master-port", "6004");
    if (r != CLI_RUN || cfg.master_port != 6004) {
        fail_msg("after \"-xH\", parsing \"--master-port 6004\" gave result %d, "
                 "port %d, err '%s'",
                 (int)r, cfg.master_port, err);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_worker_flag_ignored),
        T(test_master_host),
        T(test_master_port),
        T(test_host),
        T(test_processes),
        T(test_loglevel),
        T(test_request_timeout),
        T(test_switches),
        T(test_all_flags_together),
        T(test_last_flag_wins),
        T(test_env),
        T(test_env_each),
        T(test_flags_override_env),
        T(test_env_errors),
        T(test_unknown_flag),
        T(test_bad_port),
        T(test_bad_processes),
        T(test_bad_loglevel),
        T(test_bad_host),
        T(test_bad_timeout),
        T(test_http_client),
        T(test_bad_http_client),
        T(test_too_long_values),
        T(test_positional_class_names),
        T(test_locust_command_lines),
        T(test_locust_option_errors),
        T(test_locust_environment),
        T(test_missing_value_short),
        T(test_missing_value_long),
        T(test_value_for_switch),
        T(test_help_version),
        T(test_repeated_calls),
        T(test_repeated_calls_after_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
