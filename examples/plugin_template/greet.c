/*
 * greet.c - a worker plugin: the "greet" service answers {"name": N} with
 * {"hello": N, "pid": <pid of the worker>}. Rename it and put your work in greet_task.
 *
 * The same .so runs as a thread of the parent's process or as a process of its own (the
 * installed swb-worker loads it); the pid in the answer says which. It uses only the installed
 * headers: swb_body.h reads the body (checked, as it comes from the wire) and builds the answer.
 */
#define _POSIX_C_SOURCE 200809L /* getpid */

#include <unistd.h>

#include "swb_body.h"

static int greet_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    (void)state; /* greet keeps none: no init */
    swb_body_t in;
    const char *name;
    size_t len;
    if (swb_body_open(&in, task->body, task->len) || swb_body_str(&in, "name", &name, &len))
        return swb_ctx_fail(ctx, swb_body_error(&in), swb_body_errmsg(&in));
    swb_out_t out;
    swb_out_init(&out);
    swb_out_strn(&out, "hello", name, len);
    swb_out_int(&out, "pid", getpid());
    return swb_out_reply(ctx, &out); /* or the builder's error, as the task's */
}

static const swb_plugin_t greet = {
    .abi = SWB_PLUGIN_ABI,
    .name = "greet", /* also its service, as it lists no others */
    .handle_task = greet_task,
};

SWB_PLUGIN_EXPORT(greet)
