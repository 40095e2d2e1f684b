/*
 * Reliability: a SPAWN storm does not stall the broker.
 *
 * Promise: while a parent starts 64 worker processes in one SPAWN, from a broker whose process
 * holds a 512 MiB heap (which made every fork-and-wait-for-exec slow), the workers already
 * running keep being served: no worker is declared lost, none is restarted, and every call a
 * second client makes meanwhile is answered. All 64 new children become ready.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

#define HEAP_MB 512
#define STORM   64

typedef struct {
    swb_peer_t *client;
    int stop;
    int calls, failures, last_code;
} caller_t;

/* Calls `sum` until told to stop: each must be answered, and right. */
static void *caller(void *arg)
{
    caller_t *c = arg;
    for (int i = 0; i < 100000 && !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE); i++) {
        size_t len;
        void *body = pack_map_int2(&len, "a", i, "b", 1);
        swb_msg_t r = {0};
        int rc = swb_call(c->client, "sum", body, len, 10000, &r);
        int64_t sum = -1;
        if (rc != SWB_OK || unpack_map_int(r.body, r.len, "sum", &sum) != 0 || sum != i + 1) {
            c->failures++;
            c->last_code = rc;
        }
        c->calls++;
        swb_msg_close(&r);
        free(body);
    }
    return NULL;
}

static void test_spawn_of_64_children_stalls_no_one(void **state)
{
    harness_t *h = *state;
    swb_child_t steady[4];
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sum", .name = "steady", .count = 4);
    assert_int_equal(swb_spawn(h->parent, &so, steady, 4, &n), SWB_OK);
    assert_int_equal(n, 4);

    /* Touched, so that it is really this process's memory. */
    size_t heap_len = (size_t)HEAP_MB << 20;
    char *heap = malloc(heap_len);
    assert_non_null(heap);
    memset(heap, 1, heap_len);

    caller_t c = {.client = harness_client(h, "rel-caller")};
    assert_non_null(c.client);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, caller, &c), 0);

    swb_child_t *storm = calloc(STORM, sizeof *storm);
    assert_non_null(storm);
    swb_spawn_opts_t big = SWB_OPTS(swb_spawn_opts_t, .plugin = "echo", .name = "storm",
                                    .count = STORM, .timeout_ms = 60000);
    int64_t t0 = now_ms();
    int rc = swb_spawn(h->parent, &big, storm, STORM, &n);
    int64_t spawn_ms = now_ms() - t0;

    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    int64_t lost = harness_stat(h->parent, "peers_lost"),
            restarts = harness_stat(h->parent, "restarts");
    int64_t children = harness_stat(h->parent, "children"),
            stalls = harness_stat(h->parent, "loop_stalls");
    printf("spawn storm: %d children in %lld ms; %d calls meanwhile, %d failed; peers lost %lld, "
           "restarts %lld, loop stalls %lld\n",
           STORM, (long long)spawn_ms, c.calls, c.failures, (long long)lost, (long long)restarts,
           (long long)stalls);
    free(storm);
    free(heap);
    swb_peer_destroy(&c.client);

    assert_int_equal(rc, SWB_OK);
    assert_int_equal(n, STORM);
    assert_int_equal(children, 4 + STORM);
    assert_int_equal(lost, 0);
    assert_int_equal(restarts, 0);
    assert_true(c.calls > 0);
    if (c.failures)
        fail_msg("%d of %d calls failed during the storm (last: %s)", c.failures, c.calls,
                 swb_strerror(c.last_code));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_IT(test_spawn_of_64_children_stalls_no_one),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
