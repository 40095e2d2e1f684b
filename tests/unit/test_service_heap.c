/*
 * test_service_heap.c - a service's heap of workers with room (service.c): the least loaded
 * (in flight per slot, plus reported load) on top, and of equally loaded workers the one that
 * joined first. A long random run of load changes, removals and additions is checked against
 * the obvious model, and every worker's stored position against the heap itself.
 */
#include "swb_test.h"

#include <stdlib.h>
#include <string.h>

#include "service.h"

#define N 512

static reg_peer_t workers[N];

/* Worker i serves one service (slot 0) and holds nothing. Join order is a permutation of the
 * records' order, as registry slots are reused: a tie broken by address would fail. */
static reg_peer_t *mk(uint32_t i, uint32_t capacity)
{
    reg_peer_t *w = &workers[i];
    memset(w, 0, sizeof *w);
    w->used = 1;
    w->joined = (uint64_t)(i * 7919u % N) + 1;
    w->capacity = capacity;
    for (int k = 0; k < SWB_MAX_SERVICES; k++)
        w->heap_pos[k] = -1;
    return w;
}

static void svc_free(service_t *s)
{
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static uint64_t model_score(const reg_peer_t *w)
{
    return (uint64_t)w->inflight * 1000 / (w->capacity ? w->capacity : 1) + w->load;
}

static void test_equal_workers_come_out_in_join_order(void **state)
{
    service_t s = {0};
    for (uint32_t i = 0; i < 64; i++)
        assert_int_equal(svc_heap_add(&s, mk(i, 1), 0), SWB_OK);
    uint64_t last = 0;
    for (uint32_t i = 0; i < 64; i++) {
        reg_peer_t *top = svc_heap_top(&s);
        assert_true(top->joined > last); /* each the earliest of those left */
        last = top->joined;
        svc_heap_remove(&s, top, 0);
        assert_int_equal(top->heap_pos[0], -1);
    }
    assert_null(svc_heap_top(&s));
    svc_free(&s);
}

static void test_the_least_loaded_comes_first_whatever_its_join(void **state)
{
    service_t s = {0};
    const uint64_t joined[] = {3, 1, 4, 2};
    for (uint32_t i = 0; i < 4; i++) {
        mk(i, 2)->joined = joined[i];
        assert_int_equal(svc_heap_add(&s, &workers[i], 0), SWB_OK);
    }
    assert_ptr_equal(svc_heap_top(&s), &workers[1]);
    workers[1].inflight = 1; /* half its slots */
    svc_heap_fix(&s, &workers[1], 0);
    assert_ptr_equal(svc_heap_top(&s), &workers[3]);
    workers[3].load = 600; /* reported load counts too */
    svc_heap_fix(&s, &workers[3], 0);
    assert_ptr_equal(svc_heap_top(&s), &workers[0]);
    workers[1].inflight = 0; /* done: the first to join is first again */
    svc_heap_fix(&s, &workers[1], 0);
    assert_ptr_equal(svc_heap_top(&s), &workers[1]);
    svc_free(&s);
}

static void check_positions(const service_t *s)
{
    for (uint32_t i = 0; i < s->n_heap; i++)
        assert_int_equal(s->heap[i].w->heap_pos[s->heap[i].slot], (int32_t)i);
}

/* The worker the heap must have on top: least score, then first joined. */
static reg_peer_t *model_top(const int *in)
{
    reg_peer_t *best = NULL;
    for (uint32_t i = 0; i < N; i++) {
        if (!in[i])
            continue;
        reg_peer_t *w = &workers[i];
        if (!best || model_score(w) < model_score(best) ||
            (model_score(w) == model_score(best) && w->joined < best->joined))
            best = w;
    }
    return best;
}

static void test_random_changes_match_the_model(void **state)
{
    service_t s = {0};
    static int in[N];
    memset(in, 0, sizeof in);
    for (uint32_t i = 0; i < N; i++)
        mk(i, 1 + i % 4);
    srand(7);
    for (int op = 0; op < 200000; op++) {
        uint32_t i = (uint32_t)rand() % N;
        reg_peer_t *w = &workers[i];
        switch (rand() % 4) {
        case 0: /* joins the heap (again) */
            if (!in[i]) {
                assert_int_equal(svc_heap_add(&s, w, 0), SWB_OK);
                in[i] = 1;
            }
            break;
        case 1: /* full or gone: out of the heap */
            svc_heap_remove(&s, w, 0);
            in[i] = 0;
            break;
        default: /* a task sent or answered, or a new load report */
            w->inflight = (uint32_t)rand() % (2 * w->capacity);
            w->load = rand() % 3 ? 0 : (uint32_t)rand() % 1001;
            svc_heap_fix(&s, w, 0);
            break;
        }
        assert_ptr_equal(svc_heap_top(&s), model_top(in));
        if (op % 1000 == 0)
            check_positions(&s);
    }
    check_positions(&s);
    svc_free(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_equal_workers_come_out_in_join_order),
    cmocka_unit_test(test_the_least_loaded_comes_first_whatever_its_join),
    cmocka_unit_test(test_random_changes_match_the_model),
};

SWB_TEST_MAIN(tests)
