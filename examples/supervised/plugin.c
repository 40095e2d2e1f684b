/*
 * The worker of examples/supervised: serves "work" — a task {"n": N} is answered with
 * {"n": N, "pid": <this process>} — and crashes (abort) when it is sent the message "crash",
 * so the example can show the supervisor restarting it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swb_body.h"
#include "swb_plugin.h"

static int work(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    swb_body_t in;
    int64_t n = 0;
    int rc = swb_body_open(&in, task->body, task->len);
    if (rc == SWB_OK || rc == SWB_E_BAD_TYPE) /* a map without "n", or no map: invalid */
        rc = swb_body_i64(&in, "n", &n) ? SWB_E_INVALID : SWB_OK;
    if (rc)
        return swb_ctx_fail(ctx, rc, "expected {n: integer}");
    swb_out_t o;
    swb_out_init(&o);
    swb_out_int(&o, "n", n);
    swb_out_int(&o, "pid", getpid());
    return swb_out_reply(ctx, &o);
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
