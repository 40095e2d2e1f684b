/*
 * The worker of examples/supervised: serves "work" — a task {"n": N} is answered with
 * {"n": N, "pid": <this process>} — and crashes (abort) when it is sent the message "crash",
 * so the example can show the supervisor restarting it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../workers/plugin_util.h"
#include "swb_plugin.h"

static int work(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t n = 0;
    int rc = pu_unpack(task->body, task->len, &u);
    if (rc == 0 && pu_get_i64(pu_map_get(&u.data, "n"), &n))
        rc = SWB_E_INVALID;
    msgpack_unpacked_destroy(&u);
    if (rc)
        return swb_ctx_fail(ctx, rc, "expected {n: integer}");
    pu_out_t o;
    pu_out_init(&o);
    rc = msgpack_pack_map(&o.pk, 2) || pu_pack_str(&o.pk, "n") || msgpack_pack_int64(&o.pk, n) ||
         pu_pack_str(&o.pk, "pid") || msgpack_pack_int64(&o.pk, getpid());
    rc = rc ? swb_ctx_fail(ctx, SWB_E_NOMEM, NULL) : swb_ctx_reply(ctx, o.sb.data, o.sb.size);
    pu_out_destroy(&o);
    return rc;
}

static void on_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    /* The msgpack string "crash": a5 'c' 'r' 'a' 's' 'h'. */
    if (len == 6 && memcmp(body,
                           "\xa5"
                           "crash",
                           6) == 0)
        abort();
}

static const char *const services[] = {"work", NULL};
static const swb_plugin_t supervised = {.abi = SWB_PLUGIN_ABI,
                                        .name = "supervised",
                                        .services = services,
                                        .handle_task = work,
                                        .on_message = on_message};

SWB_PLUGIN_EXPORT(supervised)
