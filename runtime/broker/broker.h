/*
 * broker.h - what the layer above the broker may call beyond the public swb_broker_* API.
 *
 * Layer: broker; called by: embed. The broker cannot start worker threads itself (the worker
 * host sits beside it, not below it), so whoever builds a broker hands it the child_ops_t for
 * thread children.
 */
#ifndef SWB_BROKER_H
#define SWB_BROKER_H

#include "switchboard.h"

struct child_ops;

/* swb_broker_new, with the table (and its context) that starts thread children; NULL makes
 * SWB_CHILD_THREAD spawns fail with SWB_E_SPAWN. */
int broker_new(swb_broker_t **out, const swb_broker_opts_t *opts,
               const struct child_ops *thread_ops, void *thread_ctx);

#endif
