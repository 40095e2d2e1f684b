/*
 * speed.c - a test worker for load-aware dispatch: serves "work"; a worker whose name
 * contains "slow" takes 30 ms per task, any other 2 ms. The answer is the worker's name (a
 * msgpack string), so a test can count who ran what.
 */
#include <msgpack.h>
#include <string.h>
#include <time.h>

#include "swb_plugin.h"

static int work(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    const char *name = swb_ctx_name(ctx);
    long ms = strstr(name, "slow") ? 30 : 2;
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_str(&pk, strlen(name));
    msgpack_pack_str_body(&pk, name, strlen(name));
    int rc = swb_ctx_reply(ctx, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static const char *const services[] = {"work", NULL};
static const swb_plugin_t speed = {
    .abi = SWB_PLUGIN_ABI,
    .name = "speed",
    .services = services,
    .handle_task = work,
};

SWB_PLUGIN_EXPORT(speed)
