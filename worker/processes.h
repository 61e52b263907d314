/*
 * processes.h - `--processes N`: N worker processes under one supervisor,
 * like `locust --worker --processes N`. Each child is a complete worker with
 * its own node id. The parent forwards SIGINT/SIGTERM to all children,
 * reports a child that dies without taking the others down, and exits when
 * every child has exited.
 */
#ifndef LW_PROCESSES_H
#define LW_PROCESSES_H

/* Runs child(arg) in n forked processes. Returns the exit code for the
 * parent: 0 when every child exited 0, else 1. */
int processes_run(int n, int (*child)(void *arg), void *arg);

#endif
