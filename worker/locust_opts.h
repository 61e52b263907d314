/*
 * locust_opts.h - every option of `locust`'s own command line (Locust 2.12.1
 * up to the newest release) and of this worker, with its environment
 * variable and what a worker does with it.
 */
#ifndef LW_LOCUST_OPTS_H
#define LW_LOCUST_OPTS_H

#include <stddef.h>

typedef enum {
    ARITY_FLAG, /* no value */
    ARITY_ONE,  /* exactly one value */
    ARITY_MANY  /* zero or more values (argparse nargs='*') */
} opt_arity;

/* What the worker does with an option. OPT_IGNORED: it only concerns a
 * master, its web UI or its reports. */
typedef enum {
    OPT_IGNORED = 0,
    OPT_HELP,
    OPT_VERSION,
    OPT_LIST,
    OPT_HOST,
    OPT_MASTER_HOST,
    OPT_MASTER_PORT,
    OPT_PROCESSES,
    OPT_LOGLEVEL,
    OPT_LOGFILE,
    OPT_WORKER,
    OPT_TASK_RATIO_JSON,
    OPT_REQUEST_TIMEOUT,
    OPT_INSECURE,
    OPT_HTTP_CLIENT,
    OPT_RECONNECT,
    /* honoured in standalone mode (--headless without --worker) only; a
     * worker ignores them like the master's other options */
    OPT_HEADLESS,
    OPT_USERS,
    OPT_SPAWN_RATE,
    OPT_RUN_TIME,
    OPT_CSV,
    OPT_CSV_FULL_HISTORY,
    OPT_ONLY_SUMMARY,
    OPT_PRINT_STATS,
    OPT_EXIT_CODE_ON_ERROR,
    OPT_STOP_TIMEOUT,
    OPT_RESET_STATS,
    OPT_RUN_TASKS,
    /* this worker's own, in both modes */
    OPT_MAX_RPS,
    OPT_REQUEST_INCREASE_RATE
} opt_id;

typedef struct {
    const char *name; /* long name without "--" */
    char short_name;  /* 0: none */
    opt_arity arity;
    const char *env; /* LOCUST_* variable, or NULL */
    opt_id id;
} locust_opt;

/* The option called `name` (a long name without "--"): an exact match or,
 * as argparse allows, a prefix of exactly one long name. NULL: unknown or
 * ambiguous. */
const locust_opt *locust_opt_long(const char *name, size_t len);

/* The option with this one-letter name, or NULL. */
const locust_opt *locust_opt_short(char c);

/* The whole table, for walking the environment; *n is set to its size. */
const locust_opt *locust_opt_table(size_t *n);

#endif
