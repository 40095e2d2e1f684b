/*
 * Parent-child messaging through a real broker: children started as threads and as
 * processes, messages both ways, exit events with code and signal, kill and disconnect.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

static void spawn_one(harness_t *h, const char *plugin, int mode, swb_child_t *c)
{
    swb_spawn_opts_t o = {.plugin = plugin, .mode = mode};
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
    assert_true(c->name[0] != '\0');
}

static void round_trip(harness_t *h, int mode)
{
    swb_child_t c;
    spawn_one(h, "echo", mode, &c);
    harness_echo_ok(h->parent, c.name, "hello child");
}

static void test_thread_child_round_trip(void **state)
{
    harness_t *h = *state;
    round_trip(h, SWB_CHILD_THREAD);
}

static void test_process_child_round_trip(void **state)
{
    harness_t *h = *state;
    round_trip(h, SWB_CHILD_PROCESS);
}

static void test_process_child_has_its_own_pid(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_PROCESS, &c);
    assert_true(c.pid > 0);
    assert_int_not_equal(c.pid, getpid());
    assert_true(pid_alive(c.pid));
}

static void test_thread_child_runs_in_this_process(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_THREAD, &c);
    assert_int_equal(c.pid, getpid());
}

static void test_child_answers_its_parent(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "sum", SWB_CHILD_PROCESS, &c);
    size_t len;
    void *body = pack_map_int2(&len, "from", 0, "to", 10000);
    assert_int_equal(swb_peer_send(h->parent, c.name, body, len), SWB_OK);
    free(body);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
    int64_t sum = 0;
    assert_int_equal(unpack_map_int(m.body, m.len, "sum", &sum), 0);
    assert_int_equal(sum, 50005000);
    swb_msg_close(&m);
}

static void test_exit_event_with_signal_after_sigkill(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_PROCESS, &c);
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    int code = -1, sig = -1;
    assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
    assert_int_equal(sig, SIGKILL);
}

static void test_kill_sends_the_signal(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_PROCESS, &c);
    assert_int_equal(swb_kill(h->parent, c.name, SIGTERM), SWB_OK);
    int code = -1, sig = -1;
    assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
    /* swb-worker handles SIGTERM by leaving cleanly: exit code 0, no signal. */
    assert_int_equal(sig, 0);
    assert_int_equal(code, 0);
    assert_false(pid_alive(c.pid));
}

static void test_disconnect_makes_child_exit_with_code_zero(void **state)
{
    harness_t *h = *state;
    for (int mode = SWB_CHILD_PROCESS; mode <= SWB_CHILD_THREAD; mode++) {
        swb_child_t c;
        spawn_one(h, "echo", mode, &c);
        assert_int_equal(swb_disconnect(h->parent, c.name), SWB_OK);
        int code = -1, sig = -1;
        assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
        assert_int_equal(code, 0);
        assert_int_equal(sig, 0);
    }
}

static void test_kill_thread_child_reports_exit(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_THREAD, &c);
    assert_int_equal(swb_kill(h->parent, c.name, SIGKILL), SWB_OK);
    int code = -1, sig = -1;
    assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
    assert_int_equal(sig, SIGKILL);
}

static void test_spawn_unknown_plugin_fails_with_clear_error(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.plugin = "no-such-plugin", .mode = SWB_CHILD_PROCESS};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_E_PLUGIN);
    assert_int_equal(n, 0);
}

static void test_kill_of_someone_elses_child_is_refused(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_one(h, "echo", SWB_CHILD_THREAD, &c);
    swb_peer_t *other = harness_client(h, "stranger");
    assert_non_null(other);
    assert_int_equal(swb_kill(other, c.name, SIGKILL), SWB_E_UNKNOWN_PEER);
    swb_peer_destroy(&other);
}

static void test_spawn_several_children_with_one_call(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.plugin = "echo", .mode = SWB_CHILD_THREAD, .count = 4, .name = "pool"};
    swb_child_t c[4];
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, c, 4, &n), SWB_OK);
    assert_int_equal(n, 4);
    assert_string_equal(c[0].name, "pool-0");
    assert_string_equal(c[3].name, "pool-3");
}

static const struct CMUnitTest tests[] = {
    SWB_IT(test_thread_child_round_trip),
    SWB_IT(test_process_child_round_trip),
    SWB_IT(test_process_child_has_its_own_pid),
    SWB_IT(test_thread_child_runs_in_this_process),
    SWB_IT(test_child_answers_its_parent),
    SWB_IT(test_exit_event_with_signal_after_sigkill),
    SWB_IT(test_kill_sends_the_signal),
    SWB_IT(test_disconnect_makes_child_exit_with_code_zero),
    SWB_IT(test_kill_thread_child_reports_exit),
    SWB_IT(test_spawn_unknown_plugin_fails_with_clear_error),
    SWB_IT(test_kill_of_someone_elses_child_is_refused),
    SWB_IT(test_spawn_several_children_with_one_call),
};

SWB_TEST_MAIN(tests)
