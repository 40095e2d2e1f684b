/*
 * A client whose broker goes away with tasks in flight: within a few of the broker's
 * heartbeat intervals (200 ms here, liveness 3) every one of them ends with RESULT
 * `broker_lost`, through swb_wait or its callback, exactly once, and the outstanding count goes
 * back to zero; nothing waits for ever. With a broker back on the same endpoint the client
 * registers again and runs new tasks, and no second answer for the old ones ever arrives.
 *
 * A broker killed and replaced faster than that (a real `swb broker`, SIGKILLed, and a new one
 * on its socket) is told apart by the boot id in WELCOME: the tasks, and the waits for what the
 * old broker owed, end `broker_lost` at once, naming the endpoint; the same peer then works
 * with the new broker. A WELCOME from the same broker (a HELLO again on the same connection)
 * ends nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

typedef struct {
    int calls, code;
} seen_t;

static void on_result(void *arg, uint64_t id, int code, const swb_msg_t *m)
{
    seen_t *s = arg;
    s->calls++;
    s->code = code;
}

static uint64_t submit_sleep(harness_t *h, int ms, const swb_task_opts_t *o)
{
    size_t len;
    void *body = pack_map_int(&len, "ms", ms);
    uint64_t id = 0;
    assert_int_equal(swb_submit(h->parent, "sleep", body, len, o, &id), SWB_OK);
    free(body);
    return id;
}

static void test_tasks_in_flight_end_broker_lost_when_the_broker_goes(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sleep", .mode = SWB_CHILD_THREAD);
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);
    seen_t seen = {0};
    swb_task_opts_t with_cb = SWB_OPTS(swb_task_opts_t, .on_result = on_result, .arg = &seen);
    uint64_t a = submit_sleep(h, 5000, NULL), b = submit_sleep(h, 5000, NULL);
    submit_sleep(h, 5000, &with_cb);
    assert_int_equal(swb_peer_outstanding(h->parent), 3);

    swb_broker_destroy(&h->broker); /* gone, as a broker killed with -9 is to its clients */

    swb_msg_t r = {0};
    assert_int_equal(swb_wait(h->parent, a, &r, 10000), SWB_E_BROKER_LOST);
    assert_non_null(strstr(r.text, h->endpoint)); /* says which broker */
    swb_msg_close(&r);
    assert_int_equal(swb_wait(h->parent, b, &r, 10000), SWB_E_BROKER_LOST);
    swb_msg_close(&r);
    assert_int_equal(swb_peer_recv(h->parent, &r, 200), SWB_E_TIMEOUT); /* nothing more */
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.code, SWB_E_BROKER_LOST);
    assert_int_equal(swb_peer_outstanding(h->parent), 0);

    /* A broker back on the endpoint: the client says HELLO again and works. */
    assert_int_equal(harness_broker(h, 200), SWB_OK);
    so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sum", .mode = SWB_CHILD_THREAD);
    int rc = SWB_E_NOT_REGISTERED;
    for (int64_t end = now_ms() + 10000; rc != SWB_OK && now_ms() < end;) {
        rc = swb_spawn(h->parent, &so, &c, 1, &n);
        if (rc != SWB_OK)
            swb_peer_recv(h->parent, &r, 100); /* lets it hear the broker and register */
        swb_msg_close(&r);
    }
    assert_int_equal(rc, SWB_OK);
    harness_call_sum_ok(h->parent, 5000);
    assert_int_equal(swb_wait_any(h->parent, &r, 300), SWB_E_TIMEOUT); /* no late answers */
    assert_int_equal(seen.calls, 1);
}

/* ---- a broker replaced on its endpoint ------------------------------------------------- */

/* The `swb broker` processes of a case, file-level so that teardown ends them whatever
 * happened; 0 when not running. */
static pid_t old_broker, new_broker;

static pid_t start_swb_broker(const char *endpoint)
{
    char *argv[] = {SWB_BIN_DIR "/swb", "broker", "--endpoint", (char *)endpoint, NULL};
    return harness_exec(argv, -1, 0);
}

static void kill_reap(pid_t *pid)
{
    harness_kill_reap((int)*pid);
    *pid = 0;
}

static int swb_broker_teardown(void **state)
{
    kill_reap(&old_broker);
    kill_reap(&new_broker);
    return harness_teardown(state); /* the peer, the socket directory */
}

/* The harness's directory and a parent peer, on a `swb broker` process instead of an embedded
 * broker. */
static int swb_broker_setup(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    *state = h;
    if (!h || harness_dir(h) != 0) {
        free(h);
        *state = NULL;
        return -1;
    }
    old_broker = start_swb_broker(h->endpoint);
    swb_peer_opts_t o = {
        .endpoint = h->endpoint, .name = "test-parent", .connect_timeout_ms = 10000};
    if (old_broker <= 0 || swb_peer_new(&h->parent, &o) != SWB_OK) {
        swb_broker_teardown(state);
        return -1;
    }
    return 0;
}

/* A case on a `swb broker` process (CMake registers each SWB_DAEMON_IT(name) as a test). */
#define SWB_DAEMON_IT(name)                                                                        \
    cmocka_unit_test_setup_teardown(name, swb_broker_setup, swb_broker_teardown)

static void spawn_thread_child(swb_peer_t *p, const char *plugin, const char *name, uint32_t cap)
{
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = plugin, .name = name,
                                   .mode = SWB_CHILD_THREAD, .capacity = cap);
    assert_int_equal(swb_spawn(p, &so, &c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
}

static void test_a_new_broker_on_the_endpoint_ends_what_the_old_one_had(void **state)
{
    harness_t *h = *state;
    swb_peer_t *p = h->parent;
    spawn_thread_child(p, "sleep", "sleeper", 1);
    seen_t seen = {0};
    swb_task_opts_t with_cb = SWB_OPTS(swb_task_opts_t, .on_result = on_result, .arg = &seen);
    uint64_t a = submit_sleep(h, 20000, NULL), b = submit_sleep(h, 20000, NULL);
    submit_sleep(h, 20000, &with_cb);
    /* One connection, in order: once STATS is answered the broker has read the tasks. */
    void *stats = NULL;
    size_t len = 0;
    assert_int_equal(swb_peer_stats(p, &stats, &len, 5000), SWB_OK);
    free(stats);
    assert_int_equal(swb_peer_outstanding(p), 3);

    /* The broker dies, its thread worker with it, and a new one takes the socket at once:
     * the peer's next heartbeat reaches the new broker, long before the old one's silence
     * (3 s) would be noticed. */
    assert_int_equal(kill(old_broker, SIGKILL), 0);
    kill_reap(&old_broker);
    new_broker = start_swb_broker(h->endpoint);
    assert_true(new_broker > 0);

    /* What the old broker owed without a request (the sleeper's exit) is not waited for. */
    int code = 0, sig = 0;
    assert_int_equal(swb_wait_exit(p, "sleeper", &code, &sig, 20000), SWB_E_BROKER_LOST);

    swb_msg_t r = {0};
    assert_int_equal(swb_wait(p, a, &r, 20000), SWB_E_BROKER_LOST);
    assert_int_equal(r.type, SWB_MSG_RESULT);
    assert_non_null(strstr(r.text, h->endpoint)); /* says which broker, and what happened */
    assert_non_null(strstr(r.text, "restarted"));
    swb_msg_close(&r);
    assert_int_equal(swb_wait(p, b, &r, 20000), SWB_E_BROKER_LOST);
    assert_non_null(strstr(r.text, "restarted"));
    swb_msg_close(&r);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.code, SWB_E_BROKER_LOST);
    assert_int_equal(swb_peer_outstanding(p), 0);
    assert_int_equal(swb_peer_recv(p, &r, 200), SWB_E_TIMEOUT); /* each ended once */

    /* The same peer, registered with the new broker, starts a worker there and calls it. */
    spawn_thread_child(p, "sum", "adder", 1);
    harness_call_sum_ok(p, 5000);
    assert_int_equal(swb_wait_any(p, &r, 300), SWB_E_TIMEOUT);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(swb_peer_outstanding(p), 0);
    swb_msg_close(&r);
}

static void test_a_welcome_from_the_same_broker_ends_nothing(void **state)
{
    harness_t *h = *state;
    swb_peer_t *p = h->parent;
    spawn_thread_child(p, "sleep", "sleeper", 3);
    seen_t seen = {0};
    swb_task_opts_t with_cb = SWB_OPTS(swb_task_opts_t, .on_result = on_result, .arg = &seen);
    uint64_t a = submit_sleep(h, 1500, NULL), b = submit_sleep(h, 1500, NULL);
    submit_sleep(h, 1500, &with_cb);

    /* HELLO again on the peer's own connection, as a peer may (PROTOCOL.md 5.1): the broker
     * answers WELCOME with the boot id it sent before. Its id is above every id the peer has
     * used, so a WELCOME taken for a new broker's would end them all. */
    swb_header_t hello;
    swb_header_init(&hello, SWB_CMD_HELLO);
    SWB_SET(&hello, SWB_F_ID);
    hello.id = 1ull << 40;
    swb_header_set_str(&hello, SWB_F_NAME, swb_peer_name(p));
    SWB_SET(&hello, SWB_F_KIND);
    hello.kind = SWB_KIND_CLIENT;
    assert_int_equal(raw_send_header(swb_peer_socket(p), &hello, NULL, 0), 0);
    /* Its answer comes after the WELCOME, which the peer has then read. */
    void *stats = NULL;
    size_t len = 0;
    assert_int_equal(swb_peer_stats(p, &stats, &len, 5000), SWB_OK);
    free(stats);

    /* What the broker owes is still waited for: the sleeper has not exited, and the tasks
     * end with their results. */
    assert_int_equal(swb_wait_exit(p, "sleeper", NULL, NULL, 200), SWB_E_TIMEOUT);
    swb_msg_t r = {0};
    assert_int_equal(swb_wait(p, a, &r, 20000), SWB_OK);
    assert_int_equal(swb_wait(p, b, &r, 20000), SWB_OK);
    for (int64_t end = now_ms() + 20000; seen.calls == 0 && now_ms() < end;)
        swb_peer_recv(p, &r, 100);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.code, SWB_OK);
    assert_int_equal(swb_peer_outstanding(p), 0);
    swb_msg_close(&r);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_IT(test_tasks_in_flight_end_broker_lost_when_the_broker_goes),
        SWB_DAEMON_IT(test_a_new_broker_on_the_endpoint_ends_what_the_old_one_had),
        SWB_IT(test_a_welcome_from_the_same_broker_ends_nothing),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
