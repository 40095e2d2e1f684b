/*
 * crashy.c - a test worker that crashes: a worker whose name contains "loop" aborts 100 ms
 * after it starts, so that under supervision it crash-loops; every worker aborts on any task,
 * so a task sent to it is a "poison" task. (Configured by name, not the environment, since
 * the broker's other threads read the environment while tests run.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swb_plugin.h"

static void *bomb(void *arg)
{
    long ms = (long)(intptr_t)arg;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    abort();
}

static int init(swb_ctx_t *ctx, void **state)
{
    long ms = strstr(swb_ctx_name(ctx), "loop") ? 100 : 0;
    if (ms > 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, bomb, (void *)(intptr_t)ms) != 0)
            return -1;
        pthread_detach(t);
    }
    return 0;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    abort();
}

static const swb_plugin_t crashy = {
    .abi = SWB_PLUGIN_ABI, .name = "crashy", .init = init, .handle_task = handle};

SWB_PLUGIN_EXPORT(crashy)
