/*
 * host_int.h - the worker host's state, shared by host.c (the I/O loop), executor.c (the
 * threads that run the plugin and the swb_ctx_* API) and plugin.c (loading).
 *
 * Layer: host; uses: peer, common. Private to runtime/host/. The queue is shared by the I/O
 * thread and the executors under `lock`; each swb_ctx_t belongs to its executor thread.
 */
#ifndef SWB_HOST_INT_H
#define SWB_HOST_INT_H

#include <pthread.h>

#include "peer_int.h"
#include "swb_plugin.h"

typedef enum { WORK_TASK = 1, WORK_MESSAGE = 2 } work_kind_t;

typedef struct work {
    work_kind_t kind;
    uint64_t id;
    uint32_t attempt, deadline_ms;
    char from[SWB_MAX_NAME + 1];
    char service[SWB_MAX_NAME + 1];
    zmq_msg_t body;    /* the frame that holds the body, */
    uint32_t body_off; /* which starts here in it (past the header when it came inline) */
    size_t body_len;
    struct work *next;
} work_t;

static inline const void *work_body(work_t *w)
{
    return (const char *)zmq_msg_data(&w->body) + w->body_off;
}

typedef struct host host_t;

struct swb_ctx {
    host_t *host;
    int index;
    void *push; /* to the I/O thread, which forwards to the broker */
    pthread_t thread;
    uint64_t cur_id; /* task running now, 0 when none (atomic) */
    uint32_t cur_attempt;
    int replied;
    uint64_t cancel_id; /* atomic: the task id a CANCEL named; it is cancelled when it is
                           cur_id (an id, not a flag, so a CANCEL racing with the end of
                           one task cannot cancel the next) */
    uint64_t next_id;
};

struct host {
    swb_peer_t *peer;
    const swb_plugin_t *desc; /* desc_copy */
    swb_plugin_t desc_copy;   /* the plugin's descriptor, as much as its ABI has */
    void *dl;
    void *state;
    char outbox[64]; /* inproc endpoint the executors push to */
    void *pull;
    swb_ctx_t *ctxs;
    uint32_t capacity;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    work_t *head, *tail;
    work_t *spare; /* finished items kept for reuse (under lock) */
    uint32_t n_spare;
    size_t queued;
    size_t queued_bytes; /* bodies waiting: with queued, what full() limits */
    int closing;         /* executors stop taking work (under lock) */
    int stopping;        /* atomic: the host is shutting down */
    uint32_t load;
    /* Inline mode (capacity 1): the I/O thread runs the plugin itself, saving two thread
     * hand-offs per task; while a task runs, swb_ctx_should_stop lets it read the socket. */
    int inline_mode;
    int draining, bye, failed;
    const swb_host_opts_t *opts;
    int64_t last_pump_ms;
    swb_msg_t in; /* the message being read (zeroed once: a fresh one per task cost a memset) */
};

/* The queue's lock. Inline mode has one thread, so nothing to lock (four lock pairs per task
 * otherwise). */
static inline void host_lock(host_t *h)
{
    if (!h->inline_mode)
        pthread_mutex_lock(&h->lock);
}

static inline void host_unlock(host_t *h)
{
    if (!h->inline_mode)
        pthread_mutex_unlock(&h->lock);
}

/* Load and check a plugin, and copy its descriptor into *desc: as many bytes as its ABI's
 * layout has, the rest zeroed, so fields added by a later ABI read as absent for an older
 * plugin. Returns SWB_OK, SWB_E_PLUGIN or SWB_E_ABI (with a log line). */
int plugin_load(const char *path, void **dl, swb_plugin_t *desc);

/* Start / join the executor threads. */
int executor_start(host_t *h);
void executor_join(host_t *h);
/* The host reads no more from the broker while this much waits, so ZeroMQ's high-water mark
 * pushes back (senders are told `unreachable`) instead of the queue growing without bound:
 * for a worker thread that memory would be the broker's own process. */
#define HOST_QUEUE_MAX       10000
#define HOST_QUEUE_MAX_BYTES (64u << 20)
int executor_full(host_t *h);
/* Queue work for the executors (takes ownership of w). */
void executor_push(host_t *h, work_t *w);
/* Mark the running task `id` cancelled; returns 1 if it was running. Removes it from the
 * queue instead when still queued (returns 2; the caller answers it). */
int executor_cancel(host_t *h, uint64_t id);
/* Work items are reused rather than allocated per task. */
#define HOST_SPARE_WORK 64
work_t *work_alloc(host_t *h);
void work_free(host_t *h, work_t *w);
/* Inline mode: run one queued item in this thread; returns 0 when the queue was empty. */
int executor_run_one(host_t *h);
/* Inline mode: read what the broker sent (cancel, drain, bye, more work) and heartbeat, from
 * inside a running task. Rate-limited; never blocks. */
void host_pump(host_t *h);

#endif
