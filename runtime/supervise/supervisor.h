/*
 * supervisor.h - starts, watches, restarts and stops the broker's children (worker processes
 * and worker threads).
 *
 * Layer: supervise; uses: common; called by: broker. Not thread-safe: the broker's loop thread
 * makes every call. Processes are started here; worker threads by the child_ops_t the owner
 * passes in (the worker host lives above this layer).
 */
#ifndef SWB_SUPERVISOR_H
#define SWB_SUPERVISOR_H

#include <stdint.h>
#include <zmq.h>

#include "swb_proto.h"

typedef struct supervisor supervisor_t;
struct child_ops;

typedef struct {
    void *zmq_ctx;
    const char *inproc;     /* endpoint for thread children */
    const char *endpoint;   /* endpoint for process children (ipc/tcp), may be NULL */
    const char *worker_exe; /* resolved path to swb-worker */
    const char *plugin_dir;
    int wake_fd;                /* written to when a thread child ends */
    uint32_t backoff_min_ms;    /* first restart delay; default 100 */
    uint32_t backoff_max_ms;    /* delay doubles up to this; default 10000 */
    uint32_t max_restarts;      /* restarts of one child within restart_period before it is
                                   given up; default 5 */
    uint32_t restart_period_ms; /* default 10000 */
    uint32_t max_children;      /* default 1024 */
    /* How thread children are started (child_ops.h), and its context; NULL: SWB_SPAWN_THREAD
     * fails with SWB_E_SPAWN. */
    const struct child_ops *thread_ops;
    void *thread_ctx;
} supervisor_opts_t;

typedef struct {
    const char *parent;
    const char *plugin;
    const char *name;  /* exact child name */
    const char *group; /* spawn group (for scale); NULL = name */
    int mode;          /* SWB_SPAWN_PROCESS / SWB_SPAWN_THREAD */
    uint32_t capacity;
    int no_restart;        /* never restart it */
    uint32_t mem_limit_mb; /* restart when its RSS passes this (processes) */
    uint32_t cpu_limit_s;  /* RLIMIT_CPU (processes) */
    const void *config;    /* msgpack given to the plugin (copied); NULL: none */
    size_t config_len;
} spawn_req_t;

typedef struct {
    char name[SWB_MAX_NAME + 1];
    char parent[SWB_MAX_NAME + 1];
    char group[SWB_MAX_NAME + 1];
    int pid;
    int mode;
    int code;     /* exit code, when it exited */
    int signal;   /* signal that ended it, or 0 */
    int running;  /* 0 while waiting to be restarted */
    int retiring; /* asked to leave (reload, scale down, disconnect): no restart */
    int ready;    /* said HELLO since it was last started */
    uint32_t restarts;
} child_info_t;

/* What the supervisor tells the broker; event is an SWB_EV_* code. */
typedef void (*sup_event_fn)(void *arg, int event, const child_info_t *info, const char *text);

int supervisor_new(supervisor_t **out, const supervisor_opts_t *opts);
/* End every child: threads are told to stop and processes get SIGTERM, then SIGKILL after
 * grace_ms; all are reaped. Returns how many worker threads did not stop (they cannot be
 * killed; their records are left allocated). */
int supervisor_destroy(supervisor_t **self_p, int grace_ms);

/* Start one child; fills *info (name, pid). */
int supervisor_spawn(supervisor_t *s, const spawn_req_t *req, child_info_t *info);
/* Start a child like `like` (same plugin, mode, limits, parent, group) under a new name. */
int supervisor_spawn_like(supervisor_t *s, const char *like, const char *name, child_info_t *info);
/* Whether a child of that name exists (running or waiting to restart). */
int supervisor_has(supervisor_t *s, const char *name);
const child_info_t *supervisor_find(supervisor_t *s, const char *name);
/* Signal a child. restart: whether it may be restarted after (health kills) or not (a
 * parent's kill). Thread children are told to stop whatever the signal. */
int supervisor_kill(supervisor_t *s, const char *name, int sig, int restart);
/* A child said HELLO. One that dies before that is not restarted: its start is broken. */
void supervisor_ready(supervisor_t *s, const char *name, int pid);
/* Mark a child as leaving on purpose: when it exits it is not restarted. */
void supervisor_retire(supervisor_t *s, const char *name);
/* Undo supervisor_retire (a reload whose replacement failed keeps the old child). */
void supervisor_unretire(supervisor_t *s, const char *name);
/* Children of `parent` (in `group` when not NULL), running or waiting, newest last. */
int supervisor_list(supervisor_t *s, const char *parent, const char *group,
                    const child_info_t **out, int cap);

/* Poll items for children (pidfds), appended at items[0..max); returns how many. They stay
 * valid until supervisor_gen() changes, so a loop need not rebuild them every turn. */
uint64_t supervisor_gen(const supervisor_t *s);
int supervisor_poll_items(supervisor_t *s, zmq_pollitem_t *items, int max);
/* Reap ended children, schedule restarts, run due restarts, enforce memory limits. */
void supervisor_tick(supervisor_t *s, int64_t now_ms, sup_event_fn fn, void *arg);
/* No more restarts from now on (shutdown). */
void supervisor_close(supervisor_t *s);
int supervisor_count(const supervisor_t *s);
uint64_t supervisor_restarts(const supervisor_t *s);

#endif
