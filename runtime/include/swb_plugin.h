/*
 * swb_plugin.h - the worker plugin ABI.
 *
 * A plugin is a shared object exporting `swb_plugin_descriptor()`, which returns a static
 * descriptor. The worker host (swb-worker, or a worker thread inside the broker's process)
 * loads it, checks `abi`, and calls it; the same .so runs as a thread or a process unchanged.
 * A plugin never sees ZeroMQ: it talks through the context it is given. swb_body.h reads
 * fields of task bodies and builds answers without msgpack-c.
 *
 * Growth: a later ABI adds fields only at the end of swb_plugin_t and raises SWB_PLUGIN_ABI.
 * A host loads plugins of every ABI from 1 to its own and reads only the fields their ABI had
 * (the rest count as absent), so a plugin keeps working with newer hosts unchanged; a plugin
 * built for a newer ABI than the host's, or with abi 0, is refused with SWB_E_ABI.
 *
 * Threading: the host calls init and fini once, from one thread. handle_task and on_message
 * run on the host's executor threads; with capacity 1 (the default) they never overlap, with
 * capacity N up to N calls run at once and the plugin must be thread-safe.
 *
 *     static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
 *     {
 *         return swb_ctx_reply(ctx, task->body, task->len); // echo
 *     }
 *     static const swb_plugin_t echo = {.abi = SWB_PLUGIN_ABI, .name = "echo",
 *                                       .handle_task = handle};
 *     SWB_PLUGIN_EXPORT(echo)
 */
#ifndef SWB_PLUGIN_H
#define SWB_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "swb_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

#define SWB_PLUGIN_ABI 1

typedef struct swb_ctx swb_ctx_t;

typedef struct {
    uint64_t id;
    const char *service;
    const char *client;   /* name of the peer that submitted it */
    uint32_t attempt;     /* 1 on the first try, more when re-sent after a worker was lost */
    uint32_t deadline_ms; /* time left when it reached this worker; 0 = none */
    const void *body;     /* msgpack bytes (borrowed for the call) */
    size_t len;
} swb_task_t;

typedef struct {
    uint32_t abi;                /* SWB_PLUGIN_ABI it was built against */
    const char *name;            /* plugin name; also the service when `services` is NULL */
    const char *const *services; /* NULL-terminated list of services, or NULL */
    uint32_t capacity;           /* tasks at once; 0 = 1 */
    /* Optional. Set *state for the other calls; non-zero return refuses to start. */
    int (*init)(swb_ctx_t *ctx, void **state);
    /* Run a task; answer with swb_ctx_reply or swb_ctx_fail before returning. Returning
     * without an answer replies nil on 0, or fails the task with the returned code. */
    int (*handle_task)(swb_ctx_t *ctx, void *state, const swb_task_t *task);
    /* Optional. A message sent to this worker (by name, group or broadcast). */
    void (*on_message)(swb_ctx_t *ctx, void *state, const char *from, const void *body, size_t len);
    /* Optional. Called once when the host stops. */
    void (*fini)(void *state);
} swb_plugin_t;

typedef const swb_plugin_t *(*swb_plugin_descriptor_fn)(void);

/* The one symbol a plugin exports (SWB_PLUGIN_EXPORT defines it). */
const swb_plugin_t *swb_plugin_descriptor(void);

#define SWB_PLUGIN_EXPORT(desc)                                                                    \
    __attribute__((visibility("default"))) const swb_plugin_t *swb_plugin_descriptor(void)         \
    {                                                                                              \
        return &(desc);                                                                            \
    }

/* The swb_ctx_* calls take the context the host passed to the call they are made from, on
 * that call's thread: a context belongs to one executor thread. swb_ctx_should_stop may be
 * polled as often as wanted. */

/* Answer the current task with msgpack bytes (copied). A body over the broker's message size
 * limit (its max_msg_size) is not sent: the task is answered `too_large` instead, and this
 * returns SWB_E_TOO_LARGE. */
int swb_ctx_reply(swb_ctx_t *ctx, const void *body, size_t len);
/* Fail the current task with an error code and text. */
int swb_ctx_fail(swb_ctx_t *ctx, int code, const char *text);
/* Send msgpack bytes (copied) to a peer by name, or to "parent". Past the broker's message
 * size limit nothing is sent and this returns SWB_E_TOO_LARGE (so do the two below). */
int swb_ctx_send(swb_ctx_t *ctx, const char *to, const void *body, size_t len);
/* Send to every peer serving `service`. */
int swb_ctx_send_group(swb_ctx_t *ctx, const char *service, const void *body, size_t len);
/* Send to every peer but this worker. */
int swb_ctx_broadcast(swb_ctx_t *ctx, const void *body, size_t len);
/* Report this worker's load in permille (0..1000); the broker prefers less loaded workers. */
void swb_ctx_set_load(swb_ctx_t *ctx, uint32_t permille);
/* This worker's name and its parent's (empty when it has none). */
const char *swb_ctx_name(const swb_ctx_t *ctx);
const char *swb_ctx_parent(const swb_ctx_t *ctx);
/* The worker's configuration, like Node's workerData: the msgpack value its parent gave
 * (swb_spawn_opts_t.config, swb_pool_opts_t.config, `swb worker --config`, SWB_CONFIG for
 * swb-worker), or nil (the one byte 0xc0) when none was. *body stays valid until the host
 * stops (after fini), so init may keep the pointer; it is the same on every start of the worker
 * (restarts, reload, scale). Any context of the worker, init's included. Returns SWB_OK, or
 * SWB_E_INVALID on NULL arguments. */
int swb_ctx_config(const swb_ctx_t *ctx, const void **body, size_t *len);
/* Non-zero when the current task was cancelled or the worker is stopping: long tasks should
 * check it and return early. */
int swb_ctx_should_stop(const swb_ctx_t *ctx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
