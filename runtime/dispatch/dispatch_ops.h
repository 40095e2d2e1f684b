/*
 * dispatch_ops.h - what the dispatch core asks of the layer that owns it (the broker). The
 * owner must implement every hook in this table; dispatch_new refuses a table with one
 * missing.
 *
 * Layer: dispatch (the socket-free core); implemented by: broker (broker_dispatch.c).
 *
 * The core decides and the owner acts: the core never touches a socket, a process or the
 * registry's records beyond their dispatch fields. Every hook is called on the owner's loop
 * thread from inside a dispatch_* call, with the core in the middle of its work, so a hook
 * must not block, must not call back into dispatch_* (re-entrancy would find a service's
 * heap or queue half updated) and must not remove a registry record.
 */
#ifndef SWB_DISPATCH_OPS_H
#define SWB_DISPATCH_OPS_H

#include "registry.h"
#include "swbi.h"

typedef struct dispatch_ops {
    /* Send header h (and body, borrowed; NULL for none) to peer `to` without waiting.
     * Returns 0 (the owner counts it as sent to that peer), or -1 with errno: EAGAIN when its
     * pipe is full, EHOSTUNREACH when its connection is gone, anything else for other
     * failures. */
    int (*send)(void *ctx, reg_peer_t *to, const swb_header_t *h, const swbi_body_t *body);
    /* Worker w's connection is gone (a send found EHOSTUNREACH). The core has taken it out of
     * rotation and keeps its tasks; the owner drops it once the dispatch_* call that called
     * this has returned: it tells whoever must know, calls dispatch_worker_gone (its tasks are
     * queued again or ended) and removes the record. */
    void (*peer_lost)(void *ctx, reg_peer_t *w);
    /* Worker w still holds a task hung_grace ms past its deadline (`why` says so). The owner
     * decides: kill and restart it when it can, else say so. */
    void (*worker_hung)(void *ctx, reg_peer_t *w, const char *why);
} dispatch_ops_t;

#endif
