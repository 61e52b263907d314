/*
 * main.c - lw_main: checks the compiled-in user classes, parses the
 * command line, and runs one worker (or --processes N of them).
 */
#include <curl/curl.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "classes.h"
#include "cli.h"
#include "log.h"
#include "lw.h"
#include "master.h"
#include "processes.h"
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
    user_seed_random();
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
    if (master_start(m) == 0) {
        ev_run(loop, 0);
        code = master_exit_code(m);
    } else {
        code = 1;
    }
    master_free(m);
    ev_loop_destroy(loop);
    curl_global_cleanup();
    return code;
}

static void hostname_for_logs(char *buf, size_t len)
{
    if (gethostname(buf, len - 1) != 0) {
        snprintf(buf, len, "localhost");
    }
    buf[len - 1] = '\0';
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
    case CLI_EXIT_OK: return 0;
    case CLI_ERROR:
        fprintf(stderr, "%s: error: %s\n", prog, err);
        return 2;
    default: break;
    }
    hostname_for_logs(host, sizeof host);
    log_init(host, cfg.loglevel);
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
    return n == 1 ? run_worker(&w) : processes_run(n, run_worker, &w);
}
