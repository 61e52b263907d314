/*
 * procinfo.h - this process's CPU use (percent of one core since the last
 * sample, rounded to one decimal like psutil's Process.cpu_percent) and
 * resident memory in bytes, for the heartbeat.
 */
#ifndef LW_PROCINFO_H
#define LW_PROCINFO_H

#include <stdint.h>

typedef struct {
    double last_cpu_s;  /* user+system CPU seconds at the last sample */
    double last_wall_s; /* monotonic seconds at the last sample */
} procinfo;

void procinfo_init(procinfo *p);
double procinfo_cpu_percent(procinfo *p);
/* Python's round(x, 1). */
double procinfo_round1(double x);
int64_t procinfo_rss_bytes(void);

/* Clocks: wall-clock epoch seconds and monotonic seconds. */
double now_epoch(void);
double now_mono(void);

#endif
