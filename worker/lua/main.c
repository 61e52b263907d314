/*
 * main.c - build/lua-worker: `lua-worker SCRIPT.lua [worker options]`.
 *
 * The script is the first argument, or -f/--locustfile SCRIPT (as with
 * locust), or else the first argument that ends in .lua and is not an
 * option (class names never have a dot); it is taken off the command line, loaded and run once, and the
 * classes it declares are handed to lw_main with every other argument, so
 * the options are those of the C workers. LW_LUA_INSTRUCTION_LIMIT sets the
 * instructions a task may run between two waits (default 10,000,000; 0: no
 * limit, and the JIT compiler on).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwlua.h"

static const char usage[] = "usage: %s SCRIPT.lua [worker options]   (%s --help: the options)\n";

/* Index of the script's argument(s) in argv: *skip is 1 or 2 (-f FILE). */
static int find_script(int argc, char **argv, int *skip, const char **path)
{
    if (argc > 1 && argv[1][0] != '-') {
        *skip = 1;
        *path = argv[1];
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-f") == 0 || strcmp(a, "--locustfile") == 0) && i + 1 < argc) {
            *skip = 2;
            *path = argv[i + 1];
            return i;
        }
        if (strncmp(a, "--locustfile=", 13) == 0 || (strncmp(a, "-f", 2) == 0 && a[2])) {
            *skip = 1;
            *path = a + (a[1] == '-' ? 13 : 2);
            return i;
        }
        if (strcmp(a, "--") == 0) {
            break;
        }
    }
    for (int i = 1; i < argc; i++) { /* a positional argument NAME.lua */
        size_t n = strlen(argv[i]);
        if (argv[i][0] != '-' && n > 4 && strcmp(argv[i] + n - 4, ".lua") == 0) {
            *skip = 1;
            *path = argv[i];
            return i;
        }
    }
    return -1;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
            strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            return 1;
        }
    }
    return 0;
}

static int read_limit(const char *prog, long *limit)
{
    const char *v = getenv("LW_LUA_INSTRUCTION_LIMIT");
    char *end;
    *limit = LWLUA_DEFAULT_LIMIT;
    if (!v || !*v) {
        return 0;
    }
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0) {
        fprintf(stderr, "%s: error: LW_LUA_INSTRUCTION_LIMIT must be a number >= 0, not '%.40s'\n",
                prog, v);
        return -1;
    }
    *limit = n;
    return 0;
}

int main(int argc, char **argv)
{
    const char *prog = argc > 0 ? argv[0] : "lua-worker";
    const char *path = NULL;
    char err[512];
    int skip = 0;
    int at = find_script(argc, argv, &skip, &path);
    if (at < 0) {
        if (wants_help(argc, argv)) {
            return lw_main(argc, argv, NULL, 0);
        }
        fprintf(stderr, usage, prog, prog);
        return 2;
    }
    lwlua_script s = {0};
    if (read_limit(prog, &s.limit)) {
        return 2;
    }
    if (lwlua_load(&s, path, err, sizeof err)) {
        fprintf(stderr, "%s: error: %s\n", prog, err);
        lwlua_free(&s);
        return 2;
    }
    memmove(&argv[at], &argv[at + skip], (size_t)(argc - at - skip + 1) * sizeof *argv);
    int rc = lw_main(argc - skip, argv, s.classes, s.nclasses);
    lwlua_free(&s);
    return rc;
}
