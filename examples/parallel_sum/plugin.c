/*
 * plugin.c - the worker of examples/parallel_sum, serving "sum" like the built-in sum plugin
 * for ranges: {"from": m, "to": n} -> {"sum": m + ... + n}, and it also says who computed
 * it ({"worker": its name, "pid": its pid}) so the example can show the work was spread.
 * It adds the numbers one by one on purpose: it stands in for real work.
 */
#include <unistd.h>

#include "../../workers/plugin_util.h"
#include "swb_plugin.h"

#define MAX_TERMS 100000000 /* keeps the loop short and the sum inside int64 */

static int sum_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = pu_unpack(task->body, task->len, &u);
    int64_t from = 0, to = -1;
    if (rc == 0 && (pu_get_i64(pu_map_get(&u.data, "from"), &from) ||
                    pu_get_i64(pu_map_get(&u.data, "to"), &to) || from < 0 || to < from - 1 ||
                    to - from >= MAX_TERMS))
        rc = SWB_E_INVALID;
    msgpack_unpacked_destroy(&u);
    if (rc == SWB_E_INVALID)
        return swb_ctx_fail(ctx, rc, "expected {from: m, to: n}, 0 <= m, n - m < 1e8");
    if (rc)
        return swb_ctx_fail(ctx, rc, pu_unpack_text(rc));

    int64_t sum = 0;
    for (int64_t i = from; i <= to; i++)
        sum += i;

    pu_out_t o;
    pu_out_init(&o);
    rc = msgpack_pack_map(&o.pk, 3) || pu_pack_str(&o.pk, "sum") ||
                 msgpack_pack_int64(&o.pk, sum) || pu_pack_str(&o.pk, "worker") ||
                 pu_pack_str(&o.pk, swb_ctx_name(ctx)) || pu_pack_str(&o.pk, "pid") ||
                 msgpack_pack_int64(&o.pk, getpid())
             ? swb_ctx_fail(ctx, SWB_E_NOMEM, "out of memory")
             : swb_ctx_reply(ctx, o.sb.data, o.sb.size);
    pu_out_destroy(&o);
    return rc;
}

static const char *const services[] = {"sum", NULL};

static const swb_plugin_t parallel_sum = {
    .abi = SWB_PLUGIN_ABI,
    .name = "parallel_sum",
    .services = services,
    .handle_task = sum_task,
};

SWB_PLUGIN_EXPORT(parallel_sum)
