/*
 * harness.h - what integration tests share: a real embedded broker bound to an ipc socket in
 * a private temporary directory, a parent peer joined to it, and cleanup that removes all of
 * it (children included) whether the test passed or failed.
 */
#ifndef SWB_HARNESS_H
#define SWB_HARNESS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "switchboard.h"

typedef struct {
    char dir[128];      /* private 0700 directory for sockets */
    char endpoint[256]; /* ipc://<dir>/broker.sock */
    swb_broker_t *broker;
    swb_peer_t *parent; /* a client peer named "test-parent" */
} harness_t;

/* cmocka group/test setup and teardown: *state becomes a harness_t *. The broker uses a
 * 200 ms heartbeat (liveness 3) so that loss is detected quickly. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* A test case with the harness around it (CMake registers each SWB_IT(name) as a test). */
#define SWB_IT(name) cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

/* Start only the directory (for tests that run their own brokers). */
int harness_dir(harness_t *h);
void harness_rmdir(harness_t *h);

/* Start a broker on h->endpoint with the given heartbeat (0 = 200 ms). */
int harness_broker(harness_t *h, uint32_t hb_ms);

/* A client peer on the harness broker's ipc endpoint. */
swb_peer_t *harness_client(harness_t *h, const char *name);

/* Pack {"k": v} maps and friends into a malloc'd buffer (free with free()). */
void *pack_map_int(size_t *len, const char *k, int64_t v);
void *pack_map_int2(size_t *len, const char *k1, int64_t v1, const char *k2, int64_t v2);
void *pack_str(size_t *len, const char *s);
/* Read integer key k from a msgpack map body; returns 0 on success. */
int unpack_map_int(const void *body, size_t len, const char *k, int64_t *out);
/* Whether a msgpack body is the string s. */
int unpack_is_str(const void *body, size_t len, const char *s);

/* Receive until a message of `type` arrives (others are dropped, counted in *skipped when
 * non-NULL). Returns SWB_OK or SWB_E_TIMEOUT. */
int recv_type(swb_peer_t *p, swb_msg_t *m, int type, int timeout_ms, int *skipped);

/* Whether a process exists (not a zombie). */
int pid_alive(int pid);
/* Poll until cond() is true or timeout; returns 1 when true. */
int wait_until(int (*cond)(void *), void *arg, int timeout_ms);

#endif
