/*
 * capacity.c - measuring how many users this process can hold: the
 * open-file limit and the memory still available (capacity.h).
 */
#include "capacity.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

void capacity_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > CAPACITY_NOFILE_MAX
                      ? CAPACITY_NOFILE_MAX
                      : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            log_msg(LOG_DEBUG, LOG_MAIN, "open-file limit raised from %llu to %llu",
                    (unsigned long long)was, (unsigned long long)want);
        }
    }
}

int capacity_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) {
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* The first number after `key` in a "key value" file (e.g. /proc/meminfo),
 * times `scale`; -1 if absent. */
static int64_t read_key(const char *path, const char *key, int64_t scale)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long long v = -1;
    size_t klen = strlen(key);
    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && sscanf(line + klen, " %lld", &v) == 1) {
            break;
        }
        v = -1;
    }
    fclose(f);
    return v < 0 ? -1 : (int64_t)v * scale;
}

/* A file holding one number ("max" or absent: -1). */
static int64_t read_number(const char *dir, const char *name)
{
    char path[600];
    long long v = -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    if (fscanf(f, "%lld", &v) != 1) {
        v = -1;
    }
    fclose(f);
    return v;
}

/* The cgroup's limit less its usage, or -1 without a limit. v2 ("0::/p")
 * or v1 ("N:...memory...:/p"); the path is tried, then the mount's root
 * (inside a container the cgroup is often mounted as the root). */
static int64_t cgroup_room(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512], dir[600];
    int64_t room = -1;
    if (!f) {
        return -1;
    }
    while (room < 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *path = strrchr(line, ':');
        int v2 = strncmp(line, "0::", 3) == 0;
        if (!path || (!v2 && !strstr(line, ":memory:"))) {
            continue;
        }
        const char *base = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        const char *lim = v2 ? "memory.max" : "memory.limit_in_bytes";
        const char *use = v2 ? "memory.current" : "memory.usage_in_bytes";
        for (int root = 0; root < 2 && room < 0; root++) {
            snprintf(dir, sizeof dir, "%s%s", base, root ? "" : path + 1);
            int64_t limit = read_number(dir, lim), used = read_number(dir, use);
            if (limit > 0 && used >= 0 && limit < ((int64_t)1 << 60)) {
                room = limit > used ? limit - used : 0;
            }
        }
    }
    fclose(f);
    return room;
}

/* A resource limit less what is in use (a /proc/self/status key), or -1. */
static int64_t rlimit_room(int resource, const char *status_key)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return -1;
    }
    int64_t used = read_key("/proc/self/status", status_key, 1024);
    if (used < 0) {
        return -1;
    }
    int64_t limit = rl.rlim_cur > (rlim_t)INT64_MAX ? INT64_MAX : (int64_t)rl.rlim_cur;
    return limit > used ? limit - used : 0;
}

static void take_least(capacity *c, int64_t room, const char *what)
{
    if (room >= 0 && room < c->mem_bytes) {
        c->mem_bytes = room;
        c->mem_what = what;
    }
}

int capacity_measure(capacity *c, int base_fds)
{
    struct rlimit rl;
    c->fd_users = c->nofile = INT64_MAX;
    c->mem_bytes = INT64_MAX;
    c->mem_what = "no limit";
    if (base_fds < 0) {
        base_fds = capacity_open_fds();
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && base_fds >= 0) {
        c->nofile = (int64_t)rl.rlim_cur;
        int64_t free_fds = c->nofile - base_fds - CAPACITY_FD_RESERVE;
        c->fd_users = free_fds > 0 ? free_fds : 0;
    }
    take_least(c, read_key("/proc/meminfo", "MemAvailable:", 1024), "MemAvailable");
    take_least(c, cgroup_room(), "the cgroup's memory limit");
    take_least(c, rlimit_room(RLIMIT_AS, "VmSize:"), "the address-space limit, RLIMIT_AS");
    take_least(c, rlimit_room(RLIMIT_DATA, "VmData:"), "the data limit, RLIMIT_DATA");
    return c->fd_users == INT64_MAX && c->mem_bytes == INT64_MAX ? -1 : 0;
}

/* Users to add per class (into add[]), their sum and their bytes. */
static double users_to_add(size_t n, const int64_t *alive, const int64_t *target,
                           const double *user_bytes, double *add, double *kept, double *bytes)
{
    double extra = 0;
    *kept = *bytes = 0;
    for (size_t i = 0; i < n; i++) {
        add[i] = target[i] > alive[i] ? (double)target[i] - (double)alive[i] : 0;
        int64_t keep = target[i] < alive[i] ? target[i] : alive[i];
        *kept += keep > 0 ? (double)keep : 0;
        extra += add[i];
        *bytes += add[i] * user_bytes[i];
    }
    return extra;
}

/* The class whose share of room lost the largest fraction, among those
 * that still want users; -1 if none. */
static long largest_rest(size_t n, const int64_t *alive, const int64_t *target, const double *add,
                         double extra, int64_t room)
{
    long best = -1;
    double best_rest = -1;
    for (size_t i = 0; i < n; i++) {
        double share = add[i] / extra * (double)room;
        /* the fraction lost, less one for a class already given one more */
        double rest = share - (double)(target[i] - alive[i]);
        if (add[i] > (double)(target[i] - alive[i]) && rest > best_rest) {
            best = (long)i;
            best_rest = rest;
        }
    }
    return best;
}

/* Give each class floor(its share of room), then the rest by largest
 * remainder (as a proportional split is rounded). */
static void share_room(size_t n, const int64_t *alive, int64_t *target, const double *add,
                       double extra, int64_t room)
{
    int64_t left = room;
    for (size_t i = 0; i < n; i++) {
        if (add[i] > 0) {
            int64_t give = (int64_t)floor(add[i] / extra * (double)room);
            if (give > left) {
                give = left;
            }
            target[i] = alive[i] + give;
            left -= give;
        }
    }
    for (long i; left > 0 && (i = largest_rest(n, alive, target, add, extra, room)) >= 0; left--) {
        target[i]++;
    }
}

int capacity_fit(const capacity *c, size_t n, const int64_t *alive, int64_t *target,
                 const double *user_bytes, int64_t stopping, capacity_cut *cut)
{
    double *add = malloc((n ? n : 1) * sizeof *add), kept, bytes;
    if (!add) {
        return 0; /* user_new fails first, and says so */
    }
    double extra = users_to_add(n, alive, target, user_bytes, add, &kept, &bytes);
    if (extra <= 0) {
        free(add);
        return 0;
    }
    double per_user = bytes / extra;
    double fd_room =
        c->fd_users == INT64_MAX ? INFINITY : (double)c->fd_users - kept - (double)stopping;
    double mem_room = c->mem_bytes == INT64_MAX || per_user <= 0
                          ? INFINITY
                          : floor((double)c->mem_bytes * CAPACITY_MEM_SHARE / per_user);
    double room = fd_room < mem_room ? fd_room : mem_room;
    if (room >= extra) {
        free(add);
        return 0;
    }
    room = room > 0 ? floor(room) : 0;
    share_room(n, alive, target, add, extra, (int64_t)room);
    free(add);
    cut->asked = kept + extra >= 9.2e18 ? INT64_MAX : (int64_t)(kept + extra);
    cut->runs = (int64_t)kept + (int64_t)room;
    cut->by_fds = fd_room <= mem_room;
    cut->user_bytes = per_user;
    return 1;
}
