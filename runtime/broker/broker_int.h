/*
 * broker_int.h - the broker's state, shared by its files: broker.c (lifecycle and loop),
 * broker_route.c (one handler per command), broker_stats.c (the STATS reply).
 *
 * Layer: broker; uses: dispatch, supervise, common. Private to runtime/broker/; not
 * thread-safe: the loop thread owns the state, but for the atomics swb_broker_stop and
 * swb_broker_shutdown set from other threads.
 */
#ifndef SWB_BROKER_INT_H
#define SWB_BROKER_INT_H

#include <pthread.h>
#include <stdint.h>
#include <zmq.h>

#include "dispatch.h"
#include "registry.h"
#include "supervisor.h"
#include "swbi.h"

typedef struct {
    uint64_t routed;      /* messages passed on to a peer: DELIVERs, TASKs, RESULTs */
    uint64_t errors_sent; /* ERROR replies */
    uint64_t malformed;   /* frames that did not decode */
    uint64_t undeliverable;
    uint64_t peers_joined, peers_left, peers_lost;
    uint64_t children_started, children_exited;
    uint64_t restarts, gave_up, limit_kills, hung_kills, reloads;
    uint64_t stalls; /* loop passes held up past a tick (see catch_up) */
} broker_counters_t;

typedef struct reload reload_t;

enum { BROKER_TR_INPROC = 0, BROKER_TR_IPC = 1, BROKER_TR_TCP = 2 };

struct swb_broker {
    void *ctx;
    void *router;
    char inproc[64];
    char **endpoints;
    size_t n_endpoints;
    int *lock_fds;
    char *public_ep;      /* first ipc/tcp endpoint, or NULL */
    char private_dir[64]; /* made for private_ipc, removed on destroy */
    int wake[2];          /* self-pipe: stop requests and thread-child exits */
    pthread_t thread;
    int thread_started;
    volatile int stop; /* set by swb_broker_stop (signal-safe) */

    uint32_t hb_ivl_ms, hb_liveness, max_msg, max_peers, peer_hwm;
    char worker_exe[4096];
    char plugin_dir[4096];

    registry_t *reg;
    supervisor_t *sup;
    dispatch_t *disp;
    int shutting_down;  /* new tasks get `shutting down` */
    int shutdown_phase; /* 1 finishing tasks, 2 children leaving, 3 done */
    int64_t shutdown_deadline;
    int shutdown_req_ms; /* atomic: set (signal-safe) by swb_broker_shutdown; -1 none */
    int shutdown_asked;  /* atomic */
    reload_t *reload;    /* the reload in progress, if any */
    int stuck_threads;   /* worker threads that did not stop when the broker ended */
    /* Who sent the HELLO being handled, as the transport says (not as the peer claims):
     * inproc is this process, ipc gives the peer's pid (SO_PEERCRED), tcp gives neither. */
    int msg_transport; /* BROKER_TR_* */
    int msg_pid;       /* 0 when unknown (tcp) */
    uint64_t name_seq;
    uint64_t boot; /* boot id sent in every WELCOME (broker_route.c); 0 until the first */
    int64_t started_ms;
    /* ms refreshed once per loop turn; us precise, read once per message received (task
     * latencies, windows). Dispatch reads it too. */
    dispatch_clock_t now;
    int in_hook;      /* inside a dispatch_ops_t hook: dispatch must not be called back */
    int lost_pending; /* peers marked lost meanwhile, dropped by broker_drop_lost */
    broker_counters_t n;
    struct {
        int open, limit;    /* descriptors at the last count, and RLIMIT_NOFILE */
        int paused;         /* new connections refused: near the limit */
        int64_t checked_ms; /* when last counted */
        uint64_t pauses;
    } fds; /* broker_fds.c */
    struct {
        uint32_t max_mb; /* 0: no bound */
        uint64_t heap;   /* bytes in use at the last check */
        int over;        /* new tasks refused */
        uint64_t pauses;
    } mem; /* broker_mem.c */
};

/* Handle one message: rid, decoded header, body (NULL when none; borrowed: the caller closes
 * its frames, and whatever keeps the body takes a reference). */
void broker_handle(swb_broker_t *b, const swbi_rid_t *rid, const swb_header_t *h,
                   const swbi_body_t *body);
/* Reply ERROR to a routing id. */
void broker_error(swb_broker_t *b, const swbi_rid_t *rid, int code, const char *text, uint64_t id,
                  const char *target);
/* Remove a peer, telling its parent with an EVENT when `event` is non-zero. */
void broker_drop_peer(swb_broker_t *b, reg_peer_t *p, int event);
/* Heartbeats out, dead peers out. */
/* Heartbeats out; with `judge`, workers silent past the liveness are dropped first. */
void broker_heartbeat(swb_broker_t *b, int judge);
/* Heartbeats to peers not sent to for a while, during a long piece of work inside one loop
 * pass (a batch of spawns), so no peer takes the broker for lost meanwhile. Judges no one:
 * what they sent is still queued. */
void broker_keep_alive(swb_broker_t *b);
/* Stop accepting connections near the descriptor limit, and accept again when some are
 * freed (broker_fds.c); called each tick. */
void broker_fd_guard(swb_broker_t *b);
/* The accept4 in front of libc's for ZeroMQ's I/O threads (zmq_accept.c): init keeps a
 * descriptor in reserve for the moment the limit is reached; while refusing, new connections
 * are closed at once. Process-wide, as the descriptor limit is. */
void broker_accept_init(void);
void broker_accept_refuse(int on);
uint64_t broker_accept_refused(void);
/* Refuse new tasks while the heap is past max_memory_mb (broker_mem.c); called each tick. */
void broker_mem_guard(swb_broker_t *b);
/* Heap bytes the process's allocator has handed out and not had back. */
uint64_t broker_heap_bytes(void);
/* Send a message to a registered peer (errors counted on the peer). */
void broker_send_to(swb_broker_t *b, reg_peer_t *p, const swb_header_t *h, const swbi_body_t *body);
/* RESULT (code 0) with a body to a peer. */
void broker_reply(swb_broker_t *b, reg_peer_t *to, uint64_t id, const void *body, size_t len);
/* EVENT to a parent (by name; nothing when it is not connected). */
void broker_event(swb_broker_t *b, const char *parent, int event, const char *name, int pid,
                  int code, int sig, const char *text);
/* The supervisor's events (sup_event_fn). */
void broker_sup_event(void *arg, int event, const child_info_t *info, const char *text);
/* A child said HELLO (reload waits for this). */
void broker_child_ready(swb_broker_t *b, reg_peer_t *p);
/* A worker holds a task past its deadline: kill it if it is a process child of ours. */
void broker_worker_hung(swb_broker_t *b, reg_peer_t *w, const char *why);
/* Drop the peers found lost while dispatch was running (dispatch's peer_lost, or a send from
 * one of its hooks that found a connection gone). Before each message is handled, so a peer
 * that reconnects is dropped first and then registers afresh, and once per loop pass. */
void broker_drop_lost(swb_broker_t *b);
/* The table through which dispatch sends, drops and kills (broker_dispatch.c). */
extern const dispatch_ops_t broker_dispatch_ops;
void broker_reload_free(swb_broker_t *b);
/* Give up on a reload that has not finished within its timeout. */
void broker_reload_tick(swb_broker_t *b);
void broker_shutdown_step(swb_broker_t *b);
/* Start the shutdown swb_broker_shutdown asked for, if it did. The loop calls it once a pass;
 * the TASK handler calls it before dispatch takes a task too, so that a task sent after
 * swb_broker_shutdown returned is refused even when it comes in the same pass as the request. */
void broker_take_shutdown(swb_broker_t *b);
/* body: the children's config (may have no msg: none). */
void broker_on_spawn(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h, const swbi_body_t *body);
void broker_on_kill(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                    const swb_header_t *h);
void broker_on_reload(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                      const swb_header_t *h);
void broker_on_scale(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h);
/* Encode the STATS body into a malloc'd buffer. */
int broker_stats_encode(swb_broker_t *b, char **out, size_t *len);

#endif
