/*
 * greet.c - a worker plugin: the "greet" service answers a name (a msgpack string) with
 * {"hello": name, "pid": <pid of the worker>}. Rename it and put your work in greet_task.
 *
 * The same .so runs as a thread of the parent's process or as a process of its own (the
 * installed swb-worker loads it); the pid in the answer says which. It uses only the installed
 * headers and msgpack-c.
 */
#define _POSIX_C_SOURCE 200809L /* getpid */

#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "swb_msgpack.h"
#include "swb_plugin.h"

static int greet_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    (void)state; /* greet keeps none: no init */
    /* Bodies come from the wire: swb_msgpack_unpack checks them before msgpack-c reads them. */
    msgpack_unpacked in;
    msgpack_unpacked_init(&in);
    int rc = swb_msgpack_unpack(task->body, task->len, &in);
    if (rc != SWB_OK || in.data.type != MSGPACK_OBJECT_STR) {
        msgpack_unpacked_destroy(&in);
        return swb_ctx_fail(ctx, SWB_E_BAD_TYPE, "greet: expected a name (a string)");
    }
    const msgpack_object_str name = in.data.via.str;

    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, 2) || msgpack_pack_str_with_body(&pk, "hello", 5) ||
        msgpack_pack_str_with_body(&pk, name.ptr, name.size) ||
        msgpack_pack_str_with_body(&pk, "pid", 3) || msgpack_pack_int64(&pk, getpid()))
        rc = swb_ctx_fail(ctx, SWB_E_NOMEM, "greet: out of memory");
    else
        rc = swb_ctx_reply(ctx, out.data, out.size);
    msgpack_sbuffer_destroy(&out);
    msgpack_unpacked_destroy(&in);
    return rc;
}

static const swb_plugin_t greet = {
    .abi = SWB_PLUGIN_ABI,
    .name = "greet", /* also its service, as it lists no others */
    .handle_task = greet_task,
};

SWB_PLUGIN_EXPORT(greet)
