/*
 * A client whose broker goes away with tasks in flight: within a few of the broker's
 * heartbeat intervals (200 ms here, liveness 3) every one of them ends with RESULT
 * `broker_lost`, through swb_wait or its callback, exactly once, and the outstanding count goes
 * back to zero; nothing waits for ever. With a broker back on the same endpoint the client
 * registers again and runs new tasks, and no second answer for the old ones ever arrives.
 */
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_IT(test_tasks_in_flight_end_broker_lost_when_the_broker_goes),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
