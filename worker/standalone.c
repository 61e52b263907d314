/*
 * standalone.c - a headless run without a master, the way `locust
 * --headless` runs one: users dispatched over the classes by weight as
 * Locust's dispatcher does (dispatch.c), ramped at the spawn rate, the
 * stats table every 2 s (unless --only-summary), the --csv files every
 * second, and at the end (run time, SIGINT, SIGTERM) the users stopped
 * with --stop-timeout, the final summary printed, the CSV files written,
 * and Locust's exit code.
 */
#include "standalone.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvout.h"
#include "custom.h"
#include "dispatch.h"
#include "log.h"
#include "ratelimit.h"
#include "procinfo.h"
#include "runner.h"
#include "stats.h"
#include "summary.h"

#define PRINT_S 2.0 /* Locust's CONSOLE_STATS_INTERVAL_SEC */
#define CSV_S 1.0   /* Locust's CSV_STATS_INTERVAL_SEC */
#define MAX_EXCEPTIONS 100

typedef struct {
    struct ev_loop *loop;
    const lw_config *cfg;
    const lw_user_class *classes;
    size_t n;
    lw_stats *stats;
    runner *run;
    csvout *csv;
    dispatcher disp;
    proto_spawn spawn; /* absolute per-class targets */
    int64_t placed;    /* users dispatched so far */
    int64_t target;
    int ramp_done;
    int quitting;
    csv_exception ex[MAX_EXCEPTIONS];
    size_t nex;
    int64_t ex_dropped;
    ev_timer ramp, printer, csv_timer, run_time;
    ev_signal sigint, sigterm;
} driver;

static void on_exception(const char *msg, void *ctx)
{
    driver *d = ctx;
    for (size_t i = 0; i < d->nex; i++) {
        if (strcmp(d->ex[i].msg, msg) == 0) {
            d->ex[i].count++;
            return;
        }
    }
    char *copy = d->nex < MAX_EXCEPTIONS ? strdup(msg) : NULL;
    if (!copy) {
        d->ex_dropped++;
        return;
    }
    d->ex[d->nex++] = (csv_exception){1, copy, ""};
}

/* "{"A": 3, "B": 1} (4 total users)", as Locust logs class counts. */
static void log_counts(driver *d, const char *what)
{
    char buf[2048];
    size_t used = 0;
    int64_t total = 0;
    size_t *order = calloc(d->spawn.nclasses ? d->spawn.nclasses : 1, sizeof *order);
    buf[used++] = '{';
    for (size_t k = 0; order && k < d->spawn.nclasses; k++) {
        order[k] = k;
        for (size_t j = k; j > 0 && strcmp(d->spawn.classes[order[j - 1]].name,
                                           d->spawn.classes[order[j]].name) > 0;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    for (size_t k = 0; order && k < d->spawn.nclasses && used < sizeof buf - 64; k++) {
        const proto_class_count *c = &d->spawn.classes[order[k]];
        int w = snprintf(buf + used, sizeof buf - used, "%s\"%.200s\": %lld", k ? ", " : "",
                         c->name, (long long)c->count);
        used += w > 0 ? (size_t)w : 0;
        total += c->count;
    }
    snprintf(buf + used, sizeof buf - used, "} (%lld total users)", (long long)total);
    free(order);
    log_msg(LOG_INFO, LOG_RUNNER, "%s: %s", what, buf);
}

/* One ramp step: up to step_users more users, by the dispatcher. */
static void ramp_step(driver *d)
{
    int64_t step = dispatch_step_users(d->cfg->spawn_rate > 0 ? d->cfg->spawn_rate : 1.0);
    int64_t goal = d->placed + step < d->target ? d->placed + step : d->target;
    while (d->placed < goal) {
        long i = dispatch_next(&d->disp);
        if (i < 0) {
            break;
        }
        for (size_t k = 0; k < d->spawn.nclasses; k++) {
            if (strcmp(d->spawn.classes[k].name, d->classes[i].name) == 0) {
                d->spawn.classes[k].count++;
            }
        }
        d->placed++;
    }
    d->spawn.timestamp = now_epoch();
    runner_spawn(d->run, &d->spawn);
    if (d->placed >= d->target || d->disp.n == 0) {
        d->ramp_done = 1;
        return;
    }
    ev_timer_set(&d->ramp, dispatch_step_seconds(d->cfg->spawn_rate > 0 ? d->cfg->spawn_rate : 1.0),
                 0.0);
    ev_timer_start(d->loop, &d->ramp);
}

static void on_ramp(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    driver *d = w->data;
    if (!d->quitting) {
        ramp_step(d);
    }
}

static void on_spawning_complete(void *ctx)
{
    driver *d = ctx;
    if (!d->ramp_done || d->quitting) {
        return;
    }
    d->ramp_done = 2; /* logged once */
    log_counts(d, "All users spawned");
    if (d->cfg->reset_stats) {
        log_msg(LOG_INFO, LOG_RUNNER, "Resetting stats");
        stats_clear(d->stats, now_epoch());
    }
}

static void write_csv(driver *d)
{
    if (d->csv && csvout_write(d->csv, d->stats, d->ex, d->nex) != 0) {
        log_msg(LOG_ERROR, LOG_MAIN, "--csv: could not write the CSV files");
    }
}

static void on_printer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    driver *d = w->data;
    summary_print_stats(stderr, d->stats, 1, summary_name_width());
}

static void on_csv(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    driver *d = w->data;
    write_csv(d);
    if (d->csv && csvout_history(d->csv, d->stats, runner_user_count(d->run), now_epoch()) != 0) {
        log_msg(LOG_ERROR, LOG_MAIN, "--csv: could not write the history file");
    }
}

/* All users stopped: the loop ends; standalone_run prints and writes. */
static void on_stopped(void *ctx)
{
    driver *d = ctx;
    ev_break(d->loop, EVBREAK_ALL);
}

static void begin_quit(driver *d, const char *why)
{
    if (d->quitting) {
        return;
    }
    d->quitting = 1;
    log_msg(LOG_INFO, LOG_MAIN, "%s", why);
    ev_timer_stop(d->loop, &d->ramp);
    ev_timer_stop(d->loop, &d->run_time);
    runner_stop(d->run, d->cfg->stop_timeout);
}

static void on_run_time(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    begin_quit(w->data, "--run-time limit reached, shutting down");
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    driver *d = w->data;
    if (!d->quitting) {
        begin_quit(d, w->signum == SIGTERM ? "Got SIGTERM signal"
                                           : "Got SIGINT signal, shutting down");
        return;
    }
    log_msg(LOG_WARNING, LOG_MAIN, "Second signal: stopping the users now");
    runner_shutdown(d->run, 0.3, on_stopped, d);
}

static int init_spawn(driver *d)
{
    int *selected = calloc(d->n ? d->n : 1, sizeof *selected);
    d->spawn.classes = calloc(d->n ? d->n : 1, sizeof *d->spawn.classes);
    if (!selected || !d->spawn.classes) {
        free(selected);
        return -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        selected[i] = d->cfg->nuser_classes == 0;
        for (int k = 0; k < d->cfg->nuser_classes; k++) {
            selected[i] |= strcmp(d->classes[i].name, d->cfg->user_classes[k]) == 0;
        }
        if (selected[i]) {
            d->spawn.classes[d->spawn.nclasses++] =
                (proto_class_count){(char *)d->classes[i].name, 0};
        }
    }
    d->spawn.has_stop_timeout = 1;
    d->spawn.stop_timeout = d->cfg->stop_timeout;
    int rc = dispatch_init(&d->disp, d->classes, d->n, selected);
    free(selected);
    return rc;
}

static void init_watchers(driver *d)
{
    ev_timer_init(&d->ramp, on_ramp, 0.0, 0.0);
    ev_timer_init(&d->printer, on_printer, 0.0, PRINT_S);
    ev_timer_init(&d->csv_timer, on_csv, 0.0, CSV_S);
    ev_timer_init(&d->run_time, on_run_time, d->cfg->run_time, 0.0);
    d->ramp.data = d->printer.data = d->csv_timer.data = d->run_time.data = d;
    ev_signal_init(&d->sigint, on_signal, SIGINT);
    ev_signal_init(&d->sigterm, on_signal, SIGTERM);
    d->sigint.data = d->sigterm.data = d;
}

static void start(driver *d)
{
    double rate = d->cfg->spawn_rate > 0 ? d->cfg->spawn_rate : 1.0;
    ev_signal_start(d->loop, &d->sigint);
    ev_signal_start(d->loop, &d->sigterm);
    if (!d->cfg->only_summary) {
        ev_timer_start(d->loop, &d->printer);
    }
    if (d->csv) {
        ev_timer_start(d->loop, &d->csv_timer);
    }
    log_msg(LOG_INFO, LOG_MAIN, "Starting Locust worker %s standalone (no master)", LW_VERSION);
    log_msg(LOG_INFO, LOG_RUNNER, "Ramping to %lld users at a rate of %.2f per second",
            (long long)d->target, rate);
    if (d->cfg->run_time > 0) {
        log_msg(LOG_INFO, LOG_MAIN, "Run time limit set to %.0f seconds", d->cfg->run_time);
        ev_timer_start(d->loop, &d->run_time);
    } else {
        log_msg(LOG_INFO, LOG_MAIN, "No run time limit set, use CTRL+C to interrupt");
    }
    ramp_step(d);
}

static int exit_code(const driver *d)
{
    return stats_error_count(d->stats) > 0 || d->nex > 0 || d->ex_dropped > 0
               ? d->cfg->exit_code_on_error
               : 0;
}

static void finish(driver *d)
{
    int code = exit_code(d);
    int width = summary_name_width();
    log_msg(LOG_INFO, LOG_MAIN, "Shutting down (exit code %d)", code);
    summary_print_stats(stderr, d->stats, 0, width);
    summary_print_percentiles(stderr, d->stats, width);
    summary_print_errors(stderr, d->stats, width);
    write_csv(d);
}

static void driver_free(driver *d)
{
    ev_timer_stop(d->loop, &d->ramp);
    ev_timer_stop(d->loop, &d->printer);
    ev_timer_stop(d->loop, &d->csv_timer);
    ev_timer_stop(d->loop, &d->run_time);
    ev_signal_stop(d->loop, &d->sigint);
    ev_signal_stop(d->loop, &d->sigterm);
    runner_free(d->run);
    csvout_close(d->csv);
    stats_free(d->stats);
    dispatch_free(&d->disp);
    free(d->spawn.classes);
    for (size_t i = 0; i < d->nex; i++) {
        free((char *)d->ex[i].msg);
    }
}

int standalone_run(const lw_config *cfg, const lw_user_class *classes, size_t nclasses)
{
    char err[600];
    driver d;
    memset(&d, 0, sizeof d);
    d.loop = ev_default_loop(EVFLAG_AUTO);
    d.cfg = cfg;
    d.classes = classes;
    d.n = nclasses;
    d.target = cfg->users >= 0 ? cfg->users : 1;
    if (!d.loop) {
        log_msg(LOG_ERROR, LOG_MAIN, "cannot create the event loop");
        return 1;
    }
    init_watchers(&d);
    custom_set_worker_index(0); /* as Locust's LocalRunner */
    runner_events ev = {on_spawning_complete, on_stopped, on_exception, &d};
    d.stats = stats_new(now_epoch());
    d.run = d.stats ? runner_new(d.loop, classes, nclasses, cfg, d.stats, ev) : NULL;
    if (cfg->csv_prefix[0] && d.run && !(d.csv = csvout_open(cfg->csv_prefix, err, sizeof err))) {
        log_msg(LOG_ERROR, LOG_MAIN, "%s", err);
        driver_free(&d);
        return 1;
    }
    if (!d.run || init_spawn(&d) != 0) {
        log_msg(LOG_ERROR, LOG_MAIN, "out of memory");
        driver_free(&d);
        return 1;
    }
    ratelimit_init(d.loop, cfg->max_rps, cfg->rps_increase, cfg->rps_interval);
    start(&d);
    ev_run(d.loop, 0);
    finish(&d);
    int code = exit_code(&d);
    driver_free(&d);
    ratelimit_free();
    return code;
}
