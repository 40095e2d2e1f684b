/*
 * spin.c - a test worker whose tasks burn CPU for ever and ignore cancellation: only a CPU
 * limit or a kill ends them.
 */
#include "swb_plugin.h"

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    volatile unsigned long n = 0;
    for (;;)
        n++;
    return 0;
}

static const swb_plugin_t spin = {.abi = SWB_PLUGIN_ABI, .name = "spin", .handle_task = handle};

SWB_PLUGIN_EXPORT(spin)
