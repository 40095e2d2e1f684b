/*
 * versioned.c - a test worker built twice, as versioned.so (PLUGIN_VERSION 1) and
 * versioned2.so (2): serves "versioned" and answers {"version": N}, so a test can tell which
 * build a reload loaded.
 */
#include "swb_plugin.h"

#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION 1
#endif

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    /* {"version": N} with N a positive fixint */
    const unsigned char out[] = {0x81, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', PLUGIN_VERSION};
    return swb_ctx_reply(ctx, out, sizeof out);
}

static const swb_plugin_t versioned = {
    .abi = SWB_PLUGIN_ABI, .name = "versioned", .handle_task = handle};

SWB_PLUGIN_EXPORT(versioned)
