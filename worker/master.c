/*
 * master.c - the protocol state machine of one worker process.
 *
 *   connect -> client_ready (every 5 s, and at each handshake) -> ack
 *   -> heartbeat every 1 s, stats every 3 s (only while registered)
 *   spawn -> spawning, apply targets -> spawning_complete
 *   stop  -> stop users -> final stats, client_stopped, client_ready
 *   quit  -> stop users, final stats within 0.5 s, quit, exit
 *
 * A network partition or a frozen master is not a lost master: the
 * connection stays open (ZMTP heartbeats give up only after 60 s of
 * silence), reports queue and are delivered once the master answers again,
 * and the worker keeps its node id and its users, as a Python worker does;
 * the master heals it from its next heartbeat. Masters of Locust 2.19+
 * answer every heartbeat, so there the silence is seen and logged.
 *
 * A lost master is one whose connection closed (it exited or was killed),
 * or that stayed silent for 60 s. Users keep running until a master answers
 * the handshake; then the worker arrives fresh: it stops the old test's
 * users, drops that test's unsent numbers (their master is gone), and sends
 * client_ready with 0 users. With no master for 60 s, users stop too. A
 * client_ready that is never acked (identity still held by a stale pipe in
 * the master) gets a fresh node id.
 *
 * Messages are handled in order: a spawn that arrives while a stop is still
 * draining is applied once the stop has finished and been reported.
 */
#include "master.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/proto.h"
#include "custom.h"
#include "log.h"
#include "logship.h"
#include "procinfo.h"
#include "runner.h"
#include "stats.h"
#include "zlink.h"

#define HEARTBEAT_S 1.0
#define REPORT_S 3.0
#define READY_RETRY_S 5.0
#define NEW_ID_AFTER_S 6.0
#define ORPHAN_S 60.0
#define SILENCE_WARN_S 5.0  /* 2.19+: no master heartbeat for this long */
#define SILENCE_LOST_S 60.0 /* ... or this long: the master forgot us */
#define GIVE_UP_S 300.0
#define QUIT_DRAIN_S 0.3
#define LOGS_S 10.0 /* Locust's WORKER_LOG_REPORT_INTERVAL */

typedef enum { ST_READY, ST_SPAWNING, ST_RUNNING } wstate;

struct master {
    struct ev_loop *loop;
    const lw_config *cfg;
    zlink *link;
    runner *runner;
    lw_stats *stats;
    procinfo cpu;
    msgpack_sbuffer sbuf;
    proto_class_count *counts;
    char node_id[320];
    wstate state;
    int registered; /* acked by the current master */
    int ever_registered;
    int lost;         /* link dropped since the last ack */
    int fresh;        /* next spawn starts a new test */
    int stopping;     /* users stopping; client_ready follows */
    int reopening;    /* socket reopened on the master's request */
    int master_beats; /* the master answers heartbeats (2.19+) */
    int silence_warned;
    int has_pending; /* a spawn received while stopping */
    proto_msg pending;
    proto_msg current; /* the spawn applied last (lw_option reads it) */
    logship *logs;     /* recent log lines for the master's Logs tab */
    int quitting;
    int exit_code;
    double last_spawn_ts;
    double stop_timeout;  /* from the last spawn message */
    double ready_sent_at; /* monotonic; 0: not sent since the link came up */
    double unacked_since; /* first client_ready not acked on this link; 0: none */
    double started_at;
    double master_beat_at; /* monotonic time of the last master heartbeat */
    ev_timer heartbeat, report, ready_retry, orphan, logs_timer;
    ev_signal sigint, sigterm;
};

static const char *state_name(wstate s)
{
    return s == ST_SPAWNING ? "spawning" : s == ST_RUNNING ? "running" : "ready";
}

static void make_node_id(master *m)
{
    char host[256] = "localhost";
    char uuid[37];
    char hex[33];
    if (gethostname(host, sizeof host - 1) != 0) {
        strcpy(host, "localhost");
    }
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++) { /* printable ASCII only */
        if (*p < 0x21 || *p > 0x7e) {
            *p = '-';
        }
    }
    lw_uuid4(uuid);
    size_t j = 0;
    for (size_t i = 0; uuid[i] && j < 32; i++) {
        if (uuid[i] != '-') {
            hex[j++] = uuid[i];
        }
    }
    hex[j] = '\0';
    snprintf(m->node_id, sizeof m->node_id, "%s_%s", host, hex);
}

static int send_buf(master *m)
{
    return zlink_send(m->link, m->sbuf.data, m->sbuf.size);
}

static void send_nil(master *m, const char *type)
{
    proto_encode_nil(&m->sbuf, type, m->node_id);
    if (send_buf(m)) {
        log_msg(LOG_DEBUG, LOG_RUNNER, "could not send %s: no master connected", type);
    }
}

static void send_client_ready(master *m)
{
    proto_encode_client_ready(&m->sbuf, m->node_id);
    if (send_buf(m) == 0) {
        m->ready_sent_at = now_mono();
        if (m->unacked_since == 0) {
            m->unacked_since = m->ready_sent_at;
        }
        log_msg(LOG_DEBUG, LOG_RUNNER, "sent client_ready as %s", m->node_id);
    }
}

/* A report that cannot be built or sent is not reset: the next one
 * carries its numbers. */
static void send_stats(master *m)
{
    msgpack_packer pk;
    size_t n = runner_counts(m->runner, m->counts);
    if (proto_begin(&m->sbuf, &pk, "stats") || stats_pack_report(m->stats, &pk, m->counts, n) ||
        proto_end(&pk, m->node_id)) {
        log_msg(LOG_ERROR, LOG_RUNNER, "out of memory building a stats report");
        return;
    }
    if (send_buf(m)) {
        log_msg(LOG_WARNING, LOG_RUNNER,
                "a stats report could not be sent now; it goes with the next one");
        return;
    }
    stats_report_sent(m->stats, now_epoch());
}

static void send_exception(master *m, const char *msg)
{
    if (!m->registered) {
        return;
    }
    proto_encode_exception(&m->sbuf, m->node_id, msg, msg);
    send_buf(m);
}

/* (Re)start a timer: libev forbids ev_timer_set on an active timer. */
static void rearm(master *m, ev_timer *w, double after, double repeat)
{
    ev_timer_stop(m->loop, w);
    ev_timer_set(w, after, repeat);
    ev_timer_start(m->loop, w);
}

/* ---- runner events ---- */

static void on_spawning_complete(void *ctx)
{
    master *m = ctx;
    m->state = ST_RUNNING;
    size_t n = runner_counts(m->runner, m->counts);
    log_msg(LOG_INFO, LOG_RUNNER, "Spawning complete: %lld users",
            (long long)runner_user_count(m->runner));
    /* also right after a client_ready not acked yet: the master reads our
     * messages in order, so it knows this worker by then */
    if (m->registered || m->unacked_since > 0) {
        proto_encode_spawning_complete(&m->sbuf, m->node_id, m->counts, n);
        send_buf(m);
    }
}

static void apply_spawn(master *m, proto_msg *msg);

/* All users stopped: after a stop message, or before registering fresh
 * with a new master (then the old test's numbers are dropped). */
static void on_stopped(void *ctx)
{
    master *m = ctx;
    m->state = ST_READY;
    m->fresh = 1;
    m->stopping = 0;
    if (m->quitting) {
        return;
    }
    if (m->registered) {
        send_stats(m);
        send_nil(m, "client_stopped");
    } else {
        stats_clear(m->stats, now_epoch());
    }
    m->registered = 0;
    m->ready_sent_at = m->unacked_since = 0;
    send_client_ready(m);
    rearm(m, &m->ready_retry, 1.0, 1.0);
    log_msg(LOG_INFO, LOG_RUNNER, "Stopped all users; ready for a new test");
    if (m->has_pending) {
        m->has_pending = 0;
        apply_spawn(m, &m->pending);
        proto_msg_free(&m->pending);
    }
}

/* Stop every user now; on_stopped follows. */
static void stop_users(master *m, double stop_timeout)
{
    m->stopping = 1;
    runner_stop(m->runner, stop_timeout);
}

static void on_runner_exception(const char *msg, void *ctx)
{
    send_exception(ctx, msg);
}

/* ---- message handlers ---- */

static void on_ack(master *m, const proto_msg *msg)
{
    int was_lost = m->lost;
    m->unacked_since = 0;
    m->registered = 1;
    m->ever_registered = 1;
    m->lost = 0;
    m->reopening = 0;
    m->master_beat_at = now_mono();
    ev_timer_stop(m->loop, &m->ready_retry);
    ev_timer_stop(m->loop, &m->orphan);
    custom_set_worker_index((long)msg->ack_index);
    log_msg(was_lost ? LOG_INFO : LOG_DEBUG, LOG_RUNNER,
            "Registered with the master as %s (index %lld)", m->node_id, (long long)msg->ack_index);
}

/* Takes the message over: it stays alive as m->current. */
static void apply_spawn(master *m, proto_msg *msg)
{
    send_nil(m, "spawning");
    if (msg->spawn.timestamp <= m->last_spawn_ts) {
        log_msg(LOG_DEBUG, LOG_RUNNER, "ignoring an older spawn message");
        return;
    }
    m->last_spawn_ts = msg->spawn.timestamp;
    m->stop_timeout = msg->spawn.has_stop_timeout ? msg->spawn.stop_timeout : 0.0;
    proto_msg_free(&m->current);
    m->current = *msg;
    memset(msg, 0, sizeof *msg);
    if (m->fresh) {
        stats_clear(m->stats, now_epoch());
        runner_new_test(m->runner, &m->current.spawn);
        m->fresh = 0;
    }
    m->state = ST_SPAWNING;
    runner_set_options(m->runner, &m->current.spawn);
    runner_spawn(m->runner, &m->current.spawn);
}

/* Takes the message over (it is left empty) when it has to wait. */
static void on_spawn(master *m, proto_msg *msg)
{
    if (!m->registered) {
        log_msg(LOG_WARNING, LOG_RUNNER, "ignoring a spawn message before registration");
        return;
    }
    if (m->stopping) {
        log_msg(LOG_DEBUG, LOG_RUNNER, "a spawn message waits for the stop in progress");
        proto_msg_free(&m->pending);
        m->pending = *msg;
        m->has_pending = 1;
        memset(msg, 0, sizeof *msg);
        return;
    }
    apply_spawn(m, msg);
}

static void on_stop_msg(master *m)
{
    log_msg(LOG_INFO, LOG_RUNNER, "Stop requested by the master");
    if (m->has_pending) { /* a stop after a waiting spawn cancels it */
        m->has_pending = 0;
        proto_msg_free(&m->pending);
    }
    stop_users(m, m->stop_timeout);
}

static void finish_quit(void *arg)
{
    master *m = arg;
    if (m->registered) {
        send_stats(m);
        send_nil(m, "quit");
    }
    ev_break(m->loop, EVBREAK_ALL);
}

/* The timers that keep the link to the master: beats, reports, ready
 * retries and the wait for a lost master. */
static void stop_link_timers(master *m)
{
    ev_timer_stop(m->loop, &m->heartbeat);
    ev_timer_stop(m->loop, &m->report);
    ev_timer_stop(m->loop, &m->ready_retry);
    ev_timer_stop(m->loop, &m->orphan);
}

static void begin_quit(master *m, const char *why)
{
    if (m->quitting) {
        return;
    }
    m->quitting = 1;
    log_msg(LOG_INFO, LOG_RUNNER, "%s: stopping users and exiting", why);
    stop_link_timers(m);
    runner_shutdown(m->runner, QUIT_DRAIN_S, finish_quit, m);
}

/* --reconnect-on-quit: act like a stop, then wait for the next master. */
static void quit_but_stay(master *m)
{
    log_msg(LOG_INFO, LOG_RUNNER, "The master quit; waiting for a master to connect");
    if (m->registered) {
        send_stats(m);
    }
    m->registered = 0;
    m->lost = 1;
    m->fresh = 1;
    m->state = ST_READY;
    stop_users(m, 0.0);
}

/* The same master asks for a new connection: users keep running and the
 * worker registers again under its node id; the master re-dispatches. */
static void on_reconnect(master *m)
{
    log_msg(LOG_INFO, LOG_RUNNER, "The master asked for a reconnect");
    m->registered = 0;
    m->lost = 1;
    m->reopening = 1;
    m->ready_sent_at = m->unacked_since = 0;
    if (zlink_open(m->link, m->node_id) == 0) {
        rearm(m, &m->ready_retry, 0.5, 1.0);
    }
}

static void on_master_heartbeat(master *m)
{
    double quiet = now_mono() - m->master_beat_at;
    m->master_beats = 1;
    m->master_beat_at = now_mono();
    if (m->silence_warned) {
        m->silence_warned = 0;
        log_msg(LOG_INFO, LOG_RUNNER,
                "The master answers again after %.0f s; still registered as %s", quiet, m->node_id);
    }
}

static void dispatch(master *m, proto_msg *msg)
{
    switch (msg->type) {
    case PROTO_ACK:
        on_ack(m, msg);
        break;
    case PROTO_SPAWN:
        on_spawn(m, msg);
        break;
    case PROTO_STOP:
        on_stop_msg(m);
        break;
    case PROTO_QUIT:
        if (m->cfg->reconnect_on_quit) {
            quit_but_stay(m);
        } else {
            begin_quit(m, "The master sent quit");
        }
        break;
    case PROTO_RECONNECT:
        on_reconnect(m);
        break;
    case PROTO_HEARTBEAT:
        on_master_heartbeat(m);
        break;
    case PROTO_SPAWNING_COMPLETE: /* 2.29+: such a master takes "logs" */
        logship_enable(m->logs);
        break;
    case PROTO_UPDATE_USER_CLASS:
        runner_update_class(m->runner, &msg->update);
        break;
    default:
        log_msg(LOG_WARNING, LOG_RUNNER, "Unknown message type received from the master: %s",
                msg->type_name ? msg->type_name : "?");
    }
}

static void on_message(const char *buf, size_t len, void *ctx)
{
    master *m = ctx;
    proto_msg msg;
    char err[256];
    if (proto_decode(buf, len, &msg, err, sizeof err) != 0) {
        log_msg(LOG_WARNING, LOG_RUNNER,
                "ignoring a malformed message from the master (%zu bytes): %s", len, err);
        return;
    }
    if (!m->quitting || msg.type == PROTO_ACK) {
        dispatch(m, &msg);
    }
    proto_msg_free(&msg);
}

/* ---- link events and timers ---- */

/* Before registering with a master that does not know this worker:
 * stop the old test's users (on_stopped then sends client_ready). */
static int arrive_fresh(master *m)
{
    if (m->reopening || runner_idle(m->runner)) {
        if (!m->reopening) {
            stats_clear(m->stats, now_epoch());
        }
        return 0;
    }
    if (!m->stopping) {
        log_msg(LOG_INFO, LOG_RUNNER,
                "Registering as a fresh worker: stopping the %lld users "
                "of the previous master's test",
                (long long)runner_user_count(m->runner));
        m->fresh = 1;
        m->state = ST_READY;
        stop_users(m, 0.0);
    }
    return 1;
}

static void on_connected(void *ctx)
{
    master *m = ctx;
    log_msg(m->lost ? LOG_INFO : LOG_DEBUG, LOG_RUNNER, "Connected to the master at %s:%d",
            m->cfg->master_host, m->cfg->master_port);
    if (m->registered || m->quitting) {
        return;
    }
    m->ready_sent_at = m->unacked_since = 0;
    rearm(m, &m->ready_retry, 1.0, 1.0);
    if (!m->stopping && !arrive_fresh(m)) {
        send_client_ready(m);
    }
}

/* The master is gone: it closed the connection, or was silent too long. */
static void lose_master(master *m)
{
    m->registered = 0;
    m->lost = 1;
    m->reopening = 0;
    m->master_beats = m->silence_warned = 0;
    m->ready_sent_at = m->unacked_since = 0;
    if (!runner_idle(m->runner) && !ev_is_active(&m->orphan)) {
        rearm(m, &m->orphan, ORPHAN_S, 0.0);
    }
    rearm(m, &m->ready_retry, 1.0, 1.0);
}

static void on_disconnected(void *ctx)
{
    master *m = ctx;
    if (m->quitting) {
        return;
    }
    log_msg(LOG_WARNING, LOG_RUNNER, "Lost the connection to the master; waiting for a master");
    lose_master(m);
}

/* Resend client_ready until acked; give a stuck identity a fresh id. */
static void on_ready_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    double now = now_mono();
    if (m->registered) {
        ev_timer_stop(m->loop, w);
        return;
    }
    if (m->stopping) { /* client_ready follows the stop */
        return;
    }
    if (!m->ever_registered && now - m->started_at > GIVE_UP_S) {
        log_msg(LOG_ERROR, LOG_RUNNER,
                "Failed to connect to the Locust master at %s:%d: no answer after %.0f s",
                m->cfg->master_host, m->cfg->master_port, GIVE_UP_S);
        m->exit_code = 1;
        ev_break(m->loop, EVBREAK_ALL);
        return;
    }
    if (m->unacked_since > 0 && zlink_connected(m->link) && m->ever_registered &&
        now - m->unacked_since > NEW_ID_AFTER_S) {
        make_node_id(m);
        log_msg(LOG_INFO, LOG_RUNNER, "No ack from the master; reconnecting as %s", m->node_id);
        m->ready_sent_at = m->unacked_since = 0;
        zlink_open(m->link, m->node_id);
        return;
    }
    if (zlink_connected(m->link) && arrive_fresh(m)) {
        return;
    }
    if (m->ready_sent_at == 0 || now - m->ready_sent_at >= READY_RETRY_S) {
        send_client_ready(m);
    }
}

/* 2.19+ masters answer every heartbeat: their silence is a partition, a
 * frozen master, or a master that no longer knows this worker. */
static void watch_master_silence(master *m)
{
    double quiet = now_mono() - m->master_beat_at;
    if (!m->registered || !m->master_beats) {
        return;
    }
    if (quiet >= SILENCE_LOST_S) {
        log_msg(LOG_WARNING, LOG_RUNNER,
                "No heartbeat from the master for %.0f s; registering again", quiet);
        lose_master(m);
        arrive_fresh(m);
    } else if (quiet >= SILENCE_WARN_S && !m->silence_warned) {
        m->silence_warned = 1;
        log_msg(LOG_WARNING, LOG_RUNNER,
                "No heartbeat from the master for %.0f s (a network "
                "partition or a frozen master?); keeping %lld users running as %s",
                quiet, (long long)runner_user_count(m->runner), m->node_id);
    }
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    double cpu = procinfo_cpu_percent(&m->cpu);
    if (!zlink_connected(m->link)) {
        return;
    }
    watch_master_silence(m);
    proto_encode_heartbeat(&m->sbuf, m->node_id, state_name(m->state), cpu, procinfo_rss_bytes());
    send_buf(m);
}

/* Every 10 s, the recent log lines to a master that takes them. */
static void on_logs_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    const char *const *lines;
    size_t n;
    if (!m->registered) {
        return;
    }
    logship_verdict v = logship_take(m->logs, &lines, &n);
    if (v == LOGSHIP_SEND_LAST) {
        log_msg(LOG_WARNING, LOG_RUNNER,
                "The worker attempted to send more than %d log lines in one "
                "interval. Further log sending was disabled for this worker.",
                LOGSHIP_BURST);
    }
    if (v != LOGSHIP_NOTHING && proto_encode_logs(&m->sbuf, m->node_id, lines, n) == 0) {
        send_buf(m);
    }
}

static void log_to_ship(const char *line, void *ctx)
{
    logship_add(ctx, line);
}

static void on_report(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    if (m->registered) {
        send_stats(m);
    }
}

static void on_orphan(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    if (m->registered) {
        return;
    }
    log_msg(LOG_WARNING, LOG_RUNNER, "No master for %.0f s; stopping %lld users", ORPHAN_S,
            (long long)runner_user_count(m->runner));
    m->fresh = 1;
    m->state = ST_READY;
    stop_users(m, 0.0);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    master *m = w->data;
    if (m->quitting) {
        log_msg(LOG_WARNING, LOG_RUNNER, "Second signal: exiting now");
        _exit(1);
    }
    begin_quit(m, w->signum == SIGINT ? "Got SIGINT" : "Got SIGTERM");
}

/* ---- setup ---- */

static int resolve(const lw_config *cfg, int *ipv6, char *endpoint, size_t len, char *err,
                   size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    char ip[INET6_ADDRSTRLEN + 1];
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(cfg->master_host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve master host '%s': %s", cfg->master_host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve master host '%s'", cfg->master_host);
        return -1;
    }
    snprintf(endpoint, len, *ipv6 ? "tcp://[%s]:%d" : "tcp://%s:%d", ip, cfg->master_port);
    return 0;
}

int master_check_host(const lw_config *cfg, char *err, size_t errlen)
{
    char endpoint[600];
    int ipv6;
    return resolve(cfg, &ipv6, endpoint, sizeof endpoint, err, errlen);
}

static void init_timers(master *m)
{
    ev_timer_init(&m->heartbeat, on_heartbeat, HEARTBEAT_S, HEARTBEAT_S);
    ev_timer_init(&m->report, on_report, REPORT_S, REPORT_S);
    ev_timer_init(&m->ready_retry, on_ready_retry, 1.0, 1.0);
    ev_timer_init(&m->orphan, on_orphan, ORPHAN_S, 0.0);
    ev_timer_init(&m->logs_timer, on_logs_timer, LOGS_S, LOGS_S);
    m->logs_timer.data = m;
    m->heartbeat.data = m->report.data = m->ready_retry.data = m->orphan.data = m;
    ev_signal_init(&m->sigint, on_signal, SIGINT);
    ev_signal_init(&m->sigterm, on_signal, SIGTERM);
    m->sigint.data = m->sigterm.data = m;
}

master *master_new(struct ev_loop *loop, const lw_config *cfg, const lw_user_class *classes,
                   size_t nclasses, char *err, size_t errlen)
{
    char endpoint[600];
    int ipv6 = 0;
    if (resolve(cfg, &ipv6, endpoint, sizeof endpoint, err, errlen)) {
        return NULL;
    }
    master *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->loop = loop;
    m->cfg = cfg;
    m->fresh = 1;
    msgpack_sbuffer_init(&m->sbuf);
    procinfo_init(&m->cpu);
    make_node_id(m);
    init_timers(m);
    runner_events rev = {on_spawning_complete, on_stopped, on_runner_exception, m};
    zlink_events zev = {on_message, on_connected, on_disconnected, m};
    m->stats = stats_new(now_epoch());
    m->counts = calloc(nclasses ? nclasses : 1, sizeof *m->counts);
    m->logs = logship_new();
    m->runner = runner_new(loop, classes, nclasses, cfg, m->stats, rev);
    m->link = zlink_new(loop, endpoint, ipv6, zev, err, errlen);
    if (!m->stats || !m->counts || !m->logs || !m->runner || !m->link) {
        if (m->link) {
            snprintf(err, errlen, "out of memory");
        }
        master_free(m);
        return NULL;
    }
    return m;
}

int master_start(master *m)
{
    m->started_at = now_mono();
    if (zlink_open(m->link, m->node_id)) {
        return -1;
    }
    ev_timer_start(m->loop, &m->heartbeat);
    ev_timer_start(m->loop, &m->report);
    ev_timer_start(m->loop, &m->ready_retry);
    ev_timer_start(m->loop, &m->logs_timer);
    log_set_tap(log_to_ship, m->logs);
    ev_signal_start(m->loop, &m->sigint);
    ev_signal_start(m->loop, &m->sigterm);
    log_msg(LOG_INFO, LOG_MAIN, "Starting Locust worker %s, connecting to %s:%d as %s", LW_VERSION,
            m->cfg->master_host, m->cfg->master_port, m->node_id);
    return 0;
}

void master_shutdown(master *m)
{
    begin_quit(m, "Shutting down");
}

int master_exit_code(const master *m)
{
    return m->exit_code;
}

void master_free(master *m)
{
    if (!m) {
        return;
    }
    stop_link_timers(m);
    ev_timer_stop(m->loop, &m->logs_timer);
    log_set_tap(NULL, NULL);
    logship_free(m->logs);
    ev_signal_stop(m->loop, &m->sigint);
    ev_signal_stop(m->loop, &m->sigterm);
    runner_free(m->runner);
    proto_msg_free(&m->pending);
    proto_msg_free(&m->current);
    zlink_free(m->link, 1000);
    stats_free(m->stats);
    free(m->counts);
    msgpack_sbuffer_destroy(&m->sbuf);
    free(m);
}
