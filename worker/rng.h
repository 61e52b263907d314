/*
 * rng.h - seeding the generator behind lw_random and lw_uuid4 (lw.h).
 */
#ifndef LW_RNG_H
#define LW_RNG_H

/* Seed from the clock and the pid: one stream per process. */
void rng_seed(void);

#endif
