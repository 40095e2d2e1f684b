/*
 * swb_testkit.h - a plugin under test, for cmocka, CTest or any C test suite: a private
 * broker (its ipc socket in a fresh 0700 directory of its own), the plugin started as a worker
 * thread or a worker process, and a client to call it with; stopping removes all of it,
 * children and socket directory included, whatever the test did.
 *
 *     static void test_sum_adds(void **state)
 *     {
 *         swb_testkit_t *k = NULL;
 *         assert_int_equal(swb_testkit_start(&k, "./sum.so", SWB_CHILD_PROCESS), SWB_OK);
 *         swb_msg_t r = {0};
 *         assert_int_equal(swb_testkit_call(k, body, len, 5000, &r), SWB_OK);
 *         ...
 *         swb_msg_close(&r);
 *         swb_testkit_stop(&k);
 *     }
 *
 * A kit belongs to one thread, like the peer it holds.
 */
#ifndef SWB_TESTKIT_H
#define SWB_TESTKIT_H

#include "switchboard.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

typedef struct swb_testkit swb_testkit_t;

/* Start a private broker and `plugin` (a name in the plugin folder or a path to a .so) as one
 * worker in `mode` (swb_child_mode_t), not restarted if it crashes, and wait until it is ready.
 * On failure *out is NULL and nothing is left running. */
int swb_testkit_start(swb_testkit_t **out, const char *plugin, int mode);
/* The service the plugin serves (its first, or its name), which swb_testkit_call calls. */
const char *swb_testkit_service(const swb_testkit_t *k);
/* The worker's name and pid (a thread worker's pid is this process's). */
const swb_child_t *swb_testkit_worker(const swb_testkit_t *k);
/* The private broker's ipc endpoint, for other programs of the test to connect to. */
const char *swb_testkit_endpoint(const swb_testkit_t *k);
/* The client peer, the worker's parent: for swb_submit, swb_peer_send, swb_kill, events... */
swb_peer_t *swb_testkit_peer(swb_testkit_t *k);
/* swb_call on the plugin's service. */
int swb_testkit_call(swb_testkit_t *k, const void *body, size_t len, int timeout_ms,
                     swb_msg_t *result);
/* Stop the worker, the peer and the broker, and remove the socket directory. NULL-safe. */
void swb_testkit_stop(swb_testkit_t **k);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
