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

int swb_broker_new(swb_broker_t **out, const swb_broker_opts_t *opts)
{
    return broker_new(out, opts, &thread_child_ops, NULL);
}

int swb_peer_new(swb_peer_t **out, const swb_peer_opts_t *opts)
{
    if (!opts || !opts->broker)
        return peer_new(out, opts);
    swb_peer_opts_t o = *opts;
    if (!o.endpoint)
        o.endpoint = swb_broker_inproc(opts->broker);
    if (!o.zmq_ctx)
        o.zmq_ctx = swb_broker_zmq_ctx(opts->broker);
    return peer_new(out, &o);
}
