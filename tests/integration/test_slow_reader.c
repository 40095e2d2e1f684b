/*
 * A client that reads its results late: it sends every task first, with a receive high-water
 * mark of 100 and a broker whose per-peer mark is 50, and reads only afterwards. The broker's
 * pipe to it fills within the first hundred answers; the rest wait in the broker for the pipe
 * to take them. Every task is answered exactly once: none lost, none twice.
 */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness.h"
#include "swb_test.h"

#define N_TASKS 2000

static int slow_setup(void **state)
{
    return harness_setup_with(state, &SWB_OPTS(swb_broker_opts_t, .peer_hwm = 50));
}

static void test_a_late_reader_gets_every_result_once(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sum", .mode = SWB_CHILD_THREAD);
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);

    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(s);
    int zero = 0, hwm = 100;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    assert_int_equal(zmq_connect(s, h->endpoint), 0);
    swb_header_t q, r;
    unsigned char buf[SWB_MAX_HEADER + 2048];
    swb_header_init(&q, SWB_CMD_HELLO);
    swb_header_set_str(&q, SWB_F_NAME, "late-reader");
    SWB_SET(&q, SWB_F_KIND);
    q.kind = SWB_KIND_CLIENT;
    assert_int_equal(raw_send_header(s, &q, NULL, 0), 0);
    assert_int_equal(raw_recv(s, &r, buf, sizeof buf, 5000), SWB_OK);
    assert_int_equal(r.cmd, SWB_CMD_WELCOME);

    size_t len;
    void *body = pack_map_int2(&len, "a", 1, "b", 2);
    for (uint64_t id = 1; id <= N_TASKS; id++) {
        swb_header_init(&q, SWB_CMD_TASK);
        SWB_SET(&q, SWB_F_ID);
        q.id = id;
        swb_header_set_str(&q, SWB_F_SERVICE, "sum");
        assert_int_equal(raw_send_header(s, &q, body, len), 0);
    }
    free(body);

    unsigned char *seen = calloc(N_TASKS + 1, 1);
    assert_non_null(seen);
    int answers = 0, twice = 0, failed = 0;
    for (int64_t end = now_ms() + 30000; answers < N_TASKS && now_ms() < end;) {
        if (raw_recv(s, &r, buf, sizeof buf, 1000) != SWB_OK || r.cmd != SWB_CMD_RESULT)
            continue; /* heartbeats, or nothing yet */
        if (r.id < 1 || r.id > N_TASKS)
            continue;
        twice += seen[r.id];
        seen[r.id] = 1;
        failed += r.code != SWB_OK;
        answers++;
    }
    int more = raw_recv(s, &r, buf, sizeof buf, 300) == SWB_OK && r.cmd == SWB_CMD_RESULT;
    free(seen);
    zmq_close(s);
    zmq_ctx_term(ctx);
    assert_int_equal(answers, N_TASKS);
    assert_int_equal(twice, 0);
    assert_int_equal(failed, 0);
    assert_false(more);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_late_reader_gets_every_result_once, slow_setup,
                                        harness_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
