/*
 * sleep.c - the sleep plugin: {"ms": N} waits N milliseconds, then answers {"slept": N}.
 * It stands in for slow work (I/O, a long computation) in tests of deadlines, cancellation,
 * draining and queueing. It sleeps in short slices and checks swb_ctx_should_stop between
 * them, so a cancelled task or a stopping worker ends within a slice (as SWB_E_CANCELLED).
 * Capacity 1: one sleep at a time per worker, so queueing behaviour is predictable.
 */
#include <stdint.h>
#include <time.h>

#include "swb_body.h"
#include "swb_plugin.h"

#define SLICE_MS  10
#define MAX_SLEEP (24 * 3600 * 1000LL) /* a day; more is surely a mistake */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sleep_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    swb_body_t in;
    int rc = swb_body_open(&in, task->body, task->len);
    int64_t ms = -1;
    if (rc && rc != SWB_E_BAD_TYPE) /* not msgpack, or over the size limit */
        return swb_ctx_fail(ctx, rc, swb_body_errmsg(&in));
    if (swb_body_i64(&in, "ms", &ms) || ms < 0 || ms > MAX_SLEEP)
        return swb_ctx_fail(ctx, SWB_E_INVALID, "expected {ms: 0..86400000}");

    /* Against a deadline rather than by adding up slices, so wake-up latency does not add. */
    int64_t end = now_ms() + ms;
    for (int64_t left = ms; left > 0; left = end - now_ms()) {
        if (swb_ctx_should_stop(ctx))
            return swb_ctx_fail(ctx, SWB_E_CANCELLED, "stopped before the sleep ended");
        int64_t slice = left < SLICE_MS ? left : SLICE_MS;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000L};
        nanosleep(&ts, NULL);
    }
    return swb_reply_i64(ctx, "slept", ms);
}

static const swb_plugin_t sleep_plugin = {
    .abi = SWB_PLUGIN_ABI,
    .name = "sleep",
    .capacity = 1,
    .handle_task = sleep_task,
};

SWB_PLUGIN_EXPORT(sleep_plugin)
