/*
 * config_echo.c - a test worker that serves "config_echo" and answers every task with the
 * config it was started with (swb_ctx_config), as init saw it: nil when it was given none.
 */
#include <stdlib.h>
#include <string.h>

#include "swb_plugin.h"

typedef struct {
    void *config;
    size_t len;
} state_t;

static int init(swb_ctx_t *ctx, void **state)
{
    const void *body;
    size_t len;
    if (swb_ctx_config(ctx, &body, &len) != SWB_OK)
        return 1;
    /* Kept from init, not read per task: what a plugin configured by it would do. */
    state_t *s = malloc(sizeof *s);
    if (!s || !(s->config = malloc(len))) {
        free(s);
        return 1;
    }
    memcpy(s->config, body, len);
    s->len = len;
    *state = s;
    return 0;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    (void)task;
    state_t *s = state;
    return swb_ctx_reply(ctx, s->config, s->len);
}

static void fini(void *state)
{
    state_t *s = state;
    free(s->config);
    free(s);
}

static const swb_plugin_t config_echo = {.abi = SWB_PLUGIN_ABI,
                                         .name = "config_echo",
                                         .init = init,
                                         .handle_task = handle,
                                         .fini = fini};

SWB_PLUGIN_EXPORT(config_echo)
