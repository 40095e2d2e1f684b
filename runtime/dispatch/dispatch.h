/*
 * dispatch.h - load-aware task dispatch: TASK in, to the least-loaded worker of its service or
 * into the service's bounded queue; RESULT back to the client exactly once; retries when a
 * worker is lost; deadlines; cancel.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: broker. It sends, drops and
 * kills through the owner's dispatch_ops_t, reads time from the owner's clock, and keeps its
 * counters in dispatch_stats_t: it links without the broker or any socket, so its unit tests
 * drive it with a table of their own.
 *
 * Not thread-safe: one thread (the broker's loop) makes every call.
 */
#ifndef SWB_DISPATCH_H
#define SWB_DISPATCH_H

#include "dispatch_ops.h"
#include "registry.h"
#include "service.h"
#include "swbi.h"

typedef struct dispatch dispatch_t;

typedef struct {
    uint32_t max_queue;    /* per service */
    uint32_t max_attempts; /* tries per task before `worker lost` */
    uint32_t window;       /* tasks a worker may hold per capacity slot */
    uint32_t max_services;
    uint32_t max_tasks;       /* all tasks known to the broker (queued + running) */
    uint32_t no_worker_grace; /* ms a service may be without workers before its queued
                                 tasks fail with `no such service` */
    uint32_t hung_grace;      /* ms a worker may keep a task past its deadline before it is
                                 reported hung */
} dispatch_opts_t;

/* Time as the owner last read it: ms for timers, us for latencies and windows. The core only
 * reads it; the owner refreshes it before each call. */
typedef struct {
    int64_t ms, us;
} dispatch_clock_t;

typedef struct {
    uint64_t unsent;          /* RESULTs whose send failed (the client's pipe full or gone) */
    uint64_t orphaned;        /* RESULTs for clients that had left */
    uint64_t late;            /* answers from workers after their client had one */
    uint64_t unknown_results; /* answers for tasks or attempts that were not theirs */
} dispatch_stats_t;

/* `ops` (every hook set) and `ops_ctx`, `reg` (where clients are found by name) and `clock`
 * are borrowed for the core's life. */
int dispatch_new(dispatch_t **out, const dispatch_ops_t *ops, void *ops_ctx, registry_t *reg,
                 const dispatch_clock_t *clock, const dispatch_opts_t *o);
void dispatch_destroy(dispatch_t **self_p);

/* Refuse new tasks with `queue_full` and this text until called again with NULL (the owner's
 * own limits, e.g. its memory bound); tasks already known run on. */
void dispatch_refuse_new(dispatch_t *d, const char *why);
void dispatch_task(dispatch_t *d, reg_peer_t *client, const swb_header_t *h,
                   const swbi_body_t *body);
void dispatch_result(dispatch_t *d, reg_peer_t *worker, const swb_header_t *h,
                     const swbi_body_t *body);
void dispatch_cancel(dispatch_t *d, reg_peer_t *client, const swb_header_t *h);
/* New tasks are refused with `shutting down` from now on (accepted ones go on). */
void dispatch_close(dispatch_t *d);
/* A worker said HELLO (joins its services) or reported a new load. */
int dispatch_worker_join(dispatch_t *d, reg_peer_t *w);
/* CREDIT: `credit` is its capacity from now on (0 pauses it) and `load` its load; a worker
 * that said HELLO with capacity 0 joins its services with its first credit. */
void dispatch_worker_credit(dispatch_t *d, reg_peer_t *w, uint32_t credit, uint32_t load);
void dispatch_worker_load(dispatch_t *d, reg_peer_t *w, uint32_t load);
/* A peer sent something: answers waiting for its pipe to take them are sent now. */
void dispatch_peer_heard(dispatch_t *d, reg_peer_t *p);
/* A worker whose pipe was full sent something: it takes tasks again. */
void dispatch_worker_heard(dispatch_t *d, reg_peer_t *w);
/* A worker stops taking tasks (drain) but keeps those it runs. */
void dispatch_worker_pause(dispatch_t *d, reg_peer_t *w);
/* A worker re-registers (HELLO again): out of its services, keeping its tasks. */
void dispatch_worker_leave(dispatch_t *d, reg_peer_t *w);
/* A worker is gone: its tasks are retried elsewhere or end with `worker lost`. */
void dispatch_worker_gone(dispatch_t *d, reg_peer_t *w);
/* Deadlines and services without workers, at the clock's time. */
void dispatch_tick(dispatch_t *d);
/* End every task the client has no answer for yet, queued or running, with `code`. */
void dispatch_fail_all(dispatch_t *d, int code, const char *text);
uint32_t dispatch_inflight(const dispatch_t *d);
/* Tasks per capacity slot worker w may hold now (its adaptive window). */
uint32_t dispatch_worker_window(const dispatch_t *d, const reg_peer_t *w);
services_t *dispatch_services(dispatch_t *d);
uint64_t dispatch_tasks_known(const dispatch_t *d);
const dispatch_stats_t *dispatch_stats(const dispatch_t *d);

#endif
