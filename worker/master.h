/*
 * master.h - the worker's side of Locust's master protocol: registration
 * (client_ready until ack), heartbeats, stats reports, spawn/stop/quit, and
 * re-registration after the master restarts or the link is lost.
 */
#ifndef LW_MASTER_H
#define LW_MASTER_H

#include <ev.h>

#include "cli.h"
#include "lw.h"

typedef struct master master;

/* Checks that the master host resolves. 0, or -1 with err filled. */
int master_check_host(const lw_config *cfg, char *err, size_t errlen);

/* Returns NULL with err filled (one line). */
master *master_new(struct ev_loop *loop, const lw_config *cfg, const lw_user_class *classes,
                   size_t nclasses, char *err, size_t errlen);
/* Start connecting; the loop then runs until shutdown. */
int master_start(master *m);
/* Begin a clean shutdown (signal): final stats, quit, exit. */
void master_shutdown(master *m);
/* Exit code once the loop has ended. */
int master_exit_code(const master *m);
void master_free(master *m);

#endif
