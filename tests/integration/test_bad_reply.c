/*
 * A plugin that answers with bytes that are not one msgpack value: its task ends with RESULT
 * `bad_reply` and a text saying what was wrong, checked by the worker host as a thread and as
 * a process, so a client never takes garbage for a success. The worker stays and serves the
 * next task, which answers well.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

static int call(harness_t *h, const char *what, swb_msg_t *r)
{
    size_t len;
    void *body = pack_str(&len, what);
    int rc = swb_call(h->parent, "badreply", body, len, 5000, r);
    free(body);
    return rc;
}

static void bad_replies_end_the_task_bad_reply(harness_t *h, int mode)
{
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so =
        SWB_OPTS(swb_spawn_opts_t, .plugin = TEST_PLUGIN("badreply"), .mode = mode);
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);
    static const char *const bad[] = {"garbage", "trailing", "truncated"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        swb_msg_t r = {0};
        assert_int_equal(call(h, bad[i], &r), SWB_E_BAD_REPLY);
        assert_non_null(strstr(r.text, "not one msgpack value"));
        assert_int_equal(r.len, 0); /* none of the garbage reaches the client */
        swb_msg_close(&r);
    }
    swb_msg_t r = {0};
    assert_int_equal(call(h, "fine", &r), SWB_OK);
    assert_true(unpack_is_str(r.body, r.len, "fine"));
    swb_msg_close(&r);
    assert_string_equal(swb_errname(SWB_E_BAD_REPLY), "bad_reply");
}

static void test_a_thread_workers_bad_reply_ends_the_task_bad_reply(void **state)
{
    bad_replies_end_the_task_bad_reply(*state, SWB_CHILD_THREAD);
}

static void test_a_process_workers_bad_reply_ends_the_task_bad_reply(void **state)
{
    bad_replies_end_the_task_bad_reply(*state, SWB_CHILD_PROCESS);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_IT(test_a_thread_workers_bad_reply_ends_the_task_bad_reply),
        SWB_IT(test_a_process_workers_bad_reply_ends_the_task_bad_reply),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
