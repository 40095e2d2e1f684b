/*
 * hog.c - a test worker that uses memory on request: a task {"mb": N} allocates N MiB,
 * touches every page (so it counts in RSS), keeps it, and answers {"held": total}.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "swb_plugin.h"

static char *volatile blocks[64];
static unsigned n_blocks;

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    static size_t held;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int64_t mb = 0;
    if (msgpack_unpack_next(&u, task->body, task->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 1 &&
        u.data.via.map.ptr[0].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        mb = (int64_t)u.data.via.map.ptr[0].val.via.u64;
    msgpack_unpacked_destroy(&u);
    if (mb <= 0 || mb > 4096)
        return swb_ctx_fail(ctx, SWB_E_INVALID, "expected {mb: 1..4096}");
    char *p = malloc((size_t)mb << 20);
    if (!p)
        return swb_ctx_fail(ctx, SWB_E_NOMEM, "out of memory");
    memset(p, 1, (size_t)mb << 20);
    /* Kept where the compiler can see it escape, or an optimising build drops the malloc
     * and the memset of memory nobody reads. Never freed: the point is to grow. */
    blocks[n_blocks++ % 64] = p;
    held += (size_t)mb;
    unsigned char out[16] = {
        0x81, 0xa4, 'h', 'e', 'l', 'd', 0xcd, (unsigned char)(held >> 8), (unsigned char)held};
    return swb_ctx_reply(ctx, out, 9);
}

static const swb_plugin_t hog = {.abi = SWB_PLUGIN_ABI, .name = "hog", .handle_task = handle};

SWB_PLUGIN_EXPORT(hog)
