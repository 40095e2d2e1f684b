/*
 * registry.h - the broker's table of live peers, found by name or by routing id in O(1).
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch and broker. Not
 * thread-safe: the broker's loop thread owns it.
 */
#ifndef SWB_REGISTRY_H
#define SWB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "swb_proto.h"

#define REG_RID_MAX 32

struct service;
struct task;
struct held_result;

typedef struct {
    int used;
    char name[SWB_MAX_NAME + 1];
    unsigned char rid[REG_RID_MAX];
    size_t rid_len;
    int kind;
    int pid;
    char services[SWB_MAX_SERVICES][SWB_MAX_NAME + 1];
    uint32_t n_services;
    uint32_t capacity;
    char parent[SWB_MAX_NAME + 1];
    int64_t since_ms;     /* when it said HELLO */
    int64_t last_seen_ms; /* last message of any kind from it */
    int64_t last_sent_ms; /* last message to it (heartbeats fill gaps) */
    uint64_t msgs_in, msgs_out, send_failures;
    int lost;   /* its connection was found gone while it could not be dropped at once */
    int remote; /* came over tcp: nothing about its machine or user is vouched for */
    /* RESULTs for this client that its full pipe could not take yet, oldest first (dispatch) */
    struct held_result *held_head, *held_tail;
    uint32_t n_held;
    uint32_t load;
    /* dispatch state (dispatch.c): tasks running here and this worker's place in each of its
     * services' heaps of workers with a free slot */
    uint32_t gen; /* bumped each time the slot is reused */
    int draining; /* told to DRAIN: keeps its tasks, gets no new ones */
    int blocked;  /* its pipe was full: no tasks until it is heard from again */
    uint32_t inflight;
    uint64_t score; /* heap key: load per slot, cached by svc_heap_add and svc_heap_fix */
    uint64_t done;
    uint64_t joined;      /* join order, from 1: ties in dispatch go to the lowest */
    int64_t last_done_us; /* when its last answer came */
    int busy_since_done;  /* every slot has stayed busy since then (so the gap is task time) */
    uint64_t task_ns;     /* time per task per slot while it was kept busy (moving average) */
    struct task *tasks;
    struct service *svc[SWB_MAX_SERVICES];
    int32_t heap_pos[SWB_MAX_SERVICES]; /* -1 when not in that service's heap */
} reg_peer_t;

typedef struct registry registry_t;

int registry_new(registry_t **out, uint32_t max_peers);
void registry_destroy(registry_t **self_p);

/* Add a peer with this name and routing id; NULL when full. The record is zeroed but for
 * name, rid and `used`. */
reg_peer_t *registry_add(registry_t *r, const char *name, const void *rid, size_t rid_len);
void registry_remove(registry_t *r, reg_peer_t *p);
reg_peer_t *registry_by_name(registry_t *r, const char *name, size_t len);
reg_peer_t *registry_by_rid(registry_t *r, const void *rid, size_t len);
/* Give a peer a new routing id (the same process reconnected). SWB_E_TOO_LARGE (and nothing
 * changed) past REG_RID_MAX bytes. */
int registry_rebind(registry_t *r, reg_peer_t *p, const void *rid, size_t rid_len);
size_t registry_count(const registry_t *r);
uint32_t registry_capacity(const registry_t *r);
/* Slot i (0 <= i < capacity) for iteration; check ->used. */
reg_peer_t *registry_at(registry_t *r, uint32_t i);
int registry_serves(const reg_peer_t *p, const char *service, size_t len);

#endif
