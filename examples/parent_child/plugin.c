/*
 * plugin.c - the child of examples/parent_child. On the message "start" from its parent it
 * sums 0..10000 and sends {"sum": 50005000, "pid": <its pid>} back to "parent", like a
 * Node child that answers `process.on('message')` with `process.send()`.
 *
 * "start" is recognised by comparing the bytes with the msgpack encoding of that string, so
 * nothing from the wire is decoded. Anything else gets {"error": ...} back rather than being
 * ignored, since a message has no other way to fail.
 */
#include <string.h>
#include <unistd.h>

#include "swb_body.h"
#include "swb_plugin.h"

static const unsigned char START[] = {0xa5, 's', 't', 'a', 'r', 't'}; /* msgpack "start" */

static void on_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    if (len != sizeof START || memcmp(body, START, sizeof START) != 0) {
        swb_send_error(ctx, from, "expected the string \"start\"");
        return;
    }
    int64_t sum = 0;
    for (int64_t i = 0; i <= 10000; i++)
        sum += i;

    swb_out_t o;
    swb_out_init(&o);
    swb_out_int(&o, "sum", sum);
    swb_out_int(&o, "pid", getpid());
    swb_out_send(ctx, "parent", &o);
}

static const swb_plugin_t child = {
    .abi = SWB_PLUGIN_ABI,
    .name = "parent_child",
    .on_message = on_message,
};

SWB_PLUGIN_EXPORT(child)
