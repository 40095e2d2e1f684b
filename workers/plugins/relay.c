/*
 * relay.c - the relay plugin: forwards a body, unchanged, to the target the body names.
 *
 *   {"to": "peer-name", ...}  -> swb_ctx_send to that peer (or "parent")
 *   {"group": "service", ...} -> swb_ctx_send_group to every peer serving that service
 *   {"all": true, ...}        -> swb_ctx_broadcast to every peer but this relay
 *
 * The first of these keys present wins. As a message (on_message) the body is forwarded
 * with this relay as the sender; as a task it is forwarded the same way and the task is
 * answered {"relayed": true}, or failed with the send's error code.
 *
 * Because the body goes on unchanged, it still names a target when it reaches the next peer,
 * so relays could bounce it between them for ever (two relays and "all", or an echo worker
 * sending it straight back). Each relay therefore remembers what it forwarded in the last
 * second and drops a message it sees again in that window; a relay never forwards "to"
 * itself. Bad messages are logged, not answered: an error reply sent to another relay or to
 * an echo worker would itself start a loop.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swb_body.h"
#include "swb_plugin.h"
#include "switchboard.h"

#define SEEN_SLOTS     64
#define SEEN_WINDOW_MS 1000

typedef struct {
    pthread_mutex_t lock; /* handle_task and on_message may overlap with capacity > 1 */
    struct {
        uint64_t hash;
        int64_t at_ms;
    } seen[SEEN_SLOTS];
    unsigned next;
} relay_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Whether this body was forwarded within the window; records it either way. */
static int relay_seen(relay_t *r, const void *body, size_t len)
{
    uint64_t h = fnv1a(body, len);
    int64_t now = now_ms();
    int seen = 0;
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < SEEN_SLOTS && !seen; i++)
        seen = r->seen[i].at_ms && r->seen[i].hash == h && now - r->seen[i].at_ms < SEEN_WINDOW_MS;
    r->seen[r->next].hash = h;
    r->seen[r->next].at_ms = now ? now : 1;
    r->next = (r->next + 1) % SEEN_SLOTS;
    pthread_mutex_unlock(&r->lock);
    return seen;
}

/* Forward `body` to the target it names. Returns 0 or a code with *why. */
static int relay_forward(swb_ctx_t *ctx, const void *body, size_t len, const char **why)
{
    swb_body_t in;
    int rc = swb_body_open(&in, body, len);
    /* A body that is msgpack but not a map names no target, like a map without the keys. */
    if (rc && rc != SWB_E_BAD_TYPE) {
        *why = swb_body_errmsg(&in);
        return rc;
    }
    char name[SWB_NAME_MAX + 1];
    int all = 0;
    *why = "expected {to: peer}, {group: service} or {all: true}";
    rc = SWB_E_INVALID;
    if (swb_body_has(&in, "to")) {
        if (swb_body_strcpy(&in, "to", name, sizeof name) == 0 && name[0]) {
            const char *me = swb_ctx_name(ctx);
            if (me && strcmp(name, me) == 0)
                *why = "a relay cannot forward to itself";
            else if ((rc = swb_ctx_send(ctx, name, body, len)) != 0)
                *why = swb_strerror(rc);
        }
    } else if (swb_body_has(&in, "group")) {
        if (swb_body_strcpy(&in, "group", name, sizeof name) == 0 && name[0] &&
            (rc = swb_ctx_send_group(ctx, name, body, len)) != 0)
            *why = swb_strerror(rc);
    } else if (swb_body_bool(&in, "all", &all) == 0 && all) {
        if ((rc = swb_ctx_broadcast(ctx, body, len)) != 0)
            *why = swb_strerror(rc);
    }
    return rc;
}

static int relay_init(swb_ctx_t *ctx, void **state)
{
    relay_t *r = calloc(1, sizeof *r);
    if (!r)
        return SWB_E_NOMEM;
    if (pthread_mutex_init(&r->lock, NULL)) {
        free(r);
        return SWB_E_SYS;
    }
    *state = r;
    return 0;
}

static void relay_fini(void *state)
{
    relay_t *r = state;
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static int relay_task(swb_ctx_t *ctx, void *state, const swb_task_t *task)
{
    const char *why;
    /* A task is an explicit request, so it is never dropped as a repeat; it is recorded so
     * that the copy coming back as a message is recognised. */
    relay_seen(state, task->body, task->len);
    int rc = relay_forward(ctx, task->body, task->len, &why);
    if (rc)
        return swb_ctx_fail(ctx, rc, why);
    return swb_reply_bool(ctx, "relayed", 1);
}

static void relay_message(swb_ctx_t *ctx, void *state, const char *from, const void *body,
                          size_t len)
{
    const char *why;
    if (relay_seen(state, body, len)) {
        swb_log(SWB_LOG_DEBUG, "relay: dropped a repeat from %s (a forwarding loop)", from);
        return;
    }
    int rc = relay_forward(ctx, body, len, &why);
    if (rc)
        swb_log(SWB_LOG_WARN, "relay: message from %s not forwarded: %s", from, why);
}

static const swb_plugin_t relay = {
    .abi = SWB_PLUGIN_ABI,
    .name = "relay",
    .init = relay_init,
    .handle_task = relay_task,
    .on_message = relay_message,
    .fini = relay_fini,
};

SWB_PLUGIN_EXPORT(relay)
