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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    "Every other option of `locust` (and its LOCUST_* variable) is accepted,\n"
    "so that the command line of a `locust --worker` works unchanged; those\n"
    "that only concern a master, its web UI or its reports (-f, --headless,\n"
    "--users, --csv, ...) are ignored, and one INFO line names them.\n";

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

/* Adds one name to the list of ignored options, once. */
static void note_ignored(lw_config *cfg, const char *name)
{
    size_t used = strlen(cfg->ignored);
    size_t need = strlen(name) + (used ? 2 : 0);
    if (strstr(cfg->ignored, name) || used + need + 4 >= sizeof cfg->ignored) {
        if (used && !strstr(cfg->ignored, name) && !strstr(cfg->ignored, "...")) {
            strcat(cfg->ignored, ", ...");
        }
        return;
    }
    if (used) {
        strcat(cfg->ignored, ", ");
    }
    strcat(cfg->ignored, name);
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

/* Applies a value (NULL for a switch) to the option `o`, named `name` in
 * messages. */
static int apply(const locust_opt *o, const char *name, const char *arg,
                 lw_config *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    switch (o->id) {
    case OPT_MASTER_HOST:
        if (!*arg || set_text(cfg->master_host, sizeof cfg->master_host, arg)) {
            why = "invalid host";
        }
        break;
    case OPT_MASTER_PORT:
        why = set_port(cfg, arg) ? "invalid port (want 1-65535)" : NULL;
        break;
    case OPT_HOST:
        if (set_text(cfg->host, sizeof cfg->host, arg) || check_url(arg)) {
            why = "invalid URL (want http(s)://host[:port])";
        }
        break;
    case OPT_PROCESSES:
        why = set_processes(cfg, arg) ? "invalid count (want 1-1024 or -1)" : NULL;
        break;
    case OPT_LOGLEVEL:
        why = log_parse_level(arg, &cfg->loglevel) ?
              "invalid level (want DEBUG, INFO, WARNING or ERROR)" : NULL;
        break;
    case OPT_LOGFILE:
        why = (!*arg || set_text(cfg->logfile, sizeof cfg->logfile, arg)) ? "invalid file name" : NULL;
        break;
    case OPT_REQUEST_TIMEOUT:
        why = set_timeout(cfg, arg) ? "invalid seconds (want more than 0, at most 86400)" : NULL;
        break;
    case OPT_HTTP_CLIENT:
        if (strcmp(arg, "curl") != 0 && strcmp(arg, "fast") != 0) {
            why = "invalid client (want curl or fast)";
        }
        cfg->http_client = strcmp(arg, "fast") == 0;
        break;
    case OPT_INSECURE: cfg->insecure = 1; break;
    case OPT_RECONNECT: cfg->reconnect_on_quit = 1; break;
    case OPT_WORKER: cfg->worker_mode = 1; break;
    case OPT_LIST: cfg->list_classes = 1; break;
    case OPT_TASK_RATIO_JSON: cfg->task_ratio_json = 1; break;
    default: note_ignored(cfg, name); break;
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
            if (parse_bool(v, &on)) {
                snprintf(err, errlen, "%s: invalid value '%.200s' (want true or false)", t[i].env, v);
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
}

/* The state of one walk over argv. */
typedef struct {
    int argc;
    char **argv;
    int i;              /* the next argument */
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
        snprintf(w->err, w->errlen, "unknown option '%.*s' (see --help)", (int)(len > 200 ? 200 : len + 2), arg);
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

cli_result cli_parse(int argc, char **argv, lw_config *cfg, char *err,
                     size_t errlen)
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
    return CLI_RUN;
}
