/*
 * embed_int.h - the top layer's internals: what puts the layers together in one process.
 *
 * Layer: embed (top); uses: broker, host, peer, supervise, dispatch, common; called by: nothing
 * inside the runtime: programs reach it through the public API only.
 */
#ifndef SWB_EMBED_INT_H
#define SWB_EMBED_INT_H

#include "child_ops.h"
#include "switchboard.h"

/* Worker threads: the worker host in a thread of this process (thread_child.c). */
extern const child_ops_t thread_child_ops;

#endif
