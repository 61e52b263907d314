/*
 * cli.c - parses the command line and the environment into an lw_config,
 * the way `locust` does: environment first, flags override; `--opt value`,
 * `--opt=value`, `-o value`, `-ovalue`, unambiguous prefixes of long names,
 * and positional user class names. Every option of `locust` is accepted
 * (locust_opts.c); those that only concern a master are collected for one
 * INFO line. Every bad value or unknown option gives one line of error text
 * and CLI_ERROR.
 */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boolword.h"
#include "locust_opts.h"

static const char usage[] =
    "Usage: %s [options]\n"
    "\n"
    "A Locust worker: connects to a Locust master and runs the user classes\n"
    "compiled into this binary.\n"
    "\n"
    "  --master-host HOST     master to connect to (default 127.0.0.1;\n"
    "                         env LOCUST_MASTER_NODE_HOST)\n"
    "  --master-port PORT     master port (default 5557;\n"
    "                         env LOCUST_MASTER_NODE_PORT)\n"
    "  -H, --host URL         base URL when the master sends none\n"
    "                         (env LOCUST_HOST)\n"
    "  --processes N          run N worker processes (-1: one per core)\n"
    "  -L, --loglevel LEVEL   DEBUG, INFO, WARNING or ERROR (default INFO;\n"
    "                         env LOCUST_LOGLEVEL)\n"
    "  --request-timeout S    per-request timeout in seconds (default 60)\n"
    "  --insecure             do not verify TLS certificates\n"
    "  --http-client C        curl or fast: the HTTP client of every class\n"
    "                         (default: each class's own; fast is plain\n"
    "                         HTTP/1.1, https:// still goes through curl)\n"
    "  --reconnect-on-quit    on the master's quit, wait for a master again\n"
    "                         instead of exiting\n"
    "  --logfile FILE         append the log to FILE instead of stderr\n"
    "                         (env LOCUST_LOGFILE)\n"
    "  --worker               run as a worker (the default; env\n"
    "                         LOCUST_MODE_WORKER)\n"
    "  -l, --list             list the user classes of this binary and exit\n"
    "  --show-task-ratio-json print the classes' and tasks' ratios as JSON,\n"
    "                         as `locust` does, and exit\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "  --max-rps N            cap this process at N requests per second\n"
    "                         (--processes K: N/K each)\n"
    "  --request-increase-rate R[/INTERVAL]\n"
    "                         ramp the cap up by R every INTERVAL (default 1s)\n"
    "\n"
    "Standalone (--headless without --worker): run the classes here, no master.\n"
    "  USERCLASS ...          the classes to run (default: all, weighted)\n"
    "  --headless             run standalone (env LOCUST_HEADLESS)\n"
    "  -u, --users N          peak number of users (default 1)\n"
    "  -r, --spawn-rate R     users started per second (default 1)\n"
    "  -t, --run-time T       stop after T (20, 20s, 3m, 1h30m; default: never)\n"
    "  -s, --stop-timeout T   time users get to finish their task at the end\n"
    "  --csv PREFIX           write PREFIX_stats.csv, _stats_history.csv,\n"
    "                         _failures.csv and _exceptions.csv\n"
    "  --csv-full-history     every entry in _stats_history.csv, not only the total\n"
    "  --only-summary         print only the final summary, not a table every 2 s\n"
    "  --reset-stats          reset the stats once all users are spawned\n"
    "  --exit-code-on-error N exit code when a request failed (default 1)\n"
    "  --run-tasks C.t[,...]  run each named task once, print each response, exit\n"
    "\n"
    "Every other option of `locust` (and its LOCUST_* variable) is accepted,\n"
    "so that the command line of a `locust --worker` works unchanged; those\n"
    "that only concern a master, its web UI or its reports (-f, --html, ...)\n"
    "are ignored, and one INFO line names them. A worker ignores the\n"
    "standalone options too.\n";

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int set_text(char *dst, size_t size, const char *s)
{
    if (strlen(s) >= size) {
        return -1;
    }
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

/* A text that may not be empty: 0, or -1 (empty or too long). */
static int set_name(char *dst, size_t size, const char *s)
{
    return (!*s || set_text(dst, size, s)) ? -1 : 0;
}

static int set_client(lw_config *cfg, const char *s)
{
    cfg->http_client = strcmp(s, "fast") == 0;
    return (strcmp(s, "curl") != 0 && strcmp(s, "fast") != 0) ? -1 : 0;
}

static int check_url(const char *url)
{
    if (!*url) {
        return 0;
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        return -1;
    }
    const char *rest = url + (url[4] == 's' ? 8 : 7);
    return (*rest && *rest != '/') ? 0 : -1;
}

static int set_port(lw_config *cfg, const char *s)
{
    long v;
    if (parse_long(s, 1, 65535, &v)) {
        return -1;
    }
    cfg->master_port = (int)v;
    return 0;
}

static int set_processes(lw_config *cfg, const char *s)
{
    long v;
    if (parse_long(s, -1, 1024, &v) || v == 0) {
        return -1;
    }
    cfg->processes = (int)v;
    return 0;
}

static int set_timeout(lw_config *cfg, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0 && v <= 86400)) {
        return -1;
    }
    cfg->request_timeout = v;
    return 0;
}

/* Locust's timespan: 20, 20s, 3m, 2h, 1h20m, 3h30m10s (whole seconds;
 * at most 10 years). */
static int parse_timespan(const char *s, double *out)
{
    static const char units[] = "hms";
    static const double secs[] = {3600, 60, 1};
    long v;
    double total = 0;
    size_t next = 0;
    if (parse_long(s, 0, 315360000L, &v) == 0) {
        *out = (double)v;
        return 0;
    }
    if (!*s) {
        return -1;
    }
    while (*s) {
        char *end;
        if (*s < '0' || *s > '9') {
            return -1;
        }
        errno = 0;
        long n = strtol(s, &end, 10);
        const char *u = *end ? strchr(units + next, *end) : NULL;
        if (errno || n > 315360000L || !u) {
            return -1;
        }
        total += (double)n * secs[u - units];
        next = (size_t)(u - units) + 1;
        s = end + 1;
    }
    if (total > 315360000.0) {
        return -1;
    }
    *out = total;
    return 0;
}

/* A number in (lo, hi]. */
static int parse_positive(const char *s, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0 && v <= hi)) {
        return -1;
    }
    *out = v;
    return 0;
}

/* boomer's --request-increase-rate: R or R/interval, the interval a
 * number of ms, s, m or h (plain: seconds), as 100/1s or 10/500ms. */
static int set_increase_rate(lw_config *cfg, const char *s)
{
    char num[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    double r, iv = 1.0;
    if (len == 0 || len >= sizeof num) {
        return -1;
    }
    memcpy(num, s, len);
    num[len] = '\0';
    if (parse_positive(num, 1e9, &r)) {
        return -1;
    }
    if (slash) {
        char *end;
        errno = 0;
        iv = strtod(slash + 1, &end);
        if (errno || end == slash + 1) {
            return -1;
        }
        if (strcmp(end, "ms") == 0) {
            iv /= 1000.0;
        } else if (strcmp(end, "m") == 0) {
            iv *= 60.0;
        } else if (strcmp(end, "h") == 0) {
            iv *= 3600.0;
        } else if (*end && strcmp(end, "s") != 0) {
            return -1;
        }
        if (!(iv >= 0.001 && iv <= 86400)) {
            return -1;
        }
    }
    cfg->rps_increase = r;
    cfg->rps_interval = iv;
    return 0;
}

/* The flag a switch of this worker sets, or NULL (not such a switch). */
static int *switch_flag(lw_config *cfg, opt_id id)
{
    static const struct {
        opt_id id;
        size_t flag; /* offset of the int in lw_config */
    } switches[] = {
        {OPT_INSECURE, offsetof(lw_config, insecure)},
        {OPT_RECONNECT, offsetof(lw_config, reconnect_on_quit)},
        {OPT_WORKER, offsetof(lw_config, worker_mode)},
        {OPT_LIST, offsetof(lw_config, list_classes)},
        {OPT_TASK_RATIO_JSON, offsetof(lw_config, task_ratio_json)},
        {OPT_HEADLESS, offsetof(lw_config, headless)},
        {OPT_CSV_FULL_HISTORY, offsetof(lw_config, csv_full_history)},
        {OPT_ONLY_SUMMARY, offsetof(lw_config, only_summary)},
        {OPT_PRINT_STATS, offsetof(lw_config, print_stats)},
        {OPT_RESET_STATS, offsetof(lw_config, reset_stats)},
    };
    for (size_t i = 0; i < LW_COUNTOF(switches); i++) {
        if (switches[i].id == id) {
            return (int *)(void *)((char *)cfg + switches[i].flag);
        }
    }
    return NULL;
}

/* The options of a standalone run that take a value: honoured there,
 * ignored by a worker. */
static const char *apply_standalone(const locust_opt *o, const char *arg, lw_config *cfg)
{
    long v;
    switch (o->id) {
    case OPT_USERS:
        if (parse_long(arg, 0, 100000000L, &v)) {
            return "invalid count (want 0-100000000)";
        }
        cfg->users = v;
        return NULL;
    case OPT_SPAWN_RATE:
        return parse_positive(arg, 1e9, &cfg->spawn_rate)
                   ? "invalid rate (want a number more than 0)"
                   : NULL;
    case OPT_RUN_TIME:
        return parse_timespan(arg, &cfg->run_time)
                   ? "invalid time span (want 20, 20s, 3m, 2h, 1h20m, ...)"
                   : NULL;
    case OPT_STOP_TIMEOUT:
        return parse_timespan(arg, &cfg->stop_timeout)
                   ? "invalid time span (want 20, 20s, 3m, 2h, 1h20m, ...)"
                   : NULL;
    case OPT_EXIT_CODE_ON_ERROR:
        if (parse_long(arg, 0, 255, &v)) {
            return "invalid exit code (want 0-255)";
        }
        cfg->exit_code_on_error = (int)v;
        return NULL;
    case OPT_CSV:
        return set_name(cfg->csv_prefix, sizeof cfg->csv_prefix, arg) ? "invalid file prefix"
                                                                      : NULL;
    default:
        return NULL;
    }
}

static int is_standalone_opt(opt_id id)
{
    return id >= OPT_HEADLESS && id <= OPT_RESET_STATS;
}

/* Adds one name to a list of ignored options (size IGNORED_LEN), once. */
#define IGNORED_LEN sizeof(((lw_config *)0)->ignored)
static void note_in(char *list, const char *name)
{
    size_t used = strlen(list);
    size_t need = strlen(name) + (used ? 2 : 0);
    if (strstr(list, name) || used + need + 4 >= IGNORED_LEN) {
        if (used && !strstr(list, name) && !strstr(list, "...")) {
            strcat(list, ", ...");
        }
        return;
    }
    if (used) {
        strcat(list, ", ");
    }
    strcat(list, name);
}

/* An option a worker ignores and a standalone run ignores too. */
static void note_ignored(lw_config *cfg, const char *name)
{
    note_in(cfg->ignored, name);
    note_in(cfg->ignored_standalone, name);
}

/* The options with a value that a worker honours, and those it ignores
 * (noted under their `name`): NULL, or what is wrong with the value. */
static const char *apply_worker(const locust_opt *o, const char *name, const char *arg,
                                lw_config *cfg)
{
    switch (o->id) {
    case OPT_MASTER_HOST:
        return set_name(cfg->master_host, sizeof cfg->master_host, arg) ? "invalid host" : NULL;
    case OPT_MASTER_PORT:
        return set_port(cfg, arg) ? "invalid port (want 1-65535)" : NULL;
    case OPT_HOST:
        return (set_text(cfg->host, sizeof cfg->host, arg) || check_url(arg))
                   ? "invalid URL (want http(s)://host[:port])"
                   : NULL;
    case OPT_PROCESSES:
        return set_processes(cfg, arg) ? "invalid count (want 1-1024 or -1)" : NULL;
    case OPT_LOGLEVEL:
        return log_parse_level(arg, &cfg->loglevel)
                   ? "invalid level (want DEBUG, INFO, WARNING or ERROR)"
                   : NULL;
    case OPT_LOGFILE:
        return set_name(cfg->logfile, sizeof cfg->logfile, arg) ? "invalid file name" : NULL;
    case OPT_REQUEST_TIMEOUT:
        return set_timeout(cfg, arg) ? "invalid seconds (want more than 0, at most 86400)" : NULL;
    case OPT_HTTP_CLIENT:
        return set_client(cfg, arg) ? "invalid client (want curl or fast)" : NULL;
    case OPT_RUN_TASKS:
        return set_name(cfg->run_tasks, sizeof cfg->run_tasks, arg)
                   ? "invalid task list (want Class.task[,Class.task...])"
                   : NULL;
    case OPT_MAX_RPS:
        return parse_positive(arg, 1e9, &cfg->max_rps)
                   ? "invalid rate (want requests per second, more than 0)"
                   : NULL;
    case OPT_REQUEST_INCREASE_RATE:
        return set_increase_rate(cfg, arg) ? "invalid rate (want R or R/interval, e.g. 100/1s)"
                                           : NULL;
    default:
        note_ignored(cfg, name);
        return NULL;
    }
}

/* Applies a value (NULL for a switch) to the option `o`, named `name` in
 * messages. */
static int apply(const locust_opt *o, const char *name, const char *arg, lw_config *cfg, char *err,
                 size_t errlen)
{
    int *flag = switch_flag(cfg, o->id);
    const char *why = NULL;
    if (is_standalone_opt(o->id)) {
        note_in(cfg->ignored, name);
    }
    if (flag) {
        *flag = 1;
    } else if (is_standalone_opt(o->id)) {
        why = apply_standalone(o, arg, cfg);
    } else {
        why = apply_worker(o, name, arg, cfg);
    }
    if (why) {
        snprintf(err, errlen, "%s: %s '%.200s'", name, why, arg);
        return -1;
    }
    return 0;
}

/* Environment variables, read before the flags. Switches take true/false. */
static int apply_env(lw_config *cfg, char *err, size_t errlen)
{
    size_t n;
    const locust_opt *t = locust_opt_table(&n);
    for (size_t i = 0; i < n; i++) {
        const char *v = t[i].env ? getenv(t[i].env) : NULL;
        int on = 1;
        if (!v || !*v) {
            continue;
        }
        if (t[i].arity == ARITY_FLAG && t[i].id != OPT_IGNORED) {
            if (bool_word(v, &on)) {
                snprintf(err, errlen, "%s: invalid value '%.200s' (want true or false)", t[i].env,
                         v);
                return -1;
            }
            if (!on) {
                continue;
            }
        }
        if (apply(&t[i], t[i].env, t[i].arity == ARITY_FLAG ? NULL : v, cfg, err, errlen)) {
            return -1;
        }
    }
    return 0;
}

static void defaults(lw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->master_host, "127.0.0.1");
    cfg->master_port = 5557;
    cfg->processes = 1;
    cfg->loglevel = LOG_INFO;
    cfg->request_timeout = 60.0;
    cfg->http_client = -1;
    cfg->users = -1;
    cfg->exit_code_on_error = 1;
    cfg->rps_interval = 1.0;
}

/* The state of one walk over argv. */
typedef struct {
    int argc;
    char **argv;
    int i; /* the next argument */
    lw_config *cfg;
    char *err;
    size_t errlen;
} walk;

static cli_result print_and_exit(const locust_opt *o, const char *prog)
{
    if (o->id == OPT_HELP) {
        printf(usage, prog);
    } else {
        printf("locust-c-worker %s\n", LW_VERSION);
    }
    return CLI_EXIT_OK;
}

/* Takes the values of a list option: every following argument up to the
 * next one that starts with '-'. */
static void take_list(walk *w, const locust_opt *o, const char *name)
{
    while (w->i < w->argc && w->argv[w->i][0] != '-') {
        w->i++;
    }
    apply(o, name, NULL, w->cfg, w->err, w->errlen);
}

/* Applies option `o`, whose value, if attached (--opt=v, -ov), is `inline_v`. */
static cli_result take(walk *w, const locust_opt *o, const char *name, const char *inline_v)
{
    if (o->id == OPT_USERS) {
        w->cfg->users_on_argv = 1;
    }
    if (o->id == OPT_HELP || o->id == OPT_VERSION) {
        return print_and_exit(o, w->argv[0]);
    }
    if (o->arity == ARITY_FLAG) {
        if (inline_v) {
            snprintf(w->err, w->errlen, "%s: takes no value (got '%.200s')", name, inline_v);
            return CLI_ERROR;
        }
        return apply(o, name, NULL, w->cfg, w->err, w->errlen) ? CLI_ERROR : CLI_RUN;
    }
    if (o->arity == ARITY_MANY && !inline_v) {
        take_list(w, o, name);
        return CLI_RUN;
    }
    if (!inline_v) {
        if (w->i >= w->argc) {
            snprintf(w->err, w->errlen, "%s: needs a value", name);
            return CLI_ERROR;
        }
        inline_v = w->argv[w->i++];
    }
    return apply(o, name, inline_v, w->cfg, w->err, w->errlen) ? CLI_ERROR : CLI_RUN;
}

static cli_result take_long(walk *w, const char *arg)
{
    const char *body = arg + 2;
    const char *eq = strchr(body, '=');
    size_t len = eq ? (size_t)(eq - body) : strlen(body);
    const locust_opt *o = locust_opt_long(body, len);
    char name[80];
    if (!o) {
        snprintf(w->err, w->errlen, "unknown option '%.*s' (see --help)",
                 (int)(len > 200 ? 200 : len + 2), arg);
        return CLI_ERROR;
    }
    snprintf(name, sizeof name, "--%s", o->name);
    return take(w, o, name, eq ? eq + 1 : NULL);
}

/* -x, -xVALUE, or a cluster of switches such as -lV. */
static cli_result take_short(walk *w, const char *arg)
{
    for (const char *p = arg + 1; *p; p++) {
        const locust_opt *o = locust_opt_short(*p);
        char name[80];
        if (!o) {
            snprintf(w->err, w->errlen, "unknown option '-%c' (see --help)",
                     (*p > 0x20 && *p < 0x7f) ? *p : '?');
            return CLI_ERROR;
        }
        snprintf(name, sizeof name, "-%c/--%s", o->short_name, o->name);
        if (o->arity != ARITY_FLAG || o->id == OPT_HELP || o->id == OPT_VERSION) {
            return take(w, o, name, (o->arity != ARITY_FLAG && p[1]) ? p + 1 : NULL);
        }
        if (take(w, o, name, NULL) != CLI_RUN) {
            return CLI_ERROR;
        }
    }
    return CLI_RUN;
}

static cli_result take_positional(walk *w, const char *arg)
{
    if (w->cfg->nuser_classes >= CLI_MAX_CLASSES) {
        snprintf(w->err, w->errlen, "too many user class names (at most %d)", CLI_MAX_CLASSES);
        return CLI_ERROR;
    }
    w->cfg->user_classes[w->cfg->nuser_classes++] = arg;
    return CLI_RUN;
}

int cli_standalone(const lw_config *cfg)
{
    return !cfg->worker_mode && (cfg->headless || cfg->run_tasks[0]);
}

/* The mode: a worker (--worker, or neither --worker nor --headless) or a
 * standalone run. A worker is not told -u on its command line unless it is
 * one for sure (--worker): -u without --headless is a mistake. */
static cli_result check_mode(lw_config *cfg, char *err, size_t errlen)
{
    if (cfg->users_on_argv && !cfg->worker_mode && !cfg->headless) {
        snprintf(err, errlen,
                 "-u/--users needs --headless (a standalone run) or --worker "
                 "(a worker, where the master sets the users)");
        return CLI_ERROR;
    }
    if (cli_standalone(cfg)) {
        memcpy(cfg->ignored, cfg->ignored_standalone, sizeof cfg->ignored);
    } else if (cfg->run_tasks[0]) {
        note_in(cfg->ignored, "--run-tasks"); /* a worker runs what the master says */
    }
    return CLI_RUN;
}

cli_result cli_parse(int argc, char **argv, lw_config *cfg, char *err, size_t errlen)
{
    walk w = {argc, argv, 1, cfg, err, errlen};
    int only_positional = 0;
    defaults(cfg);
    if (apply_env(cfg, err, errlen)) {
        return CLI_ERROR;
    }
    while (w.i < argc) {
        const char *arg = argv[w.i++];
        cli_result r;
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            r = take_positional(&w, arg);
        } else if (strcmp(arg, "--") == 0) {
            only_positional = 1;
            continue;
        } else if (arg[1] == '-') {
            r = take_long(&w, arg);
        } else {
            r = take_short(&w, arg);
        }
        if (r != CLI_RUN) {
            return r;
        }
    }
    return check_mode(cfg, err, errlen);
}
