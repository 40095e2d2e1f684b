/*
 * util.c - small helpers: clock, string copies.
 *
 * Layer: common; uses: nothing; called by: every layer. Safe from any thread.
 */
#include <string.h>
#include <time.h>

#include "swbi.h"

#ifdef SWBI_TSAN
char swbi_tsan_sync;
#endif

int64_t swbi_now_ms(void)
{
    /* The coarse clock (a few ms of resolution) is plenty for heartbeats and deadlines and
     * costs a fraction of the precise one, which every message used to pay several times. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t swbi_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void swbi_str_copy(char *dst, size_t cap, swb_str_t s)
{
    if (!cap)
        return;
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}
