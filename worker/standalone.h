/*
 * standalone.h - a run without a master (--headless without --worker):
 * this process plays the master's part for its own runner, as a Locust
 * headless run does.
 */
#ifndef LW_STANDALONE_H
#define LW_STANDALONE_H

#include <stddef.h>

#include "cli.h"
#include "lw.h"

/* Runs the test to its end (run time, signal) and returns the exit code:
 * 0, or cfg->exit_code_on_error when a request failed or an exception
 * was raised, or 1 when the run could not start. */
int standalone_run(const lw_config *cfg, const lw_user_class *classes, size_t nclasses);

#endif
