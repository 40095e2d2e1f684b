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

#include "swb_proto.h"
#include "switchboard.h"

/* Full path of a test-only plugin built from tests/plugins/<name>.c. */
#define TEST_PLUGIN(name) SWB_TEST_PLUGIN_DIR "/" name ".so"

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
/* The same with broker options of the test's own (its endpoint is the harness's). */
int harness_setup_with(void **state, const swb_broker_opts_t *opts);

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

/* Monotonic milliseconds. */
int64_t now_ms(void);

/* Start a broker on h->endpoint with options `o` (its endpoints are replaced by
 * h->endpoint; a zero heartbeat becomes 200 ms, liveness 3). */
int harness_broker_with(harness_t *h, const swb_broker_opts_t *o);

/* Start build/bin/swb-worker as an independent process (no parent) serving `plugin` under
 * `name` on `endpoint`. Returns its pid, or -1. */
int harness_start_worker(const char *endpoint, const char *name, const char *plugin);
/* SIGKILL and reap a process this test started; tolerates pid <= 0. */
void harness_kill_reap(int pid);
/* Start argv[0] (e.g. SWB_BIN_DIR "/swb") with standard input and output on /dev/null and
 * standard error on err_fd (-1: the test's own); with nofile > 0, its RLIMIT_NOFILE is that.
 * It dies with this process (PR_SET_PDEATHSIG). Returns its pid, or -1. */
int harness_exec(char *const argv[], int err_fd, int nofile);

/* Top-level integer `key` of the broker's STATS, asked through p; -1 when there is no answer
 * or no such key. */
int64_t harness_stat(swb_peer_t *p, const char *key);

/* Read string key k of a msgpack map body into buf; returns 0 on success. */
int unpack_map_str(const void *body, size_t len, const char *k, char *buf, size_t cap);

/* A raw ZeroMQ DEALER on `endpoint` (its own context in *ctx), for speaking the wire protocol
 * by hand. raw_close closes both and tolerates NULLs. */
void *raw_dealer(void **ctx, const char *endpoint);
void raw_close(void **ctx, void **sock);
/* Send frames as given: n frames of lens[i] bytes. Returns 0 or -1. */
int raw_send_frames(void *sock, const void *const *frames, const size_t *lens, size_t n);
/* Encode `h` and send it, with a body frame when body is non-NULL. */
int raw_send_header(void *sock, const swb_header_t *h, const void *body, size_t len);
/* Receive one message, keep its header frame in buf (cap bytes) and decode it into *h (strings
 * borrow from buf); a body, inline after the header or in its own frame, is dropped. Returns
 * SWB_OK, SWB_E_TIMEOUT or the decode error. */
int raw_recv(void *sock, swb_header_t *h, unsigned char *buf, size_t cap, int timeout_ms);

/* ---- running programs ---- */

#define RUN_OUT_CAP (64 * 1024)

typedef struct {
    int status;    /* exit code, or -1 when it did not exit normally (signal, timeout) */
    int timed_out; /* it was killed at the time limit */
    char out[RUN_OUT_CAP], err[RUN_OUT_CAP];
    size_t n_out, n_err;
} run_t;

/* Collect what process `pid` (leader of a process group of its own) writes on the read ends
 * out_fd and err_fd until both close, killing the whole group after timeout_ms; then reap it
 * and fill *r. Closes out_fd and err_fd. */
void harness_collect(run_t *r, int pid, int out_fd, int err_fd, int timeout_ms);

/* Fail the test, showing the text, when `want` is not in it. */
void assert_has(const char *text, const char *want);

/* Call the sum service with {a: 20, b: 22} through p and fail the test unless it answers
 * {sum: 42} within timeout_ms. */
void harness_call_sum_ok(swb_peer_t *p, int timeout_ms);

/* Send the msgpack string `text` to the echo peer `to` through p and fail the test unless the
 * same bytes come back from it within 5 s. */
void harness_echo_ok(swb_peer_t *p, const char *to, const char *text);

#endif
