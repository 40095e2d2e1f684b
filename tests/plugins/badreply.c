/*
 * badreply.c - a test worker that answers with bytes that are not one msgpack value when
 * asked: a task whose body is the string "garbage" is answered with a never-used msgpack byte,
 * "trailing" with a value followed by a stray byte, "truncated" with a str8 cut short; any
 * other body is echoed back (a good reply).
 */
#include <string.h>

#include "swb_plugin.h"

static int is_str(const swb_task_t *t, const char *s)
{
    size_t n = strlen(s);
    const unsigned char *b = t->body;
    return t->len == n + 1 && b[0] == (0xa0 | n) && memcmp(b + 1, s, n) == 0;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    (void)state;
    static const unsigned char garbage[] = {0xc1, 'x', 'y'};
    static const unsigned char trailing[] = {0x01, 0x02};
    static const unsigned char truncated[] = {0xd9, 0x10, 'a', 'b'};
    if (is_str(task, "garbage"))
        return swb_ctx_reply(ctx, garbage, sizeof garbage);
    if (is_str(task, "trailing"))
        return swb_ctx_reply(ctx, trailing, sizeof trailing);
    if (is_str(task, "truncated"))
        return swb_ctx_reply(ctx, truncated, sizeof truncated);
    return swb_ctx_reply(ctx, task->body, task->len);
}

static const swb_plugin_t badreply = {
    .abi = SWB_PLUGIN_ABI, .name = "badreply", .handle_task = handle};

SWB_PLUGIN_EXPORT(badreply)
