/*
 * dispatch.h - load-aware task dispatch: TASK in, to the least-loaded worker of its service or
 * into the service's bounded queue; RESULT back to the client exactly once; retries when a
 * worker is lost; deadlines; cancel.
 */
#ifndef SWB_DISPATCH_H
#define SWB_DISPATCH_H

#include "service.h"
#include "swbi.h"

typedef struct swb_broker swb_broker_t;
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
                                 killed (process children) */
} dispatch_opts_t;

int dispatch_new(dispatch_t **out, swb_broker_t *b, const dispatch_opts_t *o);
void dispatch_destroy(dispatch_t **self_p);

void dispatch_task(dispatch_t *d, const swbi_rid_t *rid, reg_peer_t *client, const swb_header_t *h,
                   const swbi_body_t *body);
void dispatch_result(dispatch_t *d, reg_peer_t *worker, const swb_header_t *h,
                     const swbi_body_t *body);
void dispatch_cancel(dispatch_t *d, const swbi_rid_t *rid, reg_peer_t *client,
                     const swb_header_t *h);
/* A worker said HELLO (joins its services) or reported a new load. */
int dispatch_worker_join(dispatch_t *d, reg_peer_t *w);
void dispatch_worker_load(dispatch_t *d, reg_peer_t *w, uint32_t load);
/* A worker whose pipe was full sent something: it takes tasks again. */
void dispatch_worker_heard(dispatch_t *d, reg_peer_t *w);
/* A worker stops taking tasks (drain) but keeps those it runs. */
void dispatch_worker_pause(dispatch_t *d, reg_peer_t *w);
/* A worker re-registers (HELLO again): out of its services, keeping its tasks. */
void dispatch_worker_leave(dispatch_t *d, reg_peer_t *w);
/* A worker is gone: its tasks are retried elsewhere or end with `worker lost`. */
void dispatch_worker_gone(dispatch_t *d, reg_peer_t *w);
/* Deadlines and services without workers. */
void dispatch_tick(dispatch_t *d, int64_t now_ms);
/* End every task the client has no answer for yet, queued or running, with `code`. */
void dispatch_fail_all(dispatch_t *d, int code, const char *text);
uint32_t dispatch_inflight(const dispatch_t *d);
/* Tasks per capacity slot worker w may hold now (its adaptive window). */
uint32_t dispatch_worker_window(const dispatch_t *d, const reg_peer_t *w);
services_t *dispatch_services(dispatch_t *d);
uint64_t dispatch_tasks_known(const dispatch_t *d);

#endif
