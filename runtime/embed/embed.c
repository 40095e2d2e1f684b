/*
 * embed.c - the public constructors that join layers: a broker that can start worker threads,
 * and a peer that joins an embedded broker over inproc.
 *
 * Layer: embed (top); uses: broker, peer, host (through thread_child.c); called by: programs.
 * The layers below cannot do this themselves: the broker does not link the worker host, and
 * a peer does not know a broker's inproc endpoint or context.
 */
#include "broker.h"
#include "embed_int.h"
#include "peer_int.h"
#include "swbi.h"

int swb_broker_new(swb_broker_t **out, const swb_broker_opts_t *opts)
{
    return broker_new(out, opts, &thread_child_ops, NULL);
}

int swb_peer_new(swb_peer_t **out, const swb_peer_opts_t *opts)
{
    if (!out || !opts)
        return SWB_E_INVALID;
    *out = NULL;
    swb_peer_opts_t o;
    int rc = swbi_opts_take(&o, sizeof o, opts, SWBI_OPTS_END(swb_peer_opts_t, reserved0),
                            "swb_peer_opts_t");
    if (rc != SWB_OK || !o.broker)
        return rc != SWB_OK ? rc : peer_new(out, &o);
    if (!o.endpoint)
        o.endpoint = swb_broker_inproc(o.broker);
    if (!o.zmq_ctx)
        o.zmq_ctx = swb_broker_zmq_ctx(o.broker);
    return peer_new(out, &o);
}
