/*
 * plugin.c - the worker of examples/cluster_relay, serving the group "cluster".
 *
 * On "go" from its parent it greets the whole group with swb_ctx_send_group: the broker
 * hands the greeting to every other worker of "cluster" (never back to the sender). On a
 * greeting from another worker it tells its parent {"heard": <that worker's name>}; the
 * parent learns who heard it from the message's sender. Messages are told apart by comparing
 * bytes with the msgpack encodings of "go" and "hello", so nothing is decoded. As a task it
 * answers {"worker": its name}.
 */
#include <string.h>

#include "swb_body.h"
#include "swb_plugin.h"

static const unsigned char GO[] = {0xa2, 'g', 'o'};                   /* msgpack "go" */
static const unsigned char HELLO[] = {0xa5, 'h', 'e', 'l', 'l', 'o'}; /* msgpack "hello" */

static int is(const void *body, size_t len, const unsigned char *want, size_t n)
{
    return len == n && memcmp(body, want, n) == 0;
}

static void on_message(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len)
{
    if (is(body, len, GO, sizeof GO) && strcmp(from, swb_ctx_parent(ctx)) == 0) {
        swb_ctx_send_group(ctx, "cluster", HELLO, sizeof HELLO);
    } else if (is(body, len, HELLO, sizeof HELLO)) {
        swb_out_t o;
        swb_out_init(&o);
        swb_out_str(&o, "heard", from);
        swb_out_send(ctx, "parent", &o);
    } else {
        swb_send_error(ctx, from, "expected \"go\" from the parent or \"hello\"");
    }
}

/* A task answers {"worker": name}. Groups are the peers serving a service, and only a plugin
 * that handles tasks serves one, so this is also what makes the worker a member of "cluster". */
static int whoami_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    return swb_reply_str(ctx, "worker", swb_ctx_name(ctx));
}

static const char *const services[] = {"cluster", NULL};

static const swb_plugin_t cluster_relay = {
    .abi = SWB_PLUGIN_ABI,
    .name = "cluster_relay",
    .services = services,
    .handle_task = whoami_task,
    .on_message = on_message,
};

SWB_PLUGIN_EXPORT(cluster_relay)
