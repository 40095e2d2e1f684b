/*
 * sum.c - the sum plugin: {"a": x, "b": y} -> {"sum": x+y}, and {"from": m, "to": n} ->
 * {"sum": m + (m+1) + ... + n} (inclusive; an empty range, from > to, sums to 0). All in
 * int64; a sum outside int64 fails with SWB_E_INVALID rather than wrapping. The range uses
 * the closed form so a huge range costs nothing. A message gets the same answer, sent back
 * to its sender ({"error": text} when it cannot be computed). Stateless: any capacity is safe.
 */
#include <stdint.h>

#include "swb_body.h"
#include "swb_plugin.h"
#include "switchboard.h"

__extension__ typedef __int128 i128;

/* Sum the request in `body` into *sum; on failure return a code and set *why. */
static int sum_compute(const void *body, size_t len, int64_t *sum, const char **why)
{
    swb_body_t in;
    int rc = swb_body_open(&in, body, len);
    /* A body that is msgpack but not a map is answered like a map without the fields. */
    if (rc && rc != SWB_E_BAD_TYPE) {
        *why = swb_body_errmsg(&in);
        return rc;
    }
    int64_t a, b;
    rc = SWB_E_INVALID;
    *why = "expected {a,b} or {from,to}";
    if (swb_body_i64(&in, "a", &a) == 0 && swb_body_i64(&in, "b", &b) == 0) {
        if (__builtin_add_overflow(a, b, sum))
            *why = "sum overflows int64";
        else
            rc = 0;
    } else if (swb_body_i64(&in, "from", &a) == 0 && swb_body_i64(&in, "to", &b) == 0) {
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
    return rc;
}

static int sum_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    int64_t sum;
    const char *why;
    int rc = sum_compute(task->body, task->len, &sum, &why);
    if (rc)
        return swb_ctx_fail(ctx, rc, why);
    return swb_reply_i64(ctx, "sum", sum);
}

static void sum_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    int64_t sum;
    const char *why;
    int rc = sum_compute(body, len, &sum, &why);
    if (rc == 0) {
        swb_out_t o;
        swb_out_init(&o);
        swb_out_int(&o, "sum", sum);
        rc = swb_out_send(ctx, from, &o);
    } else
        rc = swb_send_error(ctx, from, why);
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
