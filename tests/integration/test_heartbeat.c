/*
 * Children that stop answering or never start: a process child frozen with SIGSTOP misses
 * its heartbeats (broker interval 200 ms) and is declared LOST to its parent, then killed
 * (EXIT by SIGKILL); a plugin built for another ABI is refused and its EXIT reported.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

static int stopped_pid = -1;

static int heartbeat_teardown(void **state)
{
    if (stopped_pid > 0 && pid_alive(stopped_pid))
        kill(stopped_pid, SIGCONT); /* the broker's SIGTERM/SIGKILL then ends it normally */
    stopped_pid = -1;
    return harness_teardown(state);
}

static void test_stopped_child_is_declared_lost_then_killed(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.plugin = "echo", .mode = SWB_CHILD_PROCESS, .name = "sleeper"};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    stopped_pid = c.pid;
    int64_t t0 = now_ms();
    assert_int_equal(kill(c.pid, SIGSTOP), 0);

    swb_msg_t m = {0};
    int lost = 0, exited = 0, sig = -1;
    int64_t lost_at = 0;
    while (!exited) {
        int64_t left = t0 + 5000 - now_ms();
        if (left <= 0)
            break;
        if (recv_type(h->parent, &m, SWB_MSG_EVENT, (int)left, NULL) != SWB_OK)
            break;
        if (strcmp(m.name, "sleeper") != 0)
            continue;
        if (m.event == SWB_EVENT_LOST && !lost) {
            lost = 1;
            lost_at = now_ms();
        } else if (m.event == SWB_EVENT_EXIT) {
            exited = 1;
            sig = m.signal;
        }
    }
    swb_msg_close(&m);
    assert_true(lost);
    assert_true(exited);
    /* 3 beats of 200 ms: found in well under the 5 s allowed, and not before it was due. */
    assert_true(lost_at - t0 >= 400);
    assert_int_equal(sig, SIGKILL);
    assert_false(pid_alive(c.pid));
    stopped_pid = -1;
}

static void refused(harness_t *h, int mode, const char *name)
{
    swb_spawn_opts_t o = {.plugin = TEST_PLUGIN("bad_abi"), .mode = mode, .name = name};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_E_SPAWN);
    int code = 0, sig = -1;
    assert_int_equal(swb_wait_exit(h->parent, name, &code, &sig, 5000), SWB_OK);
    assert_int_not_equal(code, 0);
    assert_int_equal(sig, 0);
}

static void test_plugin_with_wrong_abi_is_refused_as_a_process(void **state)
{
    refused(*state, SWB_CHILD_PROCESS, "bad-abi-proc");
}

static void test_plugin_with_wrong_abi_is_refused_as_a_thread(void **state)
{
    refused(*state, SWB_CHILD_THREAD, "bad-abi-thread");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_stopped_child_is_declared_lost_then_killed, harness_setup,
                                    heartbeat_teardown),
    SWB_IT(test_plugin_with_wrong_abi_is_refused_as_a_process),
    SWB_IT(test_plugin_with_wrong_abi_is_refused_as_a_thread),
};

SWB_TEST_MAIN(tests)
