/*
 * crashy.c - a test worker that crashes: it aborts a short while after it starts
 * (SWB_TEST_CRASH_MS, default 100 ms), so that under supervision it crash-loops; and it
 * aborts on any task, so a task sent to it is a "poison" task.
 */
#include <pthread.h>
#include <stdlib.h>
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
    const char *v = getenv("SWB_TEST_CRASH_MS");
    long ms = v ? atol(v) : 100;
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
