/*
 * cli.h - command line and environment, in the shape of `locust --worker`.
 */
#ifndef LW_CLI_H
#define LW_CLI_H

#include <stddef.h>
#include "log.h"
#include "lw.h"

#define CLI_MAX_CLASSES 64

typedef struct {
    char master_host[256];                     /* --master-host, LOCUST_MASTER_NODE_HOST */
    int master_port;                           /* --master-port, LOCUST_MASTER_NODE_PORT */
    char host[1024];                           /* --host, LOCUST_HOST; "" if unset */
    int processes;                             /* --processes; -1 means one per core */
    log_level loglevel;                        /* --loglevel, LOCUST_LOGLEVEL */
    double request_timeout;                    /* --request-timeout seconds */
    int insecure;                              /* --insecure: no TLS certificate checks */
    int reconnect_on_quit;                     /* --reconnect-on-quit: survive master quit */
    int http_client;                           /* --http-client: -1 each class's own, else an
                                lw_client (0 curl, 1 fast) */
    int worker_mode;                           /* --worker, LOCUST_MODE_WORKER */
    int list_classes;                          /* -l, --list: print the classes and exit */
    int task_ratio_json;                       /* --show-task-ratio-json: print and exit */
    char logfile[1024];                        /* --logfile, LOCUST_LOGFILE; "" if unset */
    char ignored[2048];                        /* master-only options given, for one INFO line */
    const char *user_classes[CLI_MAX_CLASSES]; /* positional class names */
    int nuser_classes;
    /* standalone mode: --headless without --worker (see cli_standalone) */
    int headless;           /* --headless, LOCUST_HEADLESS */
    long users;             /* -u/--users; -1 unset (Locust's default 1) */
    int users_on_argv;      /* -u was given on the command line */
    double spawn_rate;      /* -r/--spawn-rate; 0 unset (default 1) */
    double run_time;        /* -t/--run-time seconds; 0: run until a signal */
    char csv_prefix[1024];  /* --csv PREFIX; "" none */
    int csv_full_history;   /* --csv-full-history */
    int only_summary;       /* --only-summary */
    int print_stats;        /* --print-stats */
    int reset_stats;        /* --reset-stats */
    int exit_code_on_error; /* --exit-code-on-error, default 1 */
    double stop_timeout;    /* -s/--stop-timeout seconds, default 0 */
    char run_tasks[1024];   /* --run-tasks Class.task[,...]; "" none */
    /* the request-rate cap (both modes) */
    double max_rps;                /* --max-rps; 0: no cap */
    double rps_increase;           /* --request-increase-rate R[/interval]: R */
    double rps_interval;           /* ... interval in seconds (default 1) */
    char ignored_standalone[2048]; /* `ignored` as a standalone run has it */
} lw_config;

/* The run is standalone: --headless (or --run-tasks) without --worker. */
int cli_standalone(const lw_config *cfg);

typedef enum {
    CLI_RUN = 0, /* go on and run */
    CLI_EXIT_OK, /* --help or --version printed */
    CLI_ERROR    /* err holds one line; exit code 2 */
} cli_result;

cli_result cli_parse(int argc, char **argv, lw_config *cfg, char *err, size_t errlen);

#endif
