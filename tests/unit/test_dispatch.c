/*
 * test_dispatch.c - the dispatch core (dispatch.c) driven alone: no broker, no socket. The
 * test is its owner: a dispatch_ops_t that records every message the core sends (the header
 * fields that matter and the body bytes, nothing decoded) and can be told to fail a peer's
 * sends with EAGAIN or EHOSTUNREACH, a registry filled in as the broker's HELLO handling fills
 * it, and a clock moved by hand. That this file links against swb_dispatch alone is part of
 * what it shows: the core needs no socket.
 */
#include "swb_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#define MAX_SENT  64
#define MAX_CALLS 8
#define SVC       "echo"
#define T0        1000000 /* the clock's start, ms: far from 0 so no timer is near it */

/* One message the core handed to send(), as the owner would have sent it. */
typedef struct {
    reg_peer_t *to;
    uint32_t cmd;
    uint64_t id;
    int32_t code;
    uint32_t attempt; /* 0 when absent */
    char service[SWB_MAX_NAME + 1];
    char from[SWB_MAX_NAME + 1];
    char text[128];
    char body[64];
    size_t body_len;
    int has_body;
} sent_t;

typedef struct {
    registry_t *reg;
    dispatch_t *d;
    dispatch_clock_t clock;
    sent_t sent[MAX_SENT];
    size_t n_sent;
    reg_peer_t *fail_peer; /* sends to it fail with fail_errno */
    int fail_errno;
    unsigned refused; /* sends that failed as asked */
    reg_peer_t *lost[MAX_CALLS];
    unsigned n_lost;
    reg_peer_t *hung[MAX_CALLS];
    unsigned n_hung;
} fx_t;

/* The header's strings are borrowed from the core's stack: keep a copy (truncated). */
static void copy_str(char *dst, size_t cap, swb_str_t s)
{
    size_t n = s.len < cap ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

static int fake_send(void *ctx, reg_peer_t *to, const swb_header_t *h, const swbi_body_t *body)
{
    fx_t *f = ctx;
    assert_non_null(to);
    if (f->fail_peer == to) {
        f->refused++;
        errno = f->fail_errno;
        return -1;
    }
    assert_true(f->n_sent < MAX_SENT);
    sent_t *s = &f->sent[f->n_sent++];
    memset(s, 0, sizeof *s);
    s->to = to;
    s->cmd = h->cmd;
    s->id = SWB_HAS(h, SWB_F_ID) ? h->id : 0;
    s->code = SWB_HAS(h, SWB_F_CODE) ? h->code : 0;
    s->attempt = SWB_HAS(h, SWB_F_ATTEMPT) ? h->attempt : 0;
    if (SWB_HAS(h, SWB_F_SERVICE))
        copy_str(s->service, sizeof s->service, h->service);
    if (SWB_HAS(h, SWB_F_FROM))
        copy_str(s->from, sizeof s->from, h->from);
    if (SWB_HAS(h, SWB_F_TEXT))
        copy_str(s->text, sizeof s->text, h->text);
    if (body) {
        assert_true(body->len < sizeof s->body);
        memcpy(s->body, swbi_body_data(body), body->len);
        s->body_len = body->len;
        s->has_body = 1;
    }
    return 0;
}

static void fake_peer_lost(void *ctx, reg_peer_t *w)
{
    fx_t *f = ctx;
    assert_true(f->n_lost < MAX_CALLS);
    f->lost[f->n_lost++] = w;
}

static void fake_worker_hung(void *ctx, reg_peer_t *w, const char *why)
{
    fx_t *f = ctx;
    assert_non_null(why);
    assert_true(f->n_hung < MAX_CALLS);
    f->hung[f->n_hung++] = w;
}

static const dispatch_ops_t fake_ops = {
    .send = fake_send,
    .peer_lost = fake_peer_lost,
    .worker_hung = fake_worker_hung,
};

/* Small limits so every boundary is a few tasks away; a window of 1 makes a worker of
 * capacity c hold exactly c tasks, so "busy" is exact. */
static dispatch_opts_t opts_default(void)
{
    return (dispatch_opts_t){.max_queue = 100,
                             .max_attempts = 3,
                             .window = 1,
                             .max_services = 16,
                             .max_tasks = 1000,
                             .no_worker_grace = 5000,
                             .hung_grace = 500};
}

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f || registry_new(&f->reg, 32) != SWB_OK) {
        free(f);
        return -1;
    }
    f->clock = (dispatch_clock_t){.ms = T0, .us = (int64_t)T0 * 1000};
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    dispatch_destroy(&f->d);
    registry_destroy(&f->reg);
    free(f);
    return 0;
}

static dispatch_t *fx_open(fx_t *f, const dispatch_opts_t *o)
{
    assert_int_equal(dispatch_new(&f->d, &fake_ops, f, f->reg, &f->clock, o), SWB_OK);
    return f->d;
}

static void advance(fx_t *f, int64_t ms)
{
    f->clock.ms += ms;
    f->clock.us += ms * 1000;
}

/* As the broker's HELLO does: out of its services first, then the new ones, then join. */
static void hello(fx_t *f, reg_peer_t *w, uint32_t capacity, const char *s1, const char *s2)
{
    dispatch_worker_leave(f->d, w);
    w->draining = 0;
    w->blocked = 0;
    w->n_services = 0;
    if (s1)
        strcpy(w->services[w->n_services++], s1);
    if (s2)
        strcpy(w->services[w->n_services++], s2);
    w->capacity = capacity;
    assert_int_equal(dispatch_worker_join(f->d, w), SWB_OK);
}

static reg_peer_t *add_peer(fx_t *f, const char *name)
{
    reg_peer_t *p = registry_add(f->reg, name, name, strlen(name));
    assert_non_null(p);
    return p;
}

static reg_peer_t *worker(fx_t *f, const char *name, uint32_t capacity)
{
    reg_peer_t *w = add_peer(f, name);
    w->kind = SWB_KIND_THREAD;
    hello(f, w, capacity, SVC, NULL);
    return w;
}

static reg_peer_t *client(fx_t *f, const char *name)
{
    reg_peer_t *c = add_peer(f, name);
    c->kind = SWB_KIND_CLIENT;
    assert_int_equal(dispatch_worker_join(f->d, c), SWB_OK); /* no services: nothing to join */
    return c;
}

/* A TASK as the broker decoded it. The body sits after three bytes of "header" in its frame,
 * as an inline body does, so the offset is honoured too. */
static void submit_to(fx_t *f, reg_peer_t *c, uint64_t id, const char *svc, int32_t prio,
                      uint32_t deadline_ms, const char *body)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_TASK);
    SWB_SET(&h, SWB_F_ID);
    h.id = id;
    swb_header_set_str(&h, SWB_F_SERVICE, svc);
    if (prio) {
        SWB_SET(&h, SWB_F_PRIORITY);
        h.priority = prio;
    }
    if (deadline_ms) {
        SWB_SET(&h, SWB_F_DEADLINE);
        h.deadline_ms = deadline_ms;
    }
    size_t len = strlen(body);
    zmq_msg_t m;
    assert_int_equal(zmq_msg_init_size(&m, 3 + len), 0);
    memcpy(zmq_msg_data(&m), "HDR", 3);
    memcpy((char *)zmq_msg_data(&m) + 3, body, len);
    swbi_body_t b = {&m, 3, len};
    dispatch_task(f->d, c, &h, &b);
    zmq_msg_close(&m); /* the core keeps its own reference */
}

static void submit(fx_t *f, reg_peer_t *c, uint64_t id, const char *body)
{
    submit_to(f, c, id, SVC, 0, 0, body);
}

/* A worker's RESULT; attempt 0 leaves the field out. */
static void answer(fx_t *f, reg_peer_t *w, uint64_t id, uint32_t attempt, int code,
                   const char *body)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_RESULT);
    SWB_SET(&h, SWB_F_ID);
    h.id = id;
    SWB_SET(&h, SWB_F_CODE);
    h.code = code;
    if (attempt) {
        SWB_SET(&h, SWB_F_ATTEMPT);
        h.attempt = attempt;
    }
    size_t len = body ? strlen(body) : 0;
    zmq_msg_t m;
    assert_int_equal(zmq_msg_init_size(&m, len), 0);
    if (len)
        memcpy(zmq_msg_data(&m), body, len);
    swbi_body_t b = {&m, 0, len};
    dispatch_result(f->d, w, &h, body ? &b : NULL);
    zmq_msg_close(&m);
}

static void cancel(fx_t *f, reg_peer_t *c, uint64_t id)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_CANCEL);
    SWB_SET(&h, SWB_F_ID);
    h.id = id;
    dispatch_cancel(f->d, c, &h);
}

/* Message i (in send order), checked to be what the test expects of it. */
static const sent_t *msg(fx_t *f, size_t i, uint32_t cmd, const reg_peer_t *to)
{
    assert_true(i < f->n_sent);
    const sent_t *s = &f->sent[i];
    assert_int_equal(s->cmd, cmd);
    assert_ptr_equal(s->to, to);
    return s;
}

/* Index of the first message from `from` on with this command and target. */
static size_t find(fx_t *f, size_t from, uint32_t cmd, const reg_peer_t *to)
{
    for (size_t i = from; i < f->n_sent; i++)
        if (f->sent[i].cmd == cmd && f->sent[i].to == to)
            return i;
    fail_msg("no message %u to that peer", cmd);
    return 0;
}

static void assert_body(const sent_t *s, const char *body)
{
    assert_true(s->has_body);
    assert_int_equal(s->body_len, strlen(body));
    assert_memory_equal(s->body, body, s->body_len);
}

/* The TASK at message i: to w, with this body and attempt; returns the broker's id. */
static uint64_t task_msg(fx_t *f, size_t i, const reg_peer_t *w, const char *body, uint32_t attempt)
{
    const sent_t *s = msg(f, i, SWB_CMD_TASK, w);
    assert_body(s, body);
    assert_int_equal(s->attempt, attempt);
    return s->id;
}

/* The RESULT at message i: to c, under the client's id, with this code. */
static const sent_t *result_msg(fx_t *f, size_t i, const reg_peer_t *c, uint64_t client_id,
                                int code)
{
    const sent_t *s = msg(f, i, SWB_CMD_RESULT, c);
    assert_int_equal(s->id, client_id);
    assert_int_equal(s->code, code);
    return s;
}

static service_t *service(fx_t *f, const char *name)
{
    return services_get(dispatch_services(f->d), name, strlen(name), 0);
}

/* ---- construction --------------------------------------------------------------------- */

static void test_new_refuses_a_table_with_a_hook_missing(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    dispatch_ops_t ops[3] = {fake_ops, fake_ops, fake_ops};
    ops[0].send = NULL;
    ops[1].peer_lost = NULL;
    ops[2].worker_hung = NULL;
    for (int i = 0; i < 3; i++) {
        dispatch_t *d = NULL;
        assert_int_equal(dispatch_new(&d, &ops[i], f, f->reg, &f->clock, &o), SWB_E_INVALID);
        assert_null(d);
    }
    /* The same table with every hook is taken: the refusals above are for the hook alone. */
    dispatch_t *d = NULL;
    assert_int_equal(dispatch_new(&d, &fake_ops, f, f->reg, &f->clock, &o), SWB_OK);
    assert_non_null(d);
    dispatch_destroy(&d);
    assert_null(d);
}

/* ---- workers joining and leaving ------------------------------------------------------ */

static void test_join_creates_the_workers_services_and_hands_it_queued_tasks(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    assert_null(service(f, SVC));
    reg_peer_t *a = worker(f, "a", 1);
    assert_non_null(service(f, SVC));
    assert_int_equal(service(f, SVC)->n_workers, 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two"); /* a is busy: it waits */
    assert_int_equal(f->n_sent, 1);
    task_msg(f, 0, a, "one", 1);

    assert_null(service(f, "thumb"));
    reg_peer_t *b = add_peer(f, "b");
    hello(f, b, 1, "thumb", SVC);
    assert_non_null(service(f, "thumb"));
    assert_int_equal(service(f, "thumb")->n_workers, 1);
    assert_int_equal(service(f, SVC)->n_workers, 2);
    assert_int_equal(f->n_sent, 2);
    const sent_t *s = msg(f, 1, SWB_CMD_TASK, b);
    assert_body(s, "two");
    assert_string_equal(s->service, SVC);
}

/* HELLO with capacity 0 is a member for messages only; CREDIT replaces that capacity, so its
 * first credit makes it take tasks, queued ones included. */
static void test_credit_lets_a_worker_that_said_capacity_0_take_tasks(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 0);
    assert_null(service(f, SVC)); /* not a worker of it yet */
    reg_peer_t *b = worker(f, "b", 0);
    dispatch_worker_credit(f->d, b, 1, 0);
    assert_int_equal(service(f, SVC)->n_workers, 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two"); /* b is busy: it waits */
    assert_int_equal(f->n_sent, 1);
    task_msg(f, 0, b, "one", 1);
    dispatch_worker_credit(f->d, a, 2, 0);
    assert_int_equal(service(f, SVC)->n_workers, 2);
    assert_int_equal(f->n_sent, 2);
    task_msg(f, 1, a, "two", 1);
    dispatch_worker_credit(f->d, a, 0, 0); /* paused: stays a worker of it */
    assert_int_equal(service(f, SVC)->n_workers, 2);
}

static void test_leave_takes_a_worker_out_of_its_services_but_keeps_its_tasks(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    dispatch_worker_leave(f->d, a); /* a HELLO again, before its new services are read */
    assert_int_equal(service(f, SVC)->n_workers, 0);
    assert_int_equal(dispatch_inflight(f->d), 1);
    submit(f, c, 2, "two"); /* a has a free slot but serves nothing now */
    assert_int_equal(f->n_sent, 1);
    assert_int_equal(dispatch_tasks_known(f->d), 2);

    answer(f, a, id1, 1, SWB_OK, "r1"); /* the task it held is still its own */
    assert_int_equal(f->n_sent, 2);
    assert_body(result_msg(f, 1, c, 1, SWB_OK), "r1");

    hello(f, a, 2, SVC, NULL); /* and back in: the waiting task is its */
    assert_int_equal(f->n_sent, 3);
    task_msg(f, 2, a, "two", 1);
}

/* ---- choosing a worker ---------------------------------------------------------------- */

static void test_task_goes_to_the_least_loaded_worker(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.window = 2; /* room for four each: only the load decides */
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    reg_peer_t *b = worker(f, "b", 2);
    dispatch_worker_load(f->d, a, 600); /* a reports 600 permille of load */
    /* Scores (tasks per slot in permille + load) before each task: a 600, b 0 -> b; a 600,
     * b 500 -> b; a 600, b 1000 -> a; a 1100, b 1000 -> b. */
    submit(f, c, 1, "1");
    submit(f, c, 2, "2");
    submit(f, c, 3, "3");
    submit(f, c, 4, "4");
    assert_int_equal(f->n_sent, 4);
    task_msg(f, 0, b, "1", 1);
    task_msg(f, 1, b, "2", 1);
    task_msg(f, 2, a, "3", 1);
    task_msg(f, 3, b, "4", 1);
}

static void test_tie_goes_to_the_worker_that_joined_first(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    /* b gets the record before a's (a freed slot is reused): a tie broken by address, not by
     * join order, would go to b. */
    reg_peer_t *spare = add_peer(f, "spare");
    reg_peer_t *a = worker(f, "a", 1);
    registry_remove(f->reg, spare);
    reg_peer_t *b = worker(f, "b", 1);
    assert_ptr_equal(b, spare);
    assert_true(b < a);

    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    uint64_t id2 = task_msg(f, 1, b, "two", 1);
    /* b is free again first and has been idle longest: still a, not in turns. */
    answer(f, b, id2, 1, SWB_OK, NULL);
    answer(f, a, id1, 1, SWB_OK, NULL);
    submit(f, c, 3, "three");
    assert_int_equal(f->n_sent, 5);
    task_msg(f, 4, a, "three", 1);
}

/* ---- the queue ------------------------------------------------------------------------ */

static void test_task_waits_while_all_are_busy_and_starts_on_a_result(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    assert_int_equal(f->n_sent, 1);
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    assert_int_equal(service(f, SVC)->n_queue, 1);
    assert_int_equal(dispatch_tasks_known(f->d), 2);

    answer(f, a, id1, 1, SWB_OK, "r1");
    assert_int_equal(f->n_sent, 3);
    result_msg(f, 1, c, 1, SWB_OK);
    task_msg(f, 2, a, "two", 1);
    assert_int_equal(service(f, SVC)->n_queue, 0);
}

static void test_full_queue_refuses_at_once_and_sends_nothing_else(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.max_queue = 2;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    submit(f, c, 3, "three");
    assert_int_equal(f->n_sent, 1);
    task_msg(f, 0, a, "one", 1);

    submit(f, c, 4, "four");
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 4, SWB_E_QUEUE_FULL);
    assert_int_equal(dispatch_tasks_known(f->d), 3);
    assert_int_equal(service(f, SVC)->n_queue, 2);
    assert_int_equal(service(f, SVC)->rejected, 1);
}

static void test_broker_task_limit_refuses_even_with_a_free_worker(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.max_tasks = 1;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    reg_peer_t *b = worker(f, "b", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    submit(f, c, 2, "two"); /* b is free and the queue empty: only the limit refuses it */
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 2, SWB_E_QUEUE_FULL);
    assert_int_equal(b->inflight, 0);
    assert_int_equal(dispatch_tasks_known(f->d), 1);

    answer(f, a, id1, 1, SWB_OK, NULL); /* the limit counts live tasks: room again */
    submit(f, c, 3, "three");
    assert_int_equal(f->n_sent, 4);
    result_msg(f, 2, c, 1, SWB_OK);
    task_msg(f, 3, a, "three", 1);
}

static void test_task_for_an_unknown_service_is_refused(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit_to(f, c, 1, "nope", 0, 0, "one");
    assert_int_equal(f->n_sent, 1);
    result_msg(f, 0, c, 1, SWB_E_NO_SERVICE);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
    assert_int_equal(a->inflight, 0);
    assert_null(service(f, "nope")); /* a task does not make a service */
}

static void test_service_without_workers_fails_its_tasks_after_the_grace(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.no_worker_grace = 5000;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    dispatch_worker_gone(f->d, a);
    submit(f, c, 1, "one"); /* a worker may come back: it waits */
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(dispatch_tasks_known(f->d), 1);

    advance(f, 4999);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 0);

    advance(f, 2);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 1);
    result_msg(f, 0, c, 1, SWB_E_NO_SERVICE);
    assert_int_equal(dispatch_tasks_known(f->d), 0);

    submit(f, c, 2, "two"); /* and from now on at once */
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 2, SWB_E_NO_SERVICE);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

static void test_priorities_order_the_queue(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "first");
    uint64_t cur = task_msg(f, 0, a, "first", 1);
    submit_to(f, c, 2, SVC, 0, 0, "p0-a");
    submit_to(f, c, 3, SVC, 5, 0, "p5-a");
    submit_to(f, c, 4, SVC, 0, 0, "p0-b");
    submit_to(f, c, 5, SVC, 5, 0, "p5-b");
    submit_to(f, c, 6, SVC, -1, 0, "p-1");
    assert_int_equal(f->n_sent, 1);

    const char *want[] = {"p5-a", "p5-b", "p0-a", "p0-b", "p-1"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        answer(f, a, cur, 1, SWB_OK, NULL);
        assert_int_equal(f->n_sent, 3 + 2 * k); /* its RESULT, then the next TASK */
        cur = task_msg(f, f->n_sent - 1, a, want[k], 1);
    }
}

/* ---- results -------------------------------------------------------------------------- */

static void test_result_reaches_the_client_once_under_its_own_id(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 77, "in");
    const sent_t *t = msg(f, 0, SWB_CMD_TASK, a);
    assert_int_not_equal(t->id, 77); /* the worker sees the broker's id */
    assert_int_equal(t->attempt, 1);
    assert_string_equal(t->from, "app");
    assert_string_equal(t->service, SVC);
    assert_body(t, "in");

    answer(f, a, t->id, 1, SWB_OK, "out");
    assert_int_equal(f->n_sent, 2);
    const sent_t *r = result_msg(f, 1, c, 77, SWB_OK);
    assert_int_equal(r->attempt, 1);
    assert_body(r, "out");
    assert_int_equal(dispatch_tasks_known(f->d), 0);
    assert_int_equal(dispatch_inflight(f->d), 0);
    assert_int_equal(a->inflight, 0);
}

static void test_duplicate_answer_is_counted_and_never_delivered(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(dispatch_stats(f->d)->unknown_results, 0);

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(dispatch_stats(f->d)->unknown_results, 1);
}

static void test_stale_attempt_answer_is_counted_and_never_delivered(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    dispatch_worker_gone(f->d, a);
    hello(f, a, 1, SVC, NULL); /* the same record back: it gets the retry */
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(task_msg(f, 1, a, "one", 2), id1);

    answer(f, a, id1, 1, SWB_OK, "old"); /* from the first attempt */
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(dispatch_stats(f->d)->unknown_results, 1);
    assert_int_equal(service(f, SVC)->duplicates, 1);
    assert_int_equal(a->inflight, 1);

    answer(f, a, id1, 2, SWB_OK, "new");
    assert_int_equal(f->n_sent, 3);
    const sent_t *r = result_msg(f, 2, c, 1, SWB_OK);
    assert_int_equal(r->attempt, 2);
    assert_body(r, "new");
}

static void test_result_for_an_unknown_id_is_counted_and_dropped(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    answer(f, a, id1 + 1000, 1, SWB_OK, "x");
    assert_int_equal(f->n_sent, 1);
    assert_int_equal(dispatch_stats(f->d)->unknown_results, 1);
    assert_int_equal(a->inflight, 1); /* its real task is untouched */

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 2);
    assert_body(result_msg(f, 1, c, 1, SWB_OK), "r");
}

static void test_result_from_a_worker_not_holding_the_task_is_dropped(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    reg_peer_t *b = worker(f, "b", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    answer(f, b, id1, 1, SWB_OK, "forged");
    assert_int_equal(f->n_sent, 1);
    assert_int_equal(dispatch_stats(f->d)->unknown_results, 1);
    assert_int_equal(a->inflight, 1);

    answer(f, a, id1, 1, SWB_OK, "real");
    assert_int_equal(f->n_sent, 2);
    assert_body(result_msg(f, 1, c, 1, SWB_OK), "real");
}

static void test_client_that_left_gets_nothing_and_counts_as_orphaned(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c1 = client(f, "app1");
    reg_peer_t *c2 = client(f, "app2");
    reg_peer_t *a = worker(f, "a", 2);
    submit(f, c1, 1, "one");
    submit(f, c2, 1, "two");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    uint64_t id2 = task_msg(f, 1, a, "two", 1);

    registry_remove(f->reg, c1); /* its record is left unused */
    answer(f, a, id1, 1, SWB_OK, "r1");
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(dispatch_stats(f->d)->orphaned, 1);

    registry_remove(f->reg, c2); /* its record goes to another peer at once */
    reg_peer_t *other = add_peer(f, "other");
    assert_ptr_equal(other, c2);
    answer(f, a, id2, 1, SWB_OK, "r2");
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(dispatch_stats(f->d)->orphaned, 2);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

static void test_client_back_under_its_name_gets_its_answer(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 5, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    registry_remove(f->reg, c);
    reg_peer_t *other = add_peer(f, "other"); /* takes its record */
    reg_peer_t *back = client(f, "app");      /* the client again, in another record */
    assert_ptr_equal(other, c);
    assert_ptr_not_equal(back, c);

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, back, 5, SWB_OK);
    assert_int_equal(dispatch_stats(f->d)->orphaned, 0);
}

/* A client whose pipe is full (EAGAIN) does not lose its answer: it waits, and goes out once,
 * with its body, when the pipe takes it again (on the next tick here). */
static void test_result_for_a_full_client_pipe_waits_and_is_sent_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    f->fail_peer = c;
    f->fail_errno = EAGAIN;
    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->n_sent, 1);
    assert_int_equal(dispatch_stats(f->d)->unsent, 0);
    assert_int_equal(c->n_held, 1);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
    assert_int_equal(f->n_lost, 0); /* a client's full pipe is not a lost peer */

    f->fail_peer = NULL;
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 2);
    assert_body(result_msg(f, 1, c, 1, SWB_OK), "r");
    assert_int_equal(c->n_held, 0);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 2);
}

/* A result whose client's connection is gone is counted, not kept. */
static void test_result_for_a_gone_client_is_counted_unsent(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    f->fail_peer = c;
    f->fail_errno = EHOSTUNREACH;
    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(dispatch_stats(f->d)->unsent, 1);
    assert_int_equal(c->n_held, 0);
}

/* Answers waiting for a client stop its new tasks (queue_full) until it reads; everything it
 * is owed then arrives in order, each once, when it is heard from. */
static void test_client_with_answers_waiting_gets_queue_full_until_it_reads(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.max_queue = 2;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    f->fail_peer = c;
    f->fail_errno = EAGAIN;
    for (uint64_t id = 1; id <= 2; id++) {
        submit(f, c, id, "x");
        answer(f, a, task_msg(f, f->n_sent - 1, a, "x", 1), 1, SWB_OK, "r");
    }
    assert_int_equal(c->n_held, 2);
    submit(f, c, 3, "x"); /* refused, and the refusal waits too */
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(c->n_held, 3);

    f->fail_peer = NULL;
    dispatch_peer_heard(f->d, c);
    assert_int_equal(f->n_sent, 5);
    result_msg(f, 2, c, 1, SWB_OK);
    result_msg(f, 3, c, 2, SWB_OK);
    result_msg(f, 4, c, 3, SWB_E_QUEUE_FULL);
    submit(f, c, 4, "x"); /* reading again: it takes tasks again */
    task_msg(f, 5, a, "x", 1);
}

/* A client that never reads and keeps sending is dropped past the hard bound (four times the
 * queue bound), so the broker's memory stays bounded. */
static void test_client_that_never_reads_is_dropped_past_the_hard_bound(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.max_queue = 2;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    worker(f, "a", 1);
    f->fail_peer = c;
    f->fail_errno = EAGAIN;
    /* The first task goes to the worker and two more queue; every later one is refused, and
     * each refusal waits, up to the bound. */
    for (uint64_t id = 1; id <= 11; id++)
        submit(f, c, id, "x");
    assert_int_equal(c->n_held, 8);
    assert_int_equal(f->n_lost, 0);
    submit(f, c, 12, "x");
    assert_int_equal(f->n_lost, 1);
    assert_ptr_equal(f->lost[0], c);
    assert_int_equal(c->n_held, 8);
    dispatch_worker_gone(f->d, c); /* the owner drops it: what waited goes with it */
    assert_int_equal(c->n_held, 0);
    assert_int_equal(dispatch_stats(f->d)->orphaned, 8);
}

/* ---- lost workers --------------------------------------------------------------------- */

static void test_worker_gone_sends_its_tasks_to_another_with_the_next_attempt(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    uint64_t id2 = task_msg(f, 1, a, "two", 1);
    reg_peer_t *b = worker(f, "b", 2);
    assert_int_equal(f->n_sent, 2);

    dispatch_worker_gone(f->d, a);
    assert_int_equal(f->n_sent, 4); /* both to b, nothing to the client */
    const sent_t *s1 = msg(f, 2, SWB_CMD_TASK, b), *s2 = msg(f, 3, SWB_CMD_TASK, b);
    assert_int_equal(s1->attempt, 2);
    assert_int_equal(s2->attempt, 2);
    const sent_t *r1 = s1->id == id1 ? s1 : s2, *r2 = s1->id == id1 ? s2 : s1;
    assert_int_equal(r1->id, id1);
    assert_int_equal(r2->id, id2);
    assert_body(r1, "one");
    assert_body(r2, "two");
    assert_int_equal(service(f, SVC)->retried, 2);
    assert_int_equal(f->n_lost, 0);

    answer(f, b, id1, 2, SWB_OK, "r1");
    answer(f, b, id2, 2, SWB_OK, "r2");
    assert_int_equal(f->n_sent, 6);
    assert_body(result_msg(f, 4, c, 1, SWB_OK), "r1");
    assert_body(result_msg(f, 5, c, 2, SWB_OK), "r2");
}

static void test_worker_lost_on_every_attempt_ends_with_worker_lost(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.max_attempts = 3;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *w1 = worker(f, "w1", 1);
    submit(f, c, 9, "poison");
    uint64_t id = task_msg(f, 0, w1, "poison", 1);
    dispatch_worker_gone(f->d, w1);
    assert_int_equal(f->n_sent, 1);

    reg_peer_t *w2 = worker(f, "w2", 1);
    assert_int_equal(task_msg(f, 1, w2, "poison", 2), id);
    dispatch_worker_gone(f->d, w2);
    assert_int_equal(f->n_sent, 2);

    reg_peer_t *w3 = worker(f, "w3", 1);
    assert_int_equal(task_msg(f, 2, w3, "poison", 3), id);
    dispatch_worker_gone(f->d, w3);
    assert_int_equal(f->n_sent, 4);
    assert_int_equal(result_msg(f, 3, c, 9, SWB_E_WORKER_LOST)->attempt, 3);
    assert_int_equal(dispatch_tasks_known(f->d), 0);

    worker(f, "w4", 1); /* nothing left to retry */
    assert_int_equal(f->n_sent, 4);
}

/* ---- deadlines ------------------------------------------------------------------------ */

static void test_deadline_while_queued_ends_the_task(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    submit_to(f, c, 2, SVC, 0, 100, "two");

    advance(f, 99);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 1);

    advance(f, 2);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 2, SWB_E_DEADLINE);

    answer(f, a, id1, 1, SWB_OK, NULL); /* the expired task is out of the queue */
    assert_int_equal(f->n_sent, 3);
    result_msg(f, 2, c, 1, SWB_OK);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

static void test_deadline_while_running_cancels_at_the_worker_and_keeps_its_slot(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit_to(f, c, 1, SVC, 0, 100, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    advance(f, 99);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 1);

    advance(f, 2);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 3);
    const sent_t *cx = &f->sent[find(f, 1, SWB_CMD_CANCEL, a)];
    assert_int_equal(cx->id, id1);
    assert_int_equal(cx->attempt, 1);
    result_msg(f, find(f, 1, SWB_CMD_RESULT, c), c, 1, SWB_E_DEADLINE);

    submit(f, c, 2, "two"); /* a's slot is still taken */
    assert_int_equal(f->n_sent, 3);
    assert_int_equal(dispatch_inflight(f->d), 1);

    answer(f, a, id1, 1, SWB_OK, "late"); /* dropped; the slot frees */
    assert_int_equal(dispatch_stats(f->d)->late, 1);
    assert_int_equal(f->n_sent, 4);
    task_msg(f, 3, a, "two", 1);

    advance(f, 10 * o.hung_grace); /* it answered: not hung */
    dispatch_tick(f->d);
    assert_int_equal(f->n_hung, 0);
}

static void test_worker_holding_a_task_past_the_grace_is_reported_hung_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    o.hung_grace = 500;
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit_to(f, c, 1, SVC, 0, 100, "one");
    advance(f, 100);
    dispatch_tick(f->d);
    assert_int_equal(f->n_sent, 3); /* TASK, then CANCEL and RESULT deadline */

    advance(f, 499);
    dispatch_tick(f->d);
    assert_int_equal(f->n_hung, 0);

    advance(f, 2);
    dispatch_tick(f->d);
    assert_int_equal(f->n_hung, 1);
    assert_ptr_equal(f->hung[0], a);

    advance(f, 5000);
    dispatch_tick(f->d);
    assert_int_equal(f->n_hung, 1);
    assert_int_equal(f->n_sent, 3);
    assert_int_equal(f->n_lost, 0);
}

/* ---- cancel --------------------------------------------------------------------------- */

static void test_cancel_of_a_queued_task_answers_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    submit(f, c, 2, "two");

    cancel(f, c, 2);
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 2, SWB_E_CANCELLED);
    cancel(f, c, 2);
    assert_int_equal(f->n_sent, 2);

    answer(f, a, id1, 1, SWB_OK, NULL); /* the cancelled task never starts */
    assert_int_equal(f->n_sent, 3);
    result_msg(f, 2, c, 1, SWB_OK);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

static void test_cancel_of_a_running_task_tells_its_worker_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    cancel(f, c, 1);
    assert_int_equal(f->n_sent, 3);
    const sent_t *cx = &f->sent[find(f, 1, SWB_CMD_CANCEL, a)];
    assert_int_equal(cx->id, id1);
    assert_int_equal(cx->attempt, 1);
    result_msg(f, find(f, 1, SWB_CMD_RESULT, c), c, 1, SWB_E_CANCELLED);

    cancel(f, c, 1);
    assert_int_equal(f->n_sent, 3);
    assert_int_equal(a->inflight, 1); /* until the worker answers */

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 3);
    assert_int_equal(dispatch_stats(f->d)->late, 1);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

/* ---- shutdown ------------------------------------------------------------------------- */

static void test_close_refuses_new_tasks_and_finishes_accepted_ones(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    dispatch_close(f->d);
    submit(f, c, 3, "three");
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 3, SWB_E_SHUTTING_DOWN);

    answer(f, a, id1, 1, SWB_OK, NULL);
    assert_int_equal(f->n_sent, 4);
    result_msg(f, 2, c, 1, SWB_OK);
    task_msg(f, 3, a, "two", 1);
}

static void test_fail_all_answers_queued_and_running_tasks(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    dispatch_fail_all(f->d, SWB_E_SHUTTING_DOWN, "broker is shutting down");
    assert_int_equal(f->n_sent, 3);
    const sent_t *r1 = msg(f, 1, SWB_CMD_RESULT, c), *r2 = msg(f, 2, SWB_CMD_RESULT, c);
    assert_int_equal(r1->code, SWB_E_SHUTTING_DOWN);
    assert_int_equal(r2->code, SWB_E_SHUTTING_DOWN);
    assert_int_equal(r1->id + r2->id, 3); /* ids 1 and 2, one each */
    assert_int_not_equal(r1->id, r2->id);
    assert_string_equal(r1->text, "broker is shutting down");
    assert_int_equal(dispatch_tasks_known(f->d), 1); /* a still owes its answer */

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 3);
    assert_int_equal(dispatch_stats(f->d)->late, 1);
    assert_int_equal(dispatch_tasks_known(f->d), 0);
}

/* ---- sends that fail ------------------------------------------------------------------ */

static void test_full_pipe_blocks_a_worker_until_it_is_heard(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    f->fail_peer = a;
    f->fail_errno = EAGAIN;
    submit(f, c, 1, "one");
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(dispatch_tasks_known(f->d), 1);

    submit(f, c, 2, "two"); /* not tried again */
    assert_int_equal(f->refused, 1);

    f->fail_peer = NULL; /* its pipe has room, but the core does not know it yet */
    submit(f, c, 3, "three");
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->n_sent, 0);

    dispatch_worker_heard(f->d, a);
    assert_int_equal(f->n_sent, 2);
    task_msg(f, 0, a, "one", 1);
    task_msg(f, 1, a, "two", 1);
    assert_int_equal(service(f, SVC)->n_queue, 1);
    assert_int_equal(f->n_lost, 0);
}

/* The core takes a worker whose connection is gone out of rotation and reports it once; the
 * owner then drops it (dispatch_worker_gone) after the call returns, as the broker does, and
 * what it held is sent again. */
static void test_gone_connection_retries_elsewhere_and_reports_the_peer_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);
    reg_peer_t *b = worker(f, "b", 2);
    dispatch_worker_load(f->d, b, 900); /* so the next task is tried on a first */

    f->fail_peer = a;
    f->fail_errno = EHOSTUNREACH;
    submit(f, c, 2, "two");
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->n_lost, 1);
    assert_ptr_equal(f->lost[0], a);
    /* The refused task went to b at once; what a holds waits for the owner to drop a. */
    assert_int_equal(f->n_sent, 2);
    assert_int_equal(msg(f, 1, SWB_CMD_TASK, b)->attempt, 1);
    dispatch_worker_gone(f->d, a);
    /* The refused task and the one a held both went to b, each as its own attempt. */
    assert_int_equal(f->n_sent, 3);
    const sent_t *s1 = msg(f, 1, SWB_CMD_TASK, b), *s2 = msg(f, 2, SWB_CMD_TASK, b);
    const sent_t *old = s1->id == id1 ? s1 : s2, *neu = s1->id == id1 ? s2 : s1;
    assert_int_equal(old->id, id1);
    assert_int_equal(old->attempt, 2);
    assert_body(old, "one");
    assert_int_equal(neu->attempt, 1);
    assert_body(neu, "two");
    assert_int_equal(service(f, SVC)->n_workers, 1);

    submit(f, c, 3, "three"); /* b is full; a is not tried again */
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->n_lost, 1);
    assert_int_equal(f->n_sent, 3);
}

static void test_paused_worker_gets_no_new_tasks_but_answers_its_own(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 2);
    submit(f, c, 1, "one");
    uint64_t id1 = task_msg(f, 0, a, "one", 1);

    dispatch_worker_pause(f->d, a); /* drain: a free slot, but no new tasks */
    submit(f, c, 2, "two");
    assert_int_equal(f->n_sent, 1);

    answer(f, a, id1, 1, SWB_OK, "r");
    assert_int_equal(f->n_sent, 2);
    result_msg(f, 1, c, 1, SWB_OK);
    assert_int_equal(dispatch_tasks_known(f->d), 1);
}

/* Each case gets a fresh registry and clock; it opens the core with its own options. */
/* A task cancelled while running, whose worker never stops it, is timed from its deadline
 * like one that ran out of time: reported hung once the grace has passed too. */
static void test_cancelled_task_held_past_its_deadline_is_reported_hung(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit_to(f, c, 1, SVC, 0, 100, "one");
    advance(f, 50);
    cancel(f, c, 1);
    assert_int_equal(f->n_sent, 3); /* TASK, CANCEL, RESULT cancelled */
    for (int i = 0; i < 40; i++) {  /* 2 s of 50 ms ticks: deadline and grace long past */
        advance(f, 50);
        dispatch_tick(f->d);
    }
    assert_int_equal(a->inflight, 1);
    assert_int_equal(f->n_hung, 1);
    assert_ptr_equal(f->hung[0], a);
}

/* CREDIT raising a worker's capacity starts queued tasks at once, as dispatch_worker_heard
 * does, not at the next tick. */
static void test_credit_that_adds_room_starts_queued_tasks_at_once(void **state)
{
    fx_t *f = *state;
    dispatch_opts_t o = opts_default();
    fx_open(f, &o);
    reg_peer_t *c = client(f, "app");
    reg_peer_t *a = worker(f, "a", 1);
    submit(f, c, 1, "one");
    submit(f, c, 2, "two");
    assert_int_equal(f->n_sent, 1);
    a->capacity = 2; /* CREDIT {credit: 2}, as broker_route.c handles it */
    dispatch_worker_load(f->d, a, 0);
    assert_int_equal(f->n_sent, 2);
    task_msg(f, 1, a, "two", 1);
}

#define SWB_CASE(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

static const struct CMUnitTest tests[] = {
    SWB_CASE(test_new_refuses_a_table_with_a_hook_missing),
    SWB_CASE(test_join_creates_the_workers_services_and_hands_it_queued_tasks),
    SWB_CASE(test_credit_lets_a_worker_that_said_capacity_0_take_tasks),
    SWB_CASE(test_leave_takes_a_worker_out_of_its_services_but_keeps_its_tasks),
    SWB_CASE(test_task_goes_to_the_least_loaded_worker),
    SWB_CASE(test_tie_goes_to_the_worker_that_joined_first),
    SWB_CASE(test_task_waits_while_all_are_busy_and_starts_on_a_result),
    SWB_CASE(test_full_queue_refuses_at_once_and_sends_nothing_else),
    SWB_CASE(test_broker_task_limit_refuses_even_with_a_free_worker),
    SWB_CASE(test_task_for_an_unknown_service_is_refused),
    SWB_CASE(test_service_without_workers_fails_its_tasks_after_the_grace),
    SWB_CASE(test_priorities_order_the_queue),
    SWB_CASE(test_result_reaches_the_client_once_under_its_own_id),
    SWB_CASE(test_duplicate_answer_is_counted_and_never_delivered),
    SWB_CASE(test_stale_attempt_answer_is_counted_and_never_delivered),
    SWB_CASE(test_result_for_an_unknown_id_is_counted_and_dropped),
    SWB_CASE(test_result_from_a_worker_not_holding_the_task_is_dropped),
    SWB_CASE(test_client_that_left_gets_nothing_and_counts_as_orphaned),
    SWB_CASE(test_client_back_under_its_name_gets_its_answer),
    SWB_CASE(test_result_for_a_full_client_pipe_waits_and_is_sent_once),
    SWB_CASE(test_result_for_a_gone_client_is_counted_unsent),
    SWB_CASE(test_client_with_answers_waiting_gets_queue_full_until_it_reads),
    SWB_CASE(test_client_that_never_reads_is_dropped_past_the_hard_bound),
    SWB_CASE(test_worker_gone_sends_its_tasks_to_another_with_the_next_attempt),
    SWB_CASE(test_worker_lost_on_every_attempt_ends_with_worker_lost),
    SWB_CASE(test_deadline_while_queued_ends_the_task),
    SWB_CASE(test_deadline_while_running_cancels_at_the_worker_and_keeps_its_slot),
    SWB_CASE(test_worker_holding_a_task_past_the_grace_is_reported_hung_once),
    SWB_CASE(test_cancel_of_a_queued_task_answers_once),
    SWB_CASE(test_cancel_of_a_running_task_tells_its_worker_once),
    SWB_CASE(test_close_refuses_new_tasks_and_finishes_accepted_ones),
    SWB_CASE(test_fail_all_answers_queued_and_running_tasks),
    SWB_CASE(test_full_pipe_blocks_a_worker_until_it_is_heard),
    SWB_CASE(test_gone_connection_retries_elsewhere_and_reports_the_peer_once),
    SWB_CASE(test_cancelled_task_held_past_its_deadline_is_reported_hung),
    SWB_CASE(test_credit_that_adds_room_starts_queued_tasks_at_once),
    SWB_CASE(test_paused_worker_gets_no_new_tasks_but_answers_its_own),
};

SWB_TEST_MAIN(tests)
