/*
 * bad_abi.c - a test plugin that claims an ABI this host does not speak. The host must refuse
 * it before calling any of its functions (so handle_task aborting proves it was never run).
 */
#include <stdlib.h>

#include "swb_plugin.h"

static int never_called(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    abort();
}

static const swb_plugin_t bad_abi = {
    .abi = SWB_PLUGIN_ABI + 1,
    .name = "bad_abi",
    .handle_task = never_called,
};

SWB_PLUGIN_EXPORT(bad_abi)
