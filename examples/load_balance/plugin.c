/*
 * plugin.c - the worker of examples/load_balance, serving "work": each task sleeps a little,
 * standing in for real work, and answers {"worker": its name}. A worker whose name contains
 * "slow" sleeps ten times longer, so one plugin gives the example both a fast and a slow
 * worker. Capacity 1 (the default): a worker runs one task at a time.
 */
#include <string.h>
#include <time.h>

#include "swb_body.h"
#include "swb_plugin.h"

#define FAST_MS 2
#define SLOW_MS 20

static int work_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    int ms = strstr(swb_ctx_name(ctx), "slow") ? SLOW_MS : FAST_MS;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&ts, NULL);

    return swb_reply_str(ctx, "worker", swb_ctx_name(ctx));
}

static const char *const services[] = {"work", NULL};

static const swb_plugin_t load_balance = {
    .abi = SWB_PLUGIN_ABI,
    .name = "load_balance",
    .services = services,
    .handle_task = work_task,
};

SWB_PLUGIN_EXPORT(load_balance)
