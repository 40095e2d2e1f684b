/*
 * fib.c - the fib plugin: {"n": N} -> {"fib": F(N)} (F(0) = 0, F(1) = 1).
 * For N <= 40 it uses the naive doubly recursive definition on purpose: it is CPU-bound
 * work of a known, tunable cost (F(30) ~ 2.7 M calls, F(40) ~ 330 M), which is what
 * benchmarks of dispatch over threads and processes need. Above 40 that would take minutes,
 * so it iterates. F(92) is the largest that fits int64; N outside 0..92 fails as invalid.
 * Long recursions check swb_ctx_should_stop now and then and end as SWB_E_CANCELLED.
 */
#include <stdint.h>

#include "swb_body.h"
#include "swb_plugin.h"

#define NAIVE_MAX 40
#define FIB_MAX   92

/* Deliberately naive. Checks for a stop at subtrees of n >= 25 (~100 k calls each), which
 * is rare enough to cost nothing and frequent enough to stop within a millisecond or so. */
static uint64_t fib_naive(int n, swb_ctx_t *ctx, int *stopped)
{
    if (n < 2)
        return (uint64_t)n;
    if (n >= 25 && (*stopped || (*stopped = swb_ctx_should_stop(ctx) != 0)))
        return 0;
    return fib_naive(n - 1, ctx, stopped) + fib_naive(n - 2, ctx, stopped);
}

static uint64_t fib_iter(int n)
{
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static int fib_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    swb_body_t in;
    int rc = swb_body_open(&in, task->body, task->len);
    int64_t n = -1;
    if (rc && rc != SWB_E_BAD_TYPE) /* not msgpack, or over the size limit */
        return swb_ctx_fail(ctx, rc, swb_body_errmsg(&in));
    if (swb_body_i64(&in, "n", &n) || n < 0 || n > FIB_MAX)
        return swb_ctx_fail(ctx, SWB_E_INVALID, "expected {n: 0..92}");

    int stopped = 0;
    uint64_t f = n <= NAIVE_MAX ? fib_naive((int)n, ctx, &stopped) : fib_iter((int)n);
    if (stopped)
        return swb_ctx_fail(ctx, SWB_E_CANCELLED, "stopped before the result was ready");
    return swb_reply_u64(ctx, "fib", f);
}

static const swb_plugin_t fib = {
    .abi = SWB_PLUGIN_ABI,
    .name = "fib",
    .handle_task = fib_task,
};

SWB_PLUGIN_EXPORT(fib)
