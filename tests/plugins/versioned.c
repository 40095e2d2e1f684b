/*
 * versioned.c - a test worker built twice, as versioned.so (PLUGIN_VERSION 1) and
 * versioned2.so (2): serves "versioned" and answers {"version": N, "worker": its name}, so a
 * test can tell which build a reload loaded, and in which worker.
 */
#include <msgpack.h>
#include <string.h>

#include "swb_plugin.h"

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION 1
#endif

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    const char *name = swb_ctx_name(ctx);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "version", 7);
    msgpack_pack_int(&pk, PLUGIN_VERSION);
    msgpack_pack_str_with_body(&pk, "worker", 6);
    msgpack_pack_str_with_body(&pk, name, strlen(name));
    int rc = swb_ctx_reply(ctx, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static const swb_plugin_t versioned = {
    .abi = SWB_PLUGIN_ABI, .name = "versioned", .handle_task = handle};

SWB_PLUGIN_EXPORT(versioned)
