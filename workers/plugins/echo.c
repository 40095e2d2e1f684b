/*
 * echo.c - the echo plugin: a task's answer is its own body, a message goes back to its
 * sender unchanged. The smallest useful worker, used by tests and benchmarks to measure the
 * runtime rather than the work. It keeps no state, so any capacity is safe.
 */
#include "swb_plugin.h"
#include "switchboard.h"

static int echo_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    return swb_ctx_reply(ctx, task->body, task->len);
}

static void echo_message(swb_ctx_t *ctx, void *state, const char *from, const void *body,
                         size_t len)
{
    int rc = swb_ctx_send(ctx, from, body, len);
    if (rc)
        swb_log(SWB_LOG_WARN, "echo: cannot answer %s: %s", from, swb_strerror(rc));
}

static const swb_plugin_t echo = {
    .abi = SWB_PLUGIN_ABI,
    .name = "echo",
    .handle_task = echo_task,
    .on_message = echo_message,
};

SWB_PLUGIN_EXPORT(echo)
