/*
 * plugin.c - the worker of examples/parallel_sum, serving "sum" like the built-in sum plugin
 * for ranges: {"from": m, "to": n} -> {"sum": m + ... + n}, and it also says who computed
 * it ({"worker": its name, "pid": its pid}) so the example can show the work was spread.
 * It adds the numbers one by one on purpose: it stands in for real work.
 */
#include <unistd.h>

#include "swb_body.h"
#include "swb_plugin.h"

#define MAX_TERMS 100000000 /* keeps the loop short and the sum inside int64 */

static int sum_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    swb_body_t in;
    int64_t from = 0, to = -1;
    int rc = swb_body_open(&in, task->body, task->len);
    if (rc && rc != SWB_E_BAD_TYPE) /* not msgpack, or over the size limit */
        return swb_ctx_fail(ctx, rc, swb_body_errmsg(&in));
    if (swb_body_i64(&in, "from", &from) || swb_body_i64(&in, "to", &to) || from < 0 ||
        to < from - 1 || to - from >= MAX_TERMS)
        return swb_ctx_fail(ctx, SWB_E_INVALID, "expected {from: m, to: n}, 0 <= m, n - m < 1e8");

    int64_t sum = 0;
    for (int64_t i = from; i <= to; i++)
        sum += i;

    swb_out_t o;
    swb_out_init(&o);
    swb_out_int(&o, "sum", sum);
    swb_out_str(&o, "worker", swb_ctx_name(ctx));
    swb_out_int(&o, "pid", getpid());
    return swb_out_reply(ctx, &o);
}

static const char *const services[] = {"sum", NULL};

static const swb_plugin_t parallel_sum = {
    .abi = SWB_PLUGIN_ABI,
    .name = "parallel_sum",
    .services = services,
    .handle_task = sum_task,
};

SWB_PLUGIN_EXPORT(parallel_sum)
