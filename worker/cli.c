/*
 * cli.c - parses flags and environment variables into an lw_config.
 * Environment first, flags override, as Locust does. Every bad value gives
 * one line of error text and CLI_ERROR.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "  --worker               accepted and ignored (locust compatibility)\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n";

enum { OPT_MASTER_HOST = 1000, OPT_MASTER_PORT, OPT_PROCESSES,
       OPT_TIMEOUT, OPT_INSECURE, OPT_RECONNECT, OPT_WORKER, OPT_CLIENT };

static const struct option options[] = {
    {"master-host", required_argument, NULL, OPT_MASTER_HOST},
    {"master-port", required_argument, NULL, OPT_MASTER_PORT},
    {"host", required_argument, NULL, 'H'},
    {"processes", required_argument, NULL, OPT_PROCESSES},
    {"loglevel", required_argument, NULL, 'L'},
    {"request-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"http-client", required_argument, NULL, OPT_CLIENT},
    {"reconnect-on-quit", no_argument, NULL, OPT_RECONNECT},
    {"worker", no_argument, NULL, OPT_WORKER},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

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

/* Environment variables, read before the flags. */
static int apply_env(lw_config *cfg, char *err, size_t errlen)
{
    const char *v;
    if ((v = getenv("LOCUST_MASTER_NODE_HOST")) && *v &&
        set_text(cfg->master_host, sizeof cfg->master_host, v)) {
        snprintf(err, errlen, "LOCUST_MASTER_NODE_HOST is too long");
        return -1;
    }
    if ((v = getenv("LOCUST_MASTER_NODE_PORT")) && *v && set_port(cfg, v)) {
        snprintf(err, errlen, "LOCUST_MASTER_NODE_PORT: invalid port '%s'", v);
        return -1;
    }
    if ((v = getenv("LOCUST_HOST")) && *v &&
        (set_text(cfg->host, sizeof cfg->host, v) || check_url(v))) {
        snprintf(err, errlen, "LOCUST_HOST: invalid URL '%s' (want http(s)://host[:port])", v);
        return -1;
    }
    if ((v = getenv("LOCUST_LOGLEVEL")) && *v &&
        log_parse_level(v, &cfg->loglevel)) {
        snprintf(err, errlen, "LOCUST_LOGLEVEL: invalid level '%s'", v);
        return -1;
    }
    return 0;
}

static int apply_opt(int c, const char *arg, lw_config *cfg, char *err,
                     size_t errlen)
{
    switch (c) {
    case OPT_MASTER_HOST:
        if (!*arg || set_text(cfg->master_host, sizeof cfg->master_host, arg)) {
            snprintf(err, errlen, "--master-host: invalid host '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_MASTER_PORT:
        if (set_port(cfg, arg)) {
            snprintf(err, errlen, "--master-port: invalid port '%s' (want 1-65535)", arg);
            return -1;
        }
        return 0;
    case 'H':
        if (set_text(cfg->host, sizeof cfg->host, arg) || check_url(arg)) {
            snprintf(err, errlen, "--host: invalid URL '%s' (want http(s)://host[:port])", arg);
            return -1;
        }
        return 0;
    case OPT_PROCESSES:
        if (set_processes(cfg, arg)) {
            snprintf(err, errlen, "--processes: invalid count '%s' (want 1-1024 or -1)", arg);
            return -1;
        }
        return 0;
    case 'L':
        if (log_parse_level(arg, &cfg->loglevel)) {
            snprintf(err, errlen, "--loglevel: invalid level '%s' (want DEBUG, INFO, WARNING or ERROR)", arg);
            return -1;
        }
        return 0;
    case OPT_TIMEOUT:
        if (set_timeout(cfg, arg)) {
            snprintf(err, errlen, "--request-timeout: invalid seconds '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_CLIENT:
        if (strcmp(arg, "curl") != 0 && strcmp(arg, "fast") != 0) {
            snprintf(err, errlen, "--http-client: invalid client '%s' (want curl or fast)", arg);
            return -1;
        }
        cfg->http_client = strcmp(arg, "fast") == 0;
        return 0;
    case OPT_INSECURE: cfg->insecure = 1; return 0;
    case OPT_RECONNECT: cfg->reconnect_on_quit = 1; return 0;
    case OPT_WORKER: return 0;
    default:
        return -1;
    }
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

static void unknown_option(int argc, char **argv, char *err, size_t errlen)
{
    int i = optind - 1;
    const char *arg = (i >= 0 && i < argc) ? argv[i] : "?";
    int short_opt = optopt > 0 && optopt < 128;
    if (short_opt && strchr("HL", optopt)) {
        snprintf(err, errlen, "option -%c needs a value", optopt);
    } else if (short_opt) {
        snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
    } else {
        snprintf(err, errlen, "unknown option or missing value: '%s' (see --help)", arg);
    }
}

cli_result cli_parse(int argc, char **argv, lw_config *cfg, char *err,
                     size_t errlen)
{
    defaults(cfg);
    if (apply_env(cfg, err, errlen)) {
        return CLI_ERROR;
    }
    opterr = 0;
    optind = 0;   /* 0 also resets getopt's position inside -abc groups */
    int c;
    while ((c = getopt_long(argc, argv, "H:L:hV", options, NULL)) != -1) {
        if (c == 'h') {
            printf(usage, argv[0]);
            return CLI_EXIT_OK;
        }
        if (c == 'V') {
            printf("locust-c-worker %s\n", LW_VERSION);
            return CLI_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            unknown_option(argc, argv, err, errlen);
            return CLI_ERROR;
        }
        if (apply_opt(c, optarg, cfg, err, errlen)) {
            return CLI_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_ERROR;
    }
    return CLI_RUN;
}
