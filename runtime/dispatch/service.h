/*
 * service.h - per-service dispatch structures: the heap of workers with a free slot (least
 * loaded first, ties to the one that joined first) and the bounded queue of waiting tasks
 * (highest priority first, then FIFO). Both are binary heaps: O(log n) per
 * operation however many workers or tasks a service has. While every waiting task has the same
 * priority and they came in order, the queue is a ring instead, O(1) each way: that is nearly
 * always, and a heap's pop cost a busy broker as much as a header decode.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch.c, broker_stats.c.
 */
#ifndef SWB_SERVICE_H
#define SWB_SERVICE_H

#include <stdint.h>
#include <zmq.h>

#include "registry.h"
#include "task.h"

/* Latency buckets of microseconds, log-linear: exact below 8, then 8 per power of two up to
 * 2^36 us (19 hours), so a bucket spans at most 1/8 of its lower bound. */
#define SVC_LAT_SUB     8
#define SVC_LAT_MAX_EXP 36
#define SVC_LAT_BUCKETS (SVC_LAT_SUB + (SVC_LAT_MAX_EXP - 3 + 1) * SVC_LAT_SUB)

typedef struct {
    reg_peer_t *w;
    int32_t slot; /* index of this service in w->svc */
} heap_ent_t;

typedef struct service {
    char name[SWB_MAX_NAME + 1];
    heap_ent_t *heap; /* workers with room */
    uint32_t n_heap, cap_heap;
    uint32_t n_workers;
    task_t **queue;              /* a heap, or a ring while `ring` is set */
    uint32_t n_queue, cap_queue; /* tasks queued; slots (a power of two) */
    int ring;                    /* every queued task has ring_prio and they are in seq order */
    int32_t ring_prio;
    uint64_t ring_seq;      /* seq of the last task put in the ring */
    uint32_t r_head, r_len; /* first slot and slots in use; removed tasks leave NULL holes */
    int64_t empty_since;    /* ms when the last worker left, 0 while it has workers */
    uint32_t inflight;
    uint64_t submitted, done, failed, retried, duplicates, rejected;
    uint64_t failed_by[64]; /* by -code, for codes 0..63 */
    uint64_t lat[SVC_LAT_BUCKETS];
} service_t;

typedef struct services services_t;

int services_new(services_t **out, uint32_t max_services);
void services_destroy(services_t **self_p);
/* Find by name; with create, make it when missing (NULL when the table is full). */
service_t *services_get(services_t *t, const char *name, size_t len, int create);
uint32_t services_count(const services_t *t);
service_t *services_at(services_t *t, uint32_t i);

/* Worker heap. `slot` is the index of s in w->svc. */
int svc_heap_add(service_t *s, reg_peer_t *w, int slot);
void svc_heap_remove(service_t *s, reg_peer_t *w, int slot);
void svc_heap_fix(service_t *s, reg_peer_t *w, int slot);
reg_peer_t *svc_heap_top(const service_t *s);

/* Task queue. */
int svc_queue_push(service_t *s, task_t *t);
task_t *svc_queue_pop(service_t *s);
/* Put back the task svc_queue_pop just gave, where it was (it could not be sent). Never fails:
 * its slot is still there. */
void svc_queue_unpop(service_t *s, task_t *t);
void svc_queue_remove(service_t *s, task_t *t);

/* Record a finished task's latency; p in [0,1] gives that percentile in microseconds, an
 * estimate within 1/8 (12.5 %) of the true value: the rank is placed linearly inside its
 * bucket. */
void svc_latency_add(service_t *s, int64_t us);
uint64_t svc_latency_pct(const service_t *s, double p);

#endif
