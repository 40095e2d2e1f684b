/*
 * Answers and messages larger than the broker takes (its max_msg_size, told to every peer in
 * WELCOME): a reply over it would cost the worker its connection and the task its answer, so
 * the worker host refuses it before sending. The task ends at once with `too_large` (never at
 * its deadline), the worker stays and serves the next task, and a message over the limit is
 * not sent, the plugin is told. Thread and process workers alike.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

#define MAX_MSG (64u * 1024)

static int oversize_setup(void **state)
{
    return harness_setup_with(state, &SWB_OPTS(swb_broker_opts_t, .max_msg_size = MAX_MSG));
}

static void spawn_bigreply(harness_t *h, int mode, swb_child_t *c)
{
    size_t n = 0;
    swb_spawn_opts_t o =
        SWB_OPTS(swb_spawn_opts_t, .plugin = TEST_PLUGIN("bigreply"), .mode = mode, .name = "big");
    assert_int_equal(swb_spawn(h->parent, &o, c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
}

/* Call bigreply with {key: n}; returns the task's code, the reply in *r. */
static int call(harness_t *h, const char *key, int64_t n, swb_msg_t *r)
{
    size_t len;
    void *body = pack_map_int(&len, key, n);
    int rc = swb_call(h->parent, "bigreply", body, len, 20000, r);
    free(body);
    return rc;
}

static void reply_over_the_limit_ends_the_task_too_large(harness_t *h, int mode)
{
    swb_child_t c;
    spawn_bigreply(h, mode, &c);
    swb_msg_t r = {0};
    int64_t t0 = now_ms();
    assert_int_equal(call(h, "n", 200000, &r), SWB_E_TOO_LARGE);
    assert_true(now_ms() - t0 < 10000); /* answered, not left to its 20 s deadline */
    assert_non_null(strstr(r.text, "over the broker's limit"));
    swb_msg_close(&r);

    /* The same worker answers the next task: its connection was never cut. */
    assert_int_equal(call(h, "n", 1000, &r), SWB_OK);
    assert_int_equal(r.len, 1005);
    swb_msg_close(&r);
    swb_msg_t m = {0};
    assert_int_equal(swb_peer_recv(h->parent, &m, 300), SWB_E_TIMEOUT); /* no EXIT, no LOST */
    swb_msg_close(&m);
    void *stats = NULL;
    size_t slen = 0;
    assert_int_equal(swb_peer_stats(h->parent, &stats, &slen, 5000), SWB_OK);
    int64_t restarts = -1;
    assert_int_equal(unpack_map_int(stats, slen, "restarts", &restarts), 0);
    assert_int_equal(restarts, 0);
    free(stats);
}

static void test_thread_reply_over_the_limit_ends_the_task_too_large(void **state)
{
    reply_over_the_limit_ends_the_task_too_large(*state, SWB_CHILD_THREAD);
}

static void test_process_reply_over_the_limit_ends_the_task_too_large(void **state)
{
    reply_over_the_limit_ends_the_task_too_large(*state, SWB_CHILD_PROCESS);
}

static void test_message_over_the_limit_is_not_sent_and_the_plugin_is_told(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    spawn_bigreply(h, SWB_CHILD_PROCESS, &c);
    swb_msg_t r = {0};
    assert_int_equal(call(h, "send", 200000, &r), SWB_OK);
    int64_t ret = 0;
    assert_int_equal(unpack_map_int(r.body, r.len, "ret", &ret), 0);
    assert_int_equal(ret, SWB_E_TOO_LARGE);
    swb_msg_close(&r);
    swb_msg_t m = {0};
    assert_int_equal(swb_peer_recv(h->parent, &m, 300), SWB_E_TIMEOUT); /* nothing delivered */
    swb_msg_close(&m);

    /* Under the limit it arrives. */
    assert_int_equal(call(h, "send", 1000, &r), SWB_OK);
    assert_int_equal(unpack_map_int(r.body, r.len, "ret", &ret), 0);
    assert_int_equal(ret, SWB_OK);
    swb_msg_close(&r);
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
    assert_int_equal(m.len, 1005);
    swb_msg_close(&m);
}

#define SWB_OVERSIZE(t) cmocka_unit_test_setup_teardown(t, oversize_setup, harness_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_OVERSIZE(test_thread_reply_over_the_limit_ends_the_task_too_large),
        SWB_OVERSIZE(test_process_reply_over_the_limit_ends_the_task_too_large),
        SWB_OVERSIZE(test_message_over_the_limit_is_not_sent_and_the_plugin_is_told),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
