/*
 * sum.c - the sum plugin: {"a": x, "b": y} -> {"sum": x+y}, and {"from": m, "to": n} ->
 * {"sum": m + (m+1) + ... + n} (inclusive; an empty range, from > to, sums to 0). All in
 * int64; a sum outside int64 fails with SWB_E_INVALID rather than wrapping. The range uses
 * the closed form so a huge range costs nothing. A message gets the same answer, sent back
 * to its sender ({"error": text} when it cannot be computed). Stateless: any capacity is safe.
 */
#include <stdint.h>

#include "../plugin_util.h"
#include "swb_plugin.h"
#include "switchboard.h"

__extension__ typedef __int128 i128;

/* Sum the request in `body` into *sum; on failure return a code and set *why. */
static int sum_compute(const void *body, size_t len, int64_t *sum, const char **why)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = pu_unpack(body, len, &u);
    if (rc) {
        *why = pu_unpack_text(rc);
        msgpack_unpacked_destroy(&u);
        return rc;
    }
    const msgpack_object *m = &u.data;
    int64_t a, b;
    rc = SWB_E_INVALID;
    *why = "expected {a,b} or {from,to}";
    if (pu_get_i64(pu_map_get(m, "a"), &a) == 0 && pu_get_i64(pu_map_get(m, "b"), &b) == 0) {
        if (__builtin_add_overflow(a, b, sum))
            *why = "sum overflows int64";
        else
            rc = 0;
    } else if (pu_get_i64(pu_map_get(m, "from"), &a) == 0 &&
               pu_get_i64(pu_map_get(m, "to"), &b) == 0) {
        /* n terms averaging (a+b)/2; one factor is even, and |each| <= 2^64 keeps the product
         * inside int128. */
        i128 n = a > b ? 0 : (i128)b - a + 1, s = (i128)a + b;
        i128 total = n % 2 == 0 ? (n / 2) * s : n * (s / 2);
        if (total < INT64_MIN || total > INT64_MAX)
            *why = "sum overflows int64";
        else {
            *sum = (int64_t)total;
            rc = 0;
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

static int sum_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    int64_t sum;
    const char *why;
    int rc = sum_compute(task->body, task->len, &sum, &why);
    if (rc)
        return swb_ctx_fail(ctx, rc, why);
    return pu_reply_i64(ctx, "sum", sum);
}

static void sum_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    int64_t sum;
    const char *why;
    int rc = sum_compute(body, len, &sum, &why);
    if (rc == 0) {
        pu_out_t o;
        pu_out_init(&o);
        rc = pu_pack_kv_i64(&o.pk, "sum", sum);
        if (!rc)
            rc = swb_ctx_send(ctx, from, o.sb.data, o.sb.size);
        pu_out_destroy(&o);
    } else
        rc = pu_send_error(ctx, from, why);
    if (rc)
        swb_log(SWB_LOG_WARN, "sum: cannot answer %s: %s", from, swb_strerror(rc));
}

static const swb_plugin_t sum = {
    .abi = SWB_PLUGIN_ABI,
    .name = "sum",
    .handle_task = sum_task,
    .on_message = sum_message,
};

SWB_PLUGIN_EXPORT(sum)
