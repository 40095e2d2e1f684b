/*
 * peer_int.h - the peer layer's internals: its state, shared by peer.c (connection, send,
 * receive), client.c (tasks) and parent.c (spawn, kill, wait for exit), and what the layers
 * above it (host, embed) may call. Not installed, not public.
 *
 * Layer: peer; uses: common. A swb_peer_t belongs to one thread at a time.
 */
#ifndef SWB_PEER_INT_H
#define SWB_PEER_INT_H

#include "swbi.h"

#define PEER_TASK_BUCKETS 1024

typedef struct task_cb {
    uint64_t id;
    swb_result_fn fn;
    void *arg;
    int ended; /* answered broker_lost here: a late RESULT from the broker is dropped */
    struct task_cb *next;
} task_cb_t;

typedef struct pending {
    swb_msg_t m;
    /* A broker_lost RESULT made here goes to its task's callback, if it has one: kept with
     * the message, since the task's entry may be gone by then (a restarted broker owes it
     * nothing, so nothing is left to drop). */
    swb_result_fn fn;
    void *arg;
    struct pending *next;
} pending_t;

/* No request: a wait that ends only by its match or its deadline. */
#define PEERI_NO_ASK UINT64_MAX

struct swb_peer {
    void *ctx;
    int own_ctx;
    void *sock;
    char endpoint[512];
    char name[SWB_MAX_NAME + 1];
    char parent[SWB_MAX_NAME + 1];
    char services[SWB_MAX_SERVICES][SWB_MAX_NAME + 1];
    size_t n_services;
    int kind;
    uint32_t capacity;
    uint32_t hb_ivl_ms, hb_liveness, max_msg;
    int registered;
    int rcvtimeo; /* ZMQ_RCVTIMEO now set on sock */
    int hello_error;
    uint64_t welcomes, lost;
    uint64_t boot; /* the broker's boot id in the last WELCOME; 0: not known (none sent) */
    /* Tasks and requests with a lower id went to a broker that is gone or was given up on
     * (silent, or replaced by one with another boot id): nothing will answer them. */
    uint64_t lost_below;
    int64_t last_seen_ms, last_sent_ms, hello_sent_ms;
    uint64_t next_id;
    pending_t *head, *tail;
    pending_t *ended_head, *ended_tail; /* broker_lost RESULTs made here, for peeri_read */
    size_t outstanding;                 /* tasks submitted, RESULT not yet received */
    task_cb_t *cbs[PEER_TASK_BUCKETS];  /* outstanding tasks (and their callbacks) by id */
    task_cb_t *spare_cbs;               /* ended ones kept for reuse, at most PEER_SPARE_CBS */
    size_t n_spare_cbs;
};

#define PEER_SPARE_CBS 1024

/* Connect to opts->endpoint (the default endpoint when NULL) with opts->zmq_ctx (a context of
 * its own when NULL), say HELLO and wait for WELCOME. opts->broker is not looked at: the layer
 * above resolves it (swb_peer_new). */
int peer_new(swb_peer_t **out, const swb_peer_opts_t *opts);

/* The broker went silent: answer every outstanding task `broker_lost` (queued for peeri_read,
 * so callbacks still run from inside recv and wait). */
void peeri_end_outstanding(swb_peer_t *p, int64_t silent_ms);
/* A WELCOME with another boot id answered HELLO `hello_id` (0: unknown): the broker that had
 * the tasks sent before that HELLO is gone. Each not yet answered ends `broker_lost` as above,
 * and their entries go (no answer to drop can come). Returns how many were ended. */
size_t peeri_end_before(swb_peer_t *p, uint64_t hello_id);

/* A RESULT for one of our tasks came in: count it, and run its callback if it has one
 * (returns 1 then: the message is consumed). */
int peeri_task_result(swb_peer_t *p, swb_msg_t *m);

/* Read the next application message from the socket (not the pending queue). deadline is
 * absolute ms (swbi_now_ms) or -1. */
int peeri_read(swb_peer_t *p, swb_msg_t *m, int64_t deadline);
/* Append n to a queue of messages (the pending one, or the broker_lost one). */
void peeri_queue_push(pending_t **head, pending_t **tail, pending_t *n);
/* Keep a message for a later recv (moves it). */
int peeri_stash(swb_peer_t *p, swb_msg_t *m);
/* Where a received message's body starts in its frame (past the header when it came inline). */
size_t peeri_body_off(swb_msg_t *m);
/* Wait for the first message (kept ones first, then new ones) that `match` accepts; the
 * others are kept for recv. Returns SWB_OK with it in *m, or SWB_E_TIMEOUT / an error. */
typedef int (*peeri_match_fn)(const swb_msg_t *m, const void *arg);
int peeri_wait_for(swb_peer_t *p, peeri_match_fn match, const void *arg, swb_msg_t *m,
                   int64_t deadline);
/* The same for what the broker owes for request `ask` (its id; or an id taken from
 * peeri_next_id when the wait is for something the broker owes without a request): it ends
 * SWB_E_BROKER_LOST once the broker that got the request is lost or replaced by another. */
int peeri_wait_owed(swb_peer_t *p, uint64_t ask, peeri_match_fn match, const void *arg,
                    swb_msg_t *m, int64_t deadline);
/* peeri_read that ends SWB_E_BROKER_LOST in the same way (PEERI_NO_ASK: never). */
int peeri_read_owed(swb_peer_t *p, uint64_t ask, swb_msg_t *m, int64_t deadline);
/* A RESULT or ERROR answering request *(uint64_t *)id. */
int peeri_is_reply_to(const swb_msg_t *m, const void *id);
/* Wait for the RESULT or ERROR with this id; others are stashed. Returns the ERROR code or 0. */
int peeri_wait_reply(swb_peer_t *p, uint64_t id, swb_msg_t *m, int timeout_ms);
int peeri_send(swb_peer_t *p, const swb_header_t *h, const void *body, size_t len);
uint64_t peeri_next_id(swb_peer_t *p);

#endif
