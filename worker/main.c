/*
 * main.c - lw_main: checks the compiled-in user classes, parses the
 * command line, and runs one worker (or --processes N of them).
 */
#include <curl/curl.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "classes.h"
#include "cli.h"
#include "log.h"
#include "lw.h"
#include "master.h"
#include "processes.h"
#include "ratelimit.h"
#include "runtasks.h"
#include "standalone.h"
#include "task_ratio.h"
#include "user.h"
#include "wait_time.h"

typedef struct {
    const lw_config *cfg;
    const lw_user_class *classes;
    size_t nclasses;
} worker_args;

static int run_worker(void *arg)
{
    const worker_args *w = arg;
    char err[512];
    int code;
    signal(SIGPIPE, SIG_IGN);
    rng_seed();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_msg(LOG_ERROR, LOG_MAIN, "curl_global_init failed");
        return 1;
    }
    struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
    master *m = loop ? master_new(loop, w->cfg, w->classes, w->nclasses, err, sizeof err) : NULL;
    if (!m) {
        log_msg(LOG_ERROR, LOG_MAIN, "%s", loop ? err : "cannot create the event loop");
        curl_global_cleanup();
        return 1;
    }
    ratelimit_init(loop, w->cfg->max_rps, w->cfg->rps_increase, w->cfg->rps_interval);
    if (master_start(m) == 0) {
        ev_run(loop, 0);
        code = master_exit_code(m);
    } else {
        code = 1;
    }
    master_free(m);
    ratelimit_free();
    ev_loop_destroy(loop);
    curl_global_cleanup();
    return code;
}

/* A run without a master (--headless without --worker). */
static int run_standalone(const lw_config *cfg, const lw_user_class *classes, size_t nclasses)
{
    signal(SIGPIPE, SIG_IGN);
    rng_seed();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_msg(LOG_ERROR, LOG_MAIN, "curl_global_init failed");
        return 1;
    }
    int code = cfg->run_tasks[0] ? runtasks_run(cfg, classes, nclasses)
                                 : standalone_run(cfg, classes, nclasses);
    curl_global_cleanup();
    return code;
}

/* Positional user class names must name classes of this binary. */
static int check_named_classes(const lw_config *cfg, const lw_user_class *c, size_t n, char *err,
                               size_t len)
{
    for (int i = 0; i < cfg->nuser_classes; i++) {
        size_t j = 0;
        while (j < n && strcmp(c[j].name, cfg->user_classes[i]) != 0) {
            j++;
        }
        if (j == n) {
            snprintf(err, len, "unknown user class '%.200s' (this worker has:%s%s%s)",
                     cfg->user_classes[i], n > 0 ? " " : " none", n > 0 ? c[0].name : "",
                     n > 1 ? ", ..." : "");
            return -1;
        }
    }
    return 0;
}

static void list_classes(const lw_user_class *c, size_t n)
{
    printf("Available Users:\n");
    for (size_t i = 0; i < n; i++) {
        printf("    %s\n", c[i].name);
    }
}

static void hostname_for_logs(char *out, size_t len)
{
    if (gethostname(out, len - 1) != 0) {
        snprintf(out, len, "localhost");
    }
    out[len - 1] = '\0';
}

int lw_main(int argc, char **argv, const lw_user_class *classes, size_t nclasses)
{
    static lw_config cfg;
    char err[600], host[256];
    const char *prog = argc > 0 && argv[0] ? argv[0] : "worker";
    if (classes_check(classes, nclasses, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    }
    switch (cli_parse(argc, argv, &cfg, err, sizeof err)) {
    case CLI_EXIT_OK:
        return 0;
    case CLI_ERROR:
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    default:
        break;
    }
    if (check_named_classes(&cfg, classes, nclasses, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    }
    if (cfg.run_tasks[0] && runtasks_check(cfg.run_tasks, classes, nclasses, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    }
    if (cli_standalone(&cfg) && cfg.processes != 1) {
        fprintf(stderr,
                "%s: error: --processes: a standalone run (--headless without --worker) "
                "runs in one process\n",
                prog);
        return 2;
    }
    if (cfg.list_classes) {
        list_classes(classes, nclasses);
        return 0;
    }
    if (cfg.task_ratio_json) {
        task_ratio_print(stdout, classes, nclasses);
        return 0;
    }
    if (cfg.logfile[0] && !freopen(cfg.logfile, "a", stderr)) {
        fprintf(stderr, "%s: error: --logfile: cannot open '%.200s': %s\n", prog, cfg.logfile,
                strerror(errno));
        return 2;
    }
    if (cfg.logfile[0]) {
        setvbuf(stderr, NULL, _IOLBF, 0); /* one write per log line */
    }
    hostname_for_logs(host, sizeof host);
    log_init(host, cfg.loglevel);
    if (cfg.ignored[0]) {
        log_msg(LOG_INFO, LOG_MAIN,
                "Ignoring options that only concern a master, its web UI or its reports: %s",
                cfg.ignored);
    }
    if (cli_standalone(&cfg)) {
        return run_standalone(&cfg, classes, nclasses);
    }
    if (cfg.nuser_classes > 0) {
        log_msg(LOG_INFO, LOG_MAIN,
                "User class names on the command line are ignored: "
                "the master picks the classes");
    }
    if (master_check_host(&cfg, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    }
    worker_args w = {&cfg, classes, nclasses};
    int n = cfg.processes;
    if (n < 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    if (n > 1) { /* --max-rps and its ramp are per machine: N/K each */
        cfg.max_rps /= n;
        cfg.rps_increase /= n;
    }
    return n == 1 ? run_worker(&w) : processes_run(n, run_worker, &w);
}
