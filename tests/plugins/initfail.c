/*
 * initfail.c - a test worker whose init refuses to start (bad_value), as a plugin whose
 * configuration is wrong would: it must be given up, not restarted like a crash.
 */
#include "swb_plugin.h"

static int init(swb_ctx_t *ctx, void **state)
{
    (void)ctx;
    (void)state;
    return SWB_E_BAD_VALUE;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    (void)state;
    return swb_ctx_reply(ctx, task->body, task->len);
}

static const swb_plugin_t initfail = {
    .abi = SWB_PLUGIN_ABI, .name = "initfail", .init = init, .handle_task = handle};

SWB_PLUGIN_EXPORT(initfail)
