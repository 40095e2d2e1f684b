/*
 * supervisor.h - starts and watches children (worker processes and worker threads) for the
 * broker, and reports their exits. Runs inside the broker's loop thread.
 */
#ifndef SWB_SUPERVISOR_H
#define SWB_SUPERVISOR_H

#include <stdint.h>
#include <zmq.h>

#include "swb_proto.h"

typedef struct supervisor supervisor_t;

typedef struct {
    void *zmq_ctx;
    const char *inproc;     /* endpoint for thread children */
    const char *endpoint;   /* endpoint for process children (ipc/tcp), may be NULL */
    const char *worker_exe; /* resolved path to swb-worker */
    const char *plugin_dir;
    int wake_fd; /* written to when a thread child ends */
} supervisor_opts_t;

typedef struct {
    const char *parent;
    const char *plugin;
    const char *name; /* exact child name */
    int mode;         /* SWB_SPAWN_PROCESS / SWB_SPAWN_THREAD */
    uint32_t capacity;
} spawn_req_t;

typedef struct {
    char name[SWB_MAX_NAME + 1];
    char parent[SWB_MAX_NAME + 1];
    int pid;
    int mode;
    int code;   /* exit code, when it exited */
    int signal; /* signal that ended it, or 0 */
} child_info_t;

int supervisor_new(supervisor_t **out, const supervisor_opts_t *opts);
/* End every child: BYE is the broker's job before this; here threads are told to stop and
 * processes get SIGTERM, then SIGKILL after grace_ms; all are reaped. */
void supervisor_destroy(supervisor_t **self_p, int grace_ms);

/* Start one child; fills *info (name, pid). */
int supervisor_spawn(supervisor_t *s, const spawn_req_t *req, child_info_t *info);
/* Whether a child of that name is alive (started, not yet reaped). */
int supervisor_has(supervisor_t *s, const char *name);
/* Find a child; NULL if none. */
const child_info_t *supervisor_find(supervisor_t *s, const char *name);
/* Signal a child (thread children are told to stop whatever the signal). */
int supervisor_kill(supervisor_t *s, const char *name, int sig);

/* Poll items for children (pidfds), appended at items[0..max); returns how many. */
int supervisor_poll_items(supervisor_t *s, zmq_pollitem_t *items, int max);
/* Reap ended children; for each, calls on_exit(arg, info). */
void supervisor_reap(supervisor_t *s, void (*on_exit)(void *arg, const child_info_t *info),
                     void *arg);
int supervisor_count(const supervisor_t *s);

#endif
