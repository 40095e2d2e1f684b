/*
 * broker_dispatch.c - the broker's side of dispatch_ops_t: how the dispatch core's decisions
 * become sends on the ROUTER, dropped peers and killed workers.
 *
 * Layer: broker; uses: dispatch, supervise, common; called by: the dispatch core, from inside
 * dispatch_* calls on the loop thread (so nothing here calls dispatch_* back).
 */
#include "broker_int.h"

static int send_to(void *ctx, reg_peer_t *to, const swb_header_t *h, const swbi_body_t *body)
{
    swb_broker_t *b = ctx;
    swbi_rid_t r = {to->rid, to->rid_len};
    if (swbi_send(b->router, &r, h, body, ZMQ_DONTWAIT) != 0)
        return -1;
    if (h->cmd == SWB_CMD_CANCEL)
        return 0; /* best effort, and not a message that stands for a heartbeat */
    to->last_sent_ms = b->now.ms;
    to->msgs_out++;
    b->n.routed++; /* TASKs to workers and RESULTs to clients are routed too */
    return 0;
}

/* Dropped by broker_drop_lost once dispatch has returned, in the order broker_drop_peer keeps:
 * the parent's EVENT, then the tasks retried or ended, then the record removed. */
static void peer_lost(void *ctx, reg_peer_t *w)
{
    swb_broker_t *b = ctx;
    w->lost = 1;
    b->lost_pending = 1;
}

/* It sends an EVENT, and a send that finds a connection gone would drop that peer, which calls
 * dispatch: in_hook makes that wait for broker_drop_lost too. */
static void worker_hung(void *ctx, reg_peer_t *w, const char *why)
{
    swb_broker_t *b = ctx;
    b->in_hook++;
    broker_worker_hung(b, w, why);
    b->in_hook--;
}

const dispatch_ops_t broker_dispatch_ops = {
    .send = send_to,
    .peer_lost = peer_lost,
    .worker_hung = worker_hung,
};
