/*
 * seqcheck.c - a test plugin that checks message order.
 *
 * A message whose body is a msgpack uint32 (0xce + 4 bytes) is a sequence number: the first
 * must be 0 and each next one the previous plus one. Every SEQ_ACK_EVERY numbers it sends the
 * count received so far (a uint32) back to the sender, so the sender can keep a bounded
 * window in flight. The string "done" makes it answer {"count": n, "bad": m, "first_bad": k}
 * (bad = numbers that were not the expected one; first_bad = the first of them, or -1).
 * Capacity 1: on_message calls arrive one at a time in delivery order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swb_body.h"
#include "swb_plugin.h"
#include "switchboard.h"

#define SEQ_ACK_EVERY 1000

typedef struct {
    uint32_t expect, count, bad;
    int64_t first_bad;
} seq_t;

static int seq_init(swb_ctx_t *ctx, void **state)
{
    seq_t *s = calloc(1, sizeof *s);
    if (!s)
        return SWB_E_NOMEM;
    s->first_bad = -1;
    *state = s;
    return 0;
}

static void seq_fini(void *state)
{
    free(state);
}

static void put_u32(unsigned char *b, uint32_t v)
{
    b[0] = 0xce;
    b[1] = (unsigned char)(v >> 24);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 8);
    b[4] = (unsigned char)v;
}

static void seq_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    seq_t *s = state;
    const unsigned char *b = body;
    if (len == 5 && b[0] == 0xce) {
        uint32_t n = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
        if (n != s->expect) {
            if (s->first_bad < 0)
                s->first_bad = n;
            s->bad++;
        }
        s->expect = n + 1;
        if (++s->count % SEQ_ACK_EVERY == 0) {
            unsigned char ack[5];
            put_u32(ack, s->count);
            swb_ctx_send(ctx, from, ack, sizeof ack);
        }
        return;
    }
    if (len == 5 && memcmp(b,
                           "\xa4"
                           "done",
                           5) == 0) {
        swb_out_t o;
        swb_out_init(&o);
        swb_out_uint(&o, "count", s->count);
        swb_out_uint(&o, "bad", s->bad);
        swb_out_int(&o, "first_bad", s->first_bad);
        swb_out_send(ctx, from, &o);
        return;
    }
    swb_send_error(ctx, from, "seqcheck: expected a uint32 or \"done\"");
}

static const swb_plugin_t seqcheck = {
    .abi = SWB_PLUGIN_ABI,
    .name = "seqcheck",
    .capacity = 1,
    .init = seq_init,
    .on_message = seq_message,
    .fini = seq_fini,
};

SWB_PLUGIN_EXPORT(seqcheck)
