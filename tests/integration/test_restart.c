/*
 * Broker restart: two client peers and an independently started worker process (swb-worker
 * with no parent) stay up while the broker goes away and a new one takes the same endpoint.
 * The peer library says HELLO again by itself (on broker silence or "not registered"), so
 * messages flow again: client -> worker echo round trip and client -> client.
 *
 * Two ways the broker goes: destroyed in an orderly way (swb_broker_destroy), and killed
 * (a broker in a forked process, SIGKILLed).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define WORKER "ext-echo"

/* File-level so teardown can end them whatever happened. */
static int worker_pid = -1, broker_pid = -1;
static swb_peer_t *client_b;

static int restart_teardown(void **state)
{
    swb_peer_destroy(&client_b);
    harness_kill_reap(worker_pid);
    harness_kill_reap(broker_pid);
    worker_pid = broker_pid = -1;
    return harness_teardown(state);
}

/* Send probes from `from` to `to` until one comes back to `from` (an echo worker answers) or,
 * when `rx` is given, reaches `rx`. Each peer's recv drives its own reconnection. */
static int probe_until_delivered(swb_peer_t *from, const char *to, swb_peer_t *rx, int timeout_ms)
{
    swb_peer_t *reader = rx ? rx : from;
    const char *want_from = rx ? swb_peer_name(from) : to;
    swb_msg_t m = {0};
    int64_t end = now_ms() + timeout_ms;
    for (int64_t k = 1; now_ms() < end; k++) {
        size_t len;
        void *body = pack_map_int(&len, "probe", k);
        swb_peer_send(from, to, body, len); /* may fail while the broker is away */
        free(body);
        int64_t until = now_ms() + 200;
        while (now_ms() < until) {
            if (rx) /* keep the sender's own connection alive and registered as well */
                swb_peer_recv(from, &m, 0);
            if (swb_peer_recv(reader, &m, 20) != SWB_OK)
                continue;
            int64_t got;
            if (m.type == SWB_MSG_DELIVER && strcmp(m.from, want_from) == 0 &&
                unpack_map_int(m.body, m.len, "probe", &got) == 0) {
                swb_msg_close(&m);
                return 1;
            }
        }
    }
    swb_msg_close(&m);
    return 0;
}

static void start_peers(harness_t *h)
{
    client_b = harness_client(h, "client-b");
    assert_non_null(client_b);
    worker_pid = harness_start_worker(h->endpoint, WORKER, "echo");
    assert_true(worker_pid > 0);
    /* The worker registers by itself; until then sends to it get unknown_peer. */
    assert_true(probe_until_delivered(h->parent, WORKER, NULL, 5000));
    assert_true(probe_until_delivered(h->parent, "client-b", client_b, 5000));
}

static void assert_messages_flow_again(harness_t *h)
{
    assert_true(pid_alive(worker_pid));
    assert_true(probe_until_delivered(h->parent, WORKER, NULL, 8000));
    assert_true(probe_until_delivered(client_b, WORKER, NULL, 8000));
    assert_true(probe_until_delivered(h->parent, "client-b", client_b, 5000));
    assert_true(probe_until_delivered(client_b, "test-parent", h->parent, 5000));
    /* They came back under their own names, as the same peers. */
    assert_string_equal(swb_peer_name(h->parent), "test-parent");
    assert_string_equal(swb_peer_name(client_b), "client-b");
}

static void test_peers_come_back_after_the_broker_is_destroyed_and_replaced(void **state)
{
    harness_t *h = *state;
    start_peers(h);

    swb_broker_destroy(&h->broker);
    /*
     * The worker is no child of this broker: it was started on its own, so it should outlive
     * the broker and wait for the next one, as the clients do.
     */
    int64_t end = now_ms() + 1000;
    while (now_ms() < end && pid_alive(worker_pid)) {
        swb_msg_t m = {0};
        swb_peer_recv(client_b, &m, 50); /* let the clients see whatever the broker said */
        swb_msg_close(&m);
    }
    if (!pid_alive(worker_pid))
        fail_msg("the independently started worker exited with the broker instead of "
                 "waiting to reconnect to the next one");
    assert_int_equal(harness_broker(h, 0), SWB_OK);
    assert_messages_flow_again(h);
}

/* A broker in a process of its own, so it can be killed. Forked before this test process
 * has any ZeroMQ context; the child only ever uses its own. */
static int start_broker_process(harness_t *h)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char ok = harness_broker(h, 0) == SWB_OK ? 1 : 0;
        if (write(fds[1], &ok, 1) != 1 || !ok)
            _exit(1);
        for (;;)
            pause(); /* until SIGKILL */
    }
    close(fds[1]);
    char ok = 0;
    ssize_t r = pid > 0 ? read(fds[0], &ok, 1) : -1;
    close(fds[0]);
    if (pid > 0)
        broker_pid = (int)pid;
    return r == 1 && ok ? 0 : -1;
}

static int killed_broker_setup(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    if (!h || harness_dir(h) != 0) {
        free(h);
        return -1;
    }
    *state = h;
    if (start_broker_process(h) != 0 || !(h->parent = harness_client(h, "test-parent")))
        return -1;
    return 0;
}

static void test_peers_come_back_after_the_broker_is_killed_and_replaced(void **state)
{
    harness_t *h = *state;
    start_peers(h);

    assert_int_equal(kill(broker_pid, SIGKILL), 0);
    assert_int_equal(waitpid(broker_pid, NULL, 0), broker_pid);
    broker_pid = -1;
    assert_true(pid_alive(worker_pid));
    assert_int_equal(harness_broker(h, 0), SWB_OK); /* the lock died with the old broker */
    assert_messages_flow_again(h);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_peers_come_back_after_the_broker_is_destroyed_and_replaced,
                                    harness_setup, restart_teardown),
    cmocka_unit_test_setup_teardown(test_peers_come_back_after_the_broker_is_killed_and_replaced,
                                    killed_broker_setup, restart_teardown),
};

SWB_TEST_MAIN(tests)
