/*
 * child_ops.h - one table of operations per kind of child. The supervisor keeps the records
 * and the restart policy; how a child is started, watched, signalled and reaped is the table's.
 *
 * Layer: supervise; implemented by: child_process.c here (fork/exec of swb-worker) and, for
 * worker threads, the layer above (embed/thread_child.c, which runs the worker host): the
 * supervisor never links the host. A table must set every hook but rss_mb.
 *
 * Every hook is called on the supervisor's thread (the broker's loop), must not block unless
 * it says so, and must not call supervisor_* back.
 */
#ifndef SWB_CHILD_OPS_H
#define SWB_CHILD_OPS_H

#include <stdint.h>

#include "supervisor.h"

/* What to start. Strings are borrowed for the call. */
typedef struct {
    const char *name, *parent;
    const char *plugin; /* resolved path */
    const char *plugin_dir;
    const char *inproc;     /* the broker's endpoint for peers in this process */
    const char *endpoint;   /* its endpoint for other processes (ipc or tcp), or "" */
    void *zmq_ctx;          /* the broker's context (threads share it for inproc) */
    const char *worker_exe; /* processes: the swb-worker to exec */
    uint32_t capacity;      /* 0: the plugin's own */
    uint32_t cpu_limit_s;   /* 0: none */
    int wake_fd;            /* write a byte here when the child ends (threads), or -1 */
    const void *config;     /* the plugin's config (msgpack), or NULL; borrowed: a child that
                               outlives the call copies it */
    size_t config_len;
} child_start_t;

typedef struct child_ops {
    const char *what; /* "process", "thread": for log lines */
    /* Start it: set info->pid and *state (this child's own, freed by release). Returns SWB_OK
     * or SWB_E_SPAWN (the reason logged), SWB_E_SYS, SWB_E_NOMEM. May block briefly (fork
     * and exec). */
    int (*start)(void *ctx, const child_start_t *how, child_info_t *info, void **state);
    /* A descriptor that becomes readable when it ends, polled with the broker's sockets; -1
     * when there is none (the wake_fd tells instead). */
    int (*exit_fd)(void *state);
    /* Whether it has ended: 1 with info->code and info->signal set (and it reaped), else 0. */
    int (*reap)(void *state, child_info_t *info);
    /* Deliver `sig` (a thread cannot take one: it is told to stop and the signal remembered
     * as what ended it). SWB_OK or SWB_E_SYS. */
    int (*signal)(void *state, const child_info_t *info, int sig);
    /* Resident memory in MiB, 0 when unknown. NULL: memory limits do not apply. */
    uint64_t (*rss_mb)(void *state, const child_info_t *info);
    /* At the end, after the grace period: make sure it is gone, waiting up to wait_ms (this
     * one may block). Returns 0 (reaped; release follows), or -1 when it cannot be ended (a
     * thread stuck in a plugin): then its state is left allocated, never freed under it. */
    int (*finish)(void *state, const child_info_t *info, int wait_ms);
    /* Free the state of an ended child. */
    void (*release)(void *state);
} child_ops_t;

/* Worker processes (child_process.c). */
extern const child_ops_t child_process_ops;

#endif
