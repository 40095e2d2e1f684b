/*
 * abi_zero.c - a test plugin whose descriptor was never given an ABI number (abi 0, as a
 * zeroed struct has). The host must refuse it, not guess a layout.
 */
#include "swb_plugin.h"

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    return swb_ctx_reply(ctx, task->body, task->len);
}

static const swb_plugin_t abi_zero = {
    .name = "abi_zero",
    .handle_task = handle,
};
SWB_PLUGIN_EXPORT(abi_zero)
