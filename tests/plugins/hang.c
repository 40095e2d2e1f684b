/*
 * hang.c - a test worker whose tasks never end and ignore cancellation, like a plugin stuck
 * in a loop: only killing the worker frees its slot.
 */
#include <time.h>

#include "swb_plugin.h"

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    for (;;) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static const swb_plugin_t hang = {.abi = SWB_PLUGIN_ABI, .name = "hang", .handle_task = handle};

SWB_PLUGIN_EXPORT(hang)
