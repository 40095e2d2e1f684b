/*
 * A message to a worker whose plugin has no on_message does not vanish: the sender gets ERROR
 * `no_handler` naming the worker, with its send's id, as a thread and as a process; a send to
 * all asks for no answer and gets none. A worker that takes messages still gets them.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

static void sends_to_a_worker_without_on_message_get_no_handler(harness_t *h, int mode)
{
    swb_child_t c;
    size_t n = 0;
    /* The sleep plugin serves tasks only. */
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sleep", .mode = mode);
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);
    size_t len;
    void *body = pack_str(&len, "hello");
    assert_int_equal(swb_peer_send(h->parent, c.name, body, len), SWB_OK);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_ERROR, 5000, NULL), SWB_OK);
    assert_int_equal(m.code, SWB_E_NO_HANDLER);
    assert_string_equal(m.name, c.name);
    assert_non_null(strstr(m.text, "takes no messages"));
    assert_true(m.id != 0); /* the send's own id: it can be matched */
    swb_msg_close(&m);

    /* To all: no answer asked, none comes. */
    assert_int_equal(swb_peer_broadcast(h->parent, body, len), SWB_OK);
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_ERROR, 500, NULL), SWB_E_TIMEOUT);
    free(body);
    harness_echo_ok(h->parent, "echo-taker", "still delivered");
}

static int setup(void **state)
{
    if (harness_setup(state) != 0)
        return -1;
    harness_t *h = *state;
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "echo", .name = "echo-taker");
    return swb_spawn(h->parent, &so, &c, 1, &n) == SWB_OK ? 0 : -1;
}

static void test_a_thread_worker_without_on_message_answers_no_handler(void **state)
{
    sends_to_a_worker_without_on_message_get_no_handler(*state, SWB_CHILD_THREAD);
}

static void test_a_process_worker_without_on_message_answers_no_handler(void **state)
{
    sends_to_a_worker_without_on_message_get_no_handler(*state, SWB_CHILD_PROCESS);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_thread_worker_without_on_message_answers_no_handler,
                                        setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_a_process_worker_without_on_message_answers_no_handler,
                                        setup, harness_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
