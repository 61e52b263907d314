/*
 * rng.c - the process's random numbers: lw_random and lw_uuid4 (lw.h),
 * from one xoshiro256** stream seeded by rng_seed.
 */
#include "rng.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lw.h"
#include "procinfo.h"

/* xoshiro256** seeded from the clock and pid; one stream per process. */
static uint64_t rng[4];

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    uint64_t r = rotl(rng[1] * 5, 7) * 9;
    uint64_t t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

void rng_seed(void)
{
    uint64_t s = (uint64_t)(now_epoch() * 1e9) ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        s += 0x9e3779b97f4a7c15ULL;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        rng[i] = z ^ (z >> 31);
    }
}

double lw_random(void)
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

void lw_uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rng_next(), b = rng_next();
    unsigned char bytes[16];
    memcpy(bytes, &a, 8);
    memcpy(bytes + 8, &b, 8);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }
        *p++ = hex[bytes[i] >> 4];
        *p++ = hex[bytes[i] & 15];
    }
    *p = '\0';
}
