/*
 * busy.c - a test worker whose task {"ms": N} keeps the CPU busy for N ms without ever calling
 * swb_ctx_should_stop, like a plugin deep in a computation: it hears nothing while it runs.
 */
#include <msgpack.h>
#include <time.h>

#include "swb_plugin.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    long long ms = 0;
    if (msgpack_unpack_next(&u, task->body, task->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 1 &&
        u.data.via.map.ptr[0].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        ms = (long long)u.data.via.map.ptr[0].val.via.u64;
    msgpack_unpacked_destroy(&u);
    volatile unsigned long spins = 0;
    for (long long end = now_ms() + ms; now_ms() < end;)
        spins++;
    return swb_ctx_reply(ctx, task->body, task->len);
}

static const swb_plugin_t busy = {.abi = SWB_PLUGIN_ABI, .name = "busy", .handle_task = handle};

SWB_PLUGIN_EXPORT(busy)
