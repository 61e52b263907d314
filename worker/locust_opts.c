/*
 * locust_opts.c - the table of `locust`'s options (the union of Locust
 * 2.12.1 and the newest release, including options it has since retired)
 * plus this worker's own, and lookups in it. A worker honours the options
 * that concern a worker; the rest only concern a master, its web UI or its
 * reports and are accepted and ignored, so that a worker binary can be
 * started with the very command line and environment of a `locust
 * --worker` (Kubernetes operators and Helm charts pass them all).
 */
#include "locust_opts.h"

#include <string.h>

#define IGN(long_name, short_name, arity, env)         \
    {                                                  \
        long_name, short_name, arity, env, OPT_IGNORED \
    }

static const locust_opt table[] = {
    /* honoured */
    {"help", 'h', ARITY_FLAG, NULL, OPT_HELP},
    {"version", 'V', ARITY_FLAG, NULL, OPT_VERSION},
    {"list", 'l', ARITY_FLAG, NULL, OPT_LIST},
    /* show-task-ratio-json, with the master's options below */
    {"host", 'H', ARITY_ONE, "LOCUST_HOST", OPT_HOST},
    {"master-host", 0, ARITY_ONE, "LOCUST_MASTER_NODE_HOST", OPT_MASTER_HOST},
    {"master-port", 0, ARITY_ONE, "LOCUST_MASTER_NODE_PORT", OPT_MASTER_PORT},
    {"processes", 0, ARITY_ONE, "LOCUST_PROCESSES", OPT_PROCESSES},
    {"loglevel", 'L', ARITY_ONE, "LOCUST_LOGLEVEL", OPT_LOGLEVEL},
    {"logfile", 0, ARITY_ONE, "LOCUST_LOGFILE", OPT_LOGFILE},
    {"worker", 0, ARITY_FLAG, "LOCUST_MODE_WORKER", OPT_WORKER},
    /* this worker's own */
    {"request-timeout", 0, ARITY_ONE, NULL, OPT_REQUEST_TIMEOUT},
    {"insecure", 0, ARITY_FLAG, NULL, OPT_INSECURE},
    {"http-client", 0, ARITY_ONE, NULL, OPT_HTTP_CLIENT},
    {"reconnect-on-quit", 0, ARITY_FLAG, NULL, OPT_RECONNECT},
    {"run-tasks", 0, ARITY_ONE, NULL, OPT_RUN_TASKS},
    {"max-rps", 0, ARITY_ONE, NULL, OPT_MAX_RPS},
    {"request-increase-rate", 0, ARITY_ONE, NULL, OPT_REQUEST_INCREASE_RATE},
    /* standalone mode's (Locust's headless options), ignored by a worker:
     * users, spawn-rate, run-time, headless, csv, ... below */
    /* a master's, its web UI's and its reports' */
    IGN("locustfile", 'f', ARITY_ONE, "LOCUST_LOCUSTFILE"),
    IGN("config", 0, ARITY_ONE, NULL),
    {"users", 'u', ARITY_ONE, "LOCUST_USERS", OPT_USERS},
    {"spawn-rate", 'r', ARITY_ONE, "LOCUST_SPAWN_RATE", OPT_SPAWN_RATE},
    {"hatch-rate", 0, ARITY_ONE, "LOCUST_HATCH_RATE", OPT_SPAWN_RATE},
    {"run-time", 't', ARITY_ONE, "LOCUST_RUN_TIME", OPT_RUN_TIME},
    IGN("config-users", 0, ARITY_MANY, "LOCUST_CONFIG_USERS"),
    IGN("web-host", 0, ARITY_ONE, "LOCUST_WEB_HOST"),
    IGN("web-host-display-name", 0, ARITY_ONE, "LOCUST_WEB_HOST_DISPLAY_NAME"),
    IGN("web-port", 'P', ARITY_ONE, "LOCUST_WEB_PORT"),
    {"headless", 0, ARITY_FLAG, "LOCUST_HEADLESS", OPT_HEADLESS},
    IGN("autostart", 0, ARITY_FLAG, "LOCUST_AUTOSTART"),
    IGN("autoquit", 0, ARITY_ONE, "LOCUST_AUTOQUIT"),
    IGN("headful", 0, ARITY_FLAG, "LOCUST_HEADFUL"),
    IGN("web-auth", 0, ARITY_ONE, "LOCUST_WEB_AUTH"),
    IGN("web-login", 0, ARITY_FLAG, "LOCUST_WEB_LOGIN"),
    IGN("tls-cert", 0, ARITY_ONE, "LOCUST_TLS_CERT"),
    IGN("tls-key", 0, ARITY_ONE, "LOCUST_TLS_KEY"),
    IGN("class-picker", 0, ARITY_FLAG, "LOCUST_USERCLASS_PICKER"),
    IGN("build-path", 0, ARITY_ONE, "LOCUST_BUILD_PATH"),
    IGN("legacy-ui", 0, ARITY_FLAG, "LOCUST_LEGACY_UI"),
    IGN("modern-ui", 0, ARITY_FLAG, "LOCUST_MODERN_UI"),
    IGN("master", 0, ARITY_FLAG, "LOCUST_MODE_MASTER"),
    IGN("master-bind-host", 0, ARITY_ONE, "LOCUST_MASTER_BIND_HOST"),
    IGN("master-bind-port", 0, ARITY_ONE, "LOCUST_MASTER_BIND_PORT"),
    IGN("expect-workers", 0, ARITY_ONE, "LOCUST_EXPECT_WORKERS"),
    IGN("expect-workers-max-wait", 0, ARITY_ONE, "LOCUST_EXPECT_WORKERS_MAX_WAIT"),
    IGN("enable-rebalancing", 0, ARITY_FLAG, NULL),
    IGN("expect-slaves", 0, ARITY_FLAG, NULL),
    IGN("slave", 0, ARITY_FLAG, NULL),
    IGN("step-load", 0, ARITY_FLAG, NULL),
    IGN("step-users", 0, ARITY_ONE, NULL),
    IGN("step-clients", 0, ARITY_FLAG, NULL),
    IGN("step-time", 0, ARITY_ONE, NULL),
    IGN("web-base-path", 0, ARITY_ONE, "LOCUST_WEB_BASE_PATH"),
    IGN("tags", 'T', ARITY_MANY, "LOCUST_TAGS"),
    IGN("exclude-tags", 'E', ARITY_MANY, "LOCUST_EXCLUDE_TAGS"),
    {"csv", 0, ARITY_ONE, "LOCUST_CSV", OPT_CSV},
    IGN("csv-full-history", 0, ARITY_FLAG, "LOCUST_CSV_FULL_HISTORY"),
    {"print-stats", 0, ARITY_FLAG, "LOCUST_PRINT_STATS", OPT_PRINT_STATS},
    {"only-summary", 0, ARITY_FLAG, "LOCUST_ONLY_SUMMARY", OPT_ONLY_SUMMARY},
    {"reset-stats", 0, ARITY_FLAG, "LOCUST_RESET_STATS", OPT_RESET_STATS},
    IGN("html", 0, ARITY_ONE, "LOCUST_HTML"),
    IGN("json", 0, ARITY_FLAG, NULL),
    IGN("json-file", 0, ARITY_ONE, NULL),
    IGN("skip-log-setup", 0, ARITY_FLAG, "LOCUST_SKIP_LOG_SETUP"),
    IGN("show-task-ratio", 0, ARITY_FLAG, NULL),
    {"show-task-ratio-json", 0, ARITY_FLAG, NULL, OPT_TASK_RATIO_JSON},
    {"exit-code-on-error", 0, ARITY_ONE, "LOCUST_EXIT_CODE_ON_ERROR", OPT_EXIT_CODE_ON_ERROR},
    {"stop-timeout", 's', ARITY_ONE, "LOCUST_STOP_TIMEOUT", OPT_STOP_TIMEOUT},
    IGN("equal-weights", 0, ARITY_FLAG, NULL),
    IGN("profile", 0, ARITY_ONE, NULL),
    IGN("otel", 0, ARITY_FLAG, "LOCUST_ENABLE_OPENTELEMETRY"),
};

#define NOPTS (sizeof table / sizeof table[0])

const locust_opt *locust_opt_long(const char *name, size_t len)
{
    const locust_opt *prefix = NULL;
    int nprefix = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        if (strncmp(table[i].name, name, len) != 0) {
            continue;
        }
        if (table[i].name[len] == '\0') {
            return &table[i];
        }
        prefix = &table[i];
        nprefix++;
    }
    return len > 0 && nprefix == 1 ? prefix : NULL;
}

const locust_opt *locust_opt_short(char c)
{
    for (size_t i = 0; c && i < NOPTS; i++) {
        if (table[i].short_name == c) {
            return &table[i];
        }
    }
    return NULL;
}

const locust_opt *locust_opt_table(size_t *n)
{
    *n = NOPTS;
    return table;
}
