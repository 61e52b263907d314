/*
 * capacity.h - how many users this process can hold, so that a master
 * asking for millions does not drive it out of file descriptors or into
 * the OOM killer.
 *
 * Open files: each user holds its own connection, so one file descriptor
 * per user, out of RLIMIT_NOFILE less what the process holds when no user
 * runs and a reserve of CAPACITY_FD_RESERVE (ZeroMQ, libev, libcurl, the
 * resolver, a user's redirect to another host). At start the soft limit is
 * raised to the hard one (at most 1,048,576), as Locust raises it.
 *
 * Memory: a per-user estimate (CAPACITY_CURL_USER_BYTES or
 * CAPACITY_FAST_USER_BYTES by the class's client, plus its user_data_size)
 * against CAPACITY_MEM_SHARE of the memory still available: the least of
 * MemAvailable (/proc/meminfo), the cgroup's limit less its usage (v2
 * memory.max, v1 memory.limit_in_bytes), RLIMIT_AS less the address space
 * in use and RLIMIT_DATA less the data in use. The estimates are about twice
 * the RSS per user measured by `make bench` (23 KB for libcurl users, 3 KB
 * for the fast client's), to leave room for kernel socket buffers and
 * response bodies.
 */
#ifndef LW_CAPACITY_H
#define LW_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#define CAPACITY_FD_RESERVE 32
#define CAPACITY_CURL_USER_BYTES (48 * 1024)
#define CAPACITY_FAST_USER_BYTES (16 * 1024)
#define CAPACITY_MEM_SHARE 0.8
#define CAPACITY_NOFILE_MAX 1048576

/* Raise the soft RLIMIT_NOFILE toward the hard one. */
void capacity_raise_nofile(void);

typedef struct {
    int64_t fd_users;     /* users the open-file limit allows, in all */
    int64_t nofile;       /* the soft RLIMIT_NOFILE */
    int64_t mem_bytes;    /* memory still available to this process */
    const char *mem_what; /* which limit gave mem_bytes */
} capacity;

/*
 * Measure now. base_fds: open file descriptors when no user runs (-1:
 * count them now). Returns 0, or -1 when nothing could be measured (then
 * no bound applies: fd_users and mem_bytes are INT64_MAX).
 */
int capacity_measure(capacity *c, int base_fds);
/* Open file descriptors of this process now, or -1. */
int capacity_open_fds(void);

typedef struct {
    int64_t asked;     /* users the master asked for, in all */
    int64_t runs;      /* users the worker will run */
    int by_fds;        /* the open-file limit bound it (else memory) */
    double user_bytes; /* the mean estimate per added user */
} capacity_cut;

/*
 * Fit the per-class targets (absolute, from the master) to what c allows:
 * users kept (min of alive and target) stay; the users to add are cut, in
 * proportion to each class's share of them, to the room left by the kept
 * and the `stopping` users (file descriptors) and by the memory (at
 * user_bytes[i] per user of class i). Returns 1 with *cut filled if the
 * targets were lowered, else 0.
 */
int capacity_fit(const capacity *c, size_t n, const int64_t *alive, int64_t *target,
                 const double *user_bytes, int64_t stopping, capacity_cut *cut);

#endif
