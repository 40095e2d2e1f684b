/*
 * bigreply.c - a test worker whose answers are as large as asked: a task {"n": N} is answered
 * with a msgpack bin of N bytes, and sends the same to its parent when {"send": N}. The reply
 * {"ret": code} follows a send, so the test sees what swb_ctx_send returned.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "swb_plugin.h"

/* The one key and its unsigned value of a one-entry map, or -1. */
static int64_t one_uint(const void *body, size_t len, char *key, size_t cap)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int64_t v = -1;
    if (msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 1 &&
        u.data.via.map.ptr[0].key.type == MSGPACK_OBJECT_STR &&
        u.data.via.map.ptr[0].key.via.str.size < cap &&
        u.data.via.map.ptr[0].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        msgpack_object_str k = u.data.via.map.ptr[0].key.via.str;
        memcpy(key, k.ptr, k.size);
        key[k.size] = '\0';
        v = (int64_t)u.data.via.map.ptr[0].val.via.u64;
    }
    msgpack_unpacked_destroy(&u);
    return v;
}

static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    char key[8];
    int64_t n = one_uint(task->body, task->len, key, sizeof key);
    if (n < 0 || n > (64 << 20))
        return swb_ctx_fail(ctx, SWB_E_INVALID, "expected {n: bytes} or {send: bytes}");
    unsigned char *b = malloc((size_t)n + 5);
    if (!b)
        return swb_ctx_fail(ctx, SWB_E_NOMEM, NULL);
    b[0] = 0xc6; /* bin32 */
    b[1] = (unsigned char)(n >> 24);
    b[2] = (unsigned char)(n >> 16);
    b[3] = (unsigned char)(n >> 8);
    b[4] = (unsigned char)n;
    memset(b + 5, 'x', (size_t)n);
    int rc;
    if (strcmp(key, "send") == 0) {
        int sent = swb_ctx_send(ctx, "parent", b, (size_t)n + 5);
        unsigned char out[] = {0x81, 0xa3, 'r', 'e', 't', 0xd0, (unsigned char)(int8_t)sent};
        rc = swb_ctx_reply(ctx, out, sizeof out);
    } else {
        rc = swb_ctx_reply(ctx, b, (size_t)n + 5);
    }
    free(b);
    return rc;
}

static const swb_plugin_t bigreply = {
    .abi = SWB_PLUGIN_ABI, .name = "bigreply", .handle_task = handle};

SWB_PLUGIN_EXPORT(bigreply)
