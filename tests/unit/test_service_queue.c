/*
 * test_service_queue.c - a service's queue of waiting tasks (service.c): highest priority
 * first, then first come first served, whether it is a ring (one priority, tasks in order) or
 * a heap (anything else), and across the switch from one to the other. A long random run is
 * checked against the obvious model: the next task out is the queued one of highest priority
 * and, among those, lowest seq.
 */
#include "swb_test.h"

#include <stdlib.h>
#include <string.h>

#include "service.h"

#define N 4096

static task_t tasks[N];

static task_t *mk(uint32_t i, int32_t prio, uint64_t seq)
{
    assert_true(i < N);
    memset(&tasks[i], 0, sizeof tasks[i]);
    tasks[i].id = i;
    tasks[i].priority = prio;
    tasks[i].seq = seq;
    tasks[i].qpos = -1;
    return &tasks[i];
}

static void svc_free(service_t *s)
{
    free(s->queue);
    memset(s, 0, sizeof *s);
}

static void test_one_priority_comes_out_in_order(void **state)
{
    service_t s = {0};
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, 0, i + 1)), SWB_OK);
    assert_int_equal(s.n_queue, 1000);
    assert_true(s.ring); /* the fast form: nothing made it a heap */
    for (uint32_t i = 0; i < 1000; i++) {
        task_t *t = svc_queue_pop(&s);
        assert_non_null(t);
        assert_int_equal(t->id, i);
        assert_int_equal(t->qpos, -1);
    }
    assert_null(svc_queue_pop(&s));
    assert_int_equal(s.n_queue, 0);
    svc_free(&s);
}

static void test_higher_priority_first_then_in_order(void **state)
{
    service_t s = {0};
    const int32_t prio[] = {0, 0, 5, 0, -3, 5, 1, 0, 5};
    uint32_t n = sizeof prio / sizeof prio[0];
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, prio[i], i + 1)), SWB_OK);
    const uint32_t want[] = {2, 5, 8, 6, 0, 1, 3, 7, 4};
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(svc_queue_pop(&s)->id, want[i]);
    assert_null(svc_queue_pop(&s));
    /* Empty again: the next tasks of one priority get the ring back. */
    assert_int_equal(svc_queue_push(&s, mk(20, 7, 100)), SWB_OK);
    assert_true(s.ring);
    assert_int_equal(svc_queue_pop(&s)->id, 20);
    svc_free(&s);
}

static void test_removed_tasks_never_come_out(void **state)
{
    service_t s = {0};
    for (uint32_t i = 0; i < 300; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, 0, i + 1)), SWB_OK);
    for (uint32_t i = 0; i < 300; i += 3)
        svc_queue_remove(&s, &tasks[i]);
    svc_queue_remove(&s, &tasks[0]); /* twice: a no-op */
    assert_int_equal(s.n_queue, 200);
    /* Pops move the head past the first holes; more pushes then wrap the ring round to the
     * slots the pops freed, and past its size, which lays it out again without the holes. */
    assert_int_equal(svc_queue_pop(&s)->id, 1);
    assert_int_equal(svc_queue_pop(&s)->id, 2);
    assert_int_equal(svc_queue_pop(&s)->id, 4);
    uint32_t cap = s.cap_queue, full = 300 + cap - s.r_len; /* ids up to a full ring */
    for (uint32_t i = 300; i < full; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, 0, i + 1)), SWB_OK);
    assert_int_equal(s.cap_queue, cap);
    assert_int_equal(s.r_len, cap);
    assert_true(s.r_head > 0); /* so the last pushes wrapped round to slot 0 and on */
    for (uint32_t i = full; i < 900; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, 0, i + 1)), SWB_OK);
    assert_true(s.cap_queue > cap);
    for (uint32_t i = 5; i < 900; i++) {
        if (i < 300 && i % 3 == 0)
            continue;
        assert_int_equal(svc_queue_pop(&s)->id, i);
    }
    assert_null(svc_queue_pop(&s));
    svc_free(&s);
}

static void test_a_retried_task_goes_before_younger_ones(void **state)
{
    service_t s = {0};
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, 0, 100 + i)), SWB_OK);
    /* A task submitted before all of them comes back (its worker died): it waited longest. */
    assert_int_equal(svc_queue_push(&s, mk(10, 0, 5)), SWB_OK);
    assert_false(s.ring);
    assert_int_equal(svc_queue_pop(&s)->id, 10);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(svc_queue_pop(&s)->id, i);
    svc_free(&s);
}

static void test_a_heap_of_many_priorities_grows_and_keeps_its_order(void **state)
{
    service_t s = {0};
    /* Priorities 0..4 round and round, 1000 tasks: a heap from the second, grown several
     * times; out come the 200 of priority 4 in order, then 3, and so on. */
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(svc_queue_push(&s, mk(i, (int32_t)(i % 5), i + 1)), SWB_OK);
    assert_false(s.ring);
    assert_true(s.cap_queue >= 1000);
    for (int32_t p = 4; p >= 0; p--)
        for (uint32_t i = (uint32_t)p; i < 1000; i += 5)
            assert_int_equal(svc_queue_pop(&s)->id, i);
    assert_null(svc_queue_pop(&s));
    svc_free(&s);
}

static void test_a_task_put_back_comes_out_first(void **state)
{
    /* pump puts back a task it could not send: in the ring (where the slot it left is the
     * one in front of the head) and in the heap, it is the next out again and nothing moves. */
    for (int heap = 0; heap < 2; heap++) {
        service_t s = {0};
        for (uint32_t i = 0; i < 100; i++)
            assert_int_equal(svc_queue_push(&s, mk(i, heap ? (int32_t)(i % 3) : 0, i + 1)), SWB_OK);
        assert_int_equal(s.ring, !heap);
        task_t *first = svc_queue_pop(&s);
        svc_queue_unpop(&s, first);
        assert_int_equal(s.n_queue, 100);
        assert_int_equal(s.ring, !heap);
        assert_ptr_equal(svc_queue_pop(&s), first);
        /* and the others follow as if nothing had happened */
        for (int32_t p = heap ? 2 : 0; p >= 0; p--)
            for (uint32_t i = heap ? (uint32_t)p : 0; i < 100; i += heap ? 3 : 1)
                if (&tasks[i] != first)
                    assert_int_equal(svc_queue_pop(&s)->id, i);
        assert_null(svc_queue_pop(&s));
        svc_free(&s);
    }
    /* The last task out and back: the queue was empty in between. */
    service_t s = {0};
    assert_int_equal(svc_queue_push(&s, mk(0, 0, 1)), SWB_OK);
    task_t *t = svc_queue_pop(&s);
    svc_queue_unpop(&s, t);
    assert_int_equal(svc_queue_push(&s, mk(1, 0, 2)), SWB_OK);
    assert_true(s.ring);
    assert_int_equal(svc_queue_pop(&s)->id, 0);
    assert_int_equal(svc_queue_pop(&s)->id, 1);
    svc_free(&s);
}

static uint32_t rnd(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* The task the queue must give next: highest priority, then lowest seq. */
static task_t *model_next(task_t **queued, uint32_t n)
{
    task_t *best = NULL;
    for (uint32_t i = 0; i < n; i++) {
        task_t *t = queued[i];
        if (!best || t->priority > best->priority ||
            (t->priority == best->priority && t->seq < best->seq))
            best = t;
    }
    return best;
}

static void test_random_pushes_pops_and_removes_match_the_model(void **state)
{
    service_t s = {0};
    task_t **queued = calloc(N, sizeof *queued);
    assert_non_null(queued);
    uint32_t n = 0, next = 0, x = 0x9e3779b9u;
    uint64_t base = 1000, uniq = 0; /* seq = base << 20 | uniq: unique, so the order is total */
    int was_heap = 0, ring_again = 0;
    for (int op = 0; op < 200000; op++) {
        uint32_t r = rnd(&x) % 100;
        if (r < 45 && next < N) {
            /* Mostly one priority in order; sometimes another priority or an old seq. */
            int32_t prio = rnd(&x) % 50 == 0 ? (int32_t)(rnd(&x) % 5) - 2 : 0;
            uint64_t b = rnd(&x) % 40 == 0 ? base - 1 - rnd(&x) % 400 : ++base;
            uint64_t sq = b << 20 | ++uniq;
            task_t *t = mk(next++, prio, sq);
            assert_int_equal(svc_queue_push(&s, t), SWB_OK);
            queued[n++] = t;
        } else if (r < 90) {
            task_t *want = model_next(queued, n);
            task_t *got = svc_queue_pop(&s);
            assert_ptr_equal(got, want);
            for (uint32_t i = 0; got && i < n; i++)
                if (queued[i] == got) {
                    assert_int_equal(got->qpos, -1);
                    queued[i] = queued[--n];
                    break;
                }
        } else if (n) {
            uint32_t i = rnd(&x) % n;
            svc_queue_remove(&s, queued[i]);
            assert_int_equal(queued[i]->qpos, -1);
            queued[i] = queued[--n];
        }
        assert_int_equal(s.n_queue, n);
        was_heap |= !s.ring && n > 0;
        ring_again |= was_heap && s.ring && n > 0;
        if (next == N && n == 0)
            next = 0; /* reuse the task records once all are out */
    }
    assert_true(was_heap && ring_again); /* both forms and the way back were exercised */
    while (n) {
        task_t *want = model_next(queued, n);
        assert_ptr_equal(svc_queue_pop(&s), want);
        for (uint32_t i = 0; i < n; i++)
            if (queued[i] == want) {
                queued[i] = queued[--n];
                break;
            }
    }
    assert_null(svc_queue_pop(&s));
    free(queued);
    svc_free(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_one_priority_comes_out_in_order),
    cmocka_unit_test(test_higher_priority_first_then_in_order),
    cmocka_unit_test(test_removed_tasks_never_come_out),
    cmocka_unit_test(test_a_retried_task_goes_before_younger_ones),
    cmocka_unit_test(test_a_heap_of_many_priorities_grows_and_keeps_its_order),
    cmocka_unit_test(test_a_task_put_back_comes_out_first),
    cmocka_unit_test(test_random_pushes_pops_and_removes_match_the_model),
};

SWB_TEST_MAIN(tests)
