/*
 * dispatch.c - the life of a task in the broker, from TASK to its one final RESULT.
 *
 * A task is picked up by the least-loaded worker with room, of equals the one that joined
 * first (the top of the service's worker heap: a worker has room while it holds fewer than capacity
 * x window tasks, so its next tasks are already there when one ends) or waits in the service's
 * bounded queue. The window adapts to the worker: enough tasks to cover WINDOW_BUDGET_US of its
 * measured time per task, at least two (one running, one ready) and at most the broker's
 * worker_window. Tasks of microseconds then travel in batches, and a task of a second never waits
 * behind more than one other (but an outlier far slower than its worker's usual holds up whatever
 * waits behind it). Its body frame stays with the task until the end, so a task whose worker dies
 * can be sent again (at-least-once, up to max_attempts); each worker gets a reference-counted copy,
 * never a byte copy. A task whose client already has its answer (deadline, cancel) stays known
 * until its worker answers too, so the worker's slot is accounted for honestly and the late answer
 * is recognised and dropped. RESULTs carry the attempt number, so an answer from an earlier attempt
 * is counted as a duplicate and never reaches the client.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: broker. A task's states and
 * their fields are in task.h; sends, drops and kills go through the owner's dispatch_ops_t.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadlines.h"
#include "dispatch.h"

/* A RESULT its client's pipe could not take yet (dispatch.c: deliver). */
typedef struct held_result {
    uint64_t id;
    int32_t code;
    uint32_t attempt;
    zmq_msg_t body; /* a reference, as a task holds its body */
    uint32_t body_off;
    size_t body_len;
    int has_body;
    struct held_result *next;
    char text[]; /* "" when none */
} held_result_t;

/* A client whose answers wait past this many times the service queue's bound is not reading
 * at all while it keeps sending (each refused task is one more answer to keep): it is dropped
 * as not keeping up, so the broker's memory stays bounded. */
#define HELD_HARD_FACTOR 4

struct dispatch {
    const dispatch_ops_t *ops;
    void *ops_ctx;
    registry_t *reg;
    const dispatch_clock_t *now;
    dispatch_opts_t o;
    services_t *svcs;
    task_table_t tasks;
    deadlines_t dl;
    uint64_t next_id, next_seq;
    int closed;     /* dispatch_close: new tasks are refused */
    char full[128]; /* dispatch_refuse_new: why new tasks are refused for now ("" = they are not) */
    uint64_t n_held; /* answers waiting in clients' held lists, all clients */
    dispatch_stats_t st;
};

/* What a worker may hold beyond its running tasks, in its own measured time per task: a task
 * given to a busy worker waits at most about this long, while its pipe stays full. */
#define WINDOW_BUDGET_US 1000

/* A deadline entry still stands for a timer of its task: its deadline or its kill time. */
static int deadline_live(void *arg, const deadline_t *e)
{
    const dispatch_t *d = arg;
    const task_t *t = task_find(&d->tasks, e->id);
    return t && (t->deadline == e->at || t->kill_at == e->at);
}

static void worker_changed(dispatch_t *d, reg_peer_t *w);
static void held_drop_all(dispatch_t *d, reg_peer_t *c);

static void release(dispatch_t *d, task_t *t)
{
    task_free(&d->tasks, t);
}

/* ---- life and death ------------------------------------------------------------------- */

int dispatch_new(dispatch_t **out, const dispatch_ops_t *ops, void *ops_ctx, registry_t *reg,
                 const dispatch_clock_t *clock, const dispatch_opts_t *o)
{
    if (!out || !ops || !ops->send || !ops->peer_lost || !ops->worker_hung || !reg || !clock || !o)
        return SWB_E_INVALID;
    dispatch_t *d = calloc(1, sizeof *d);
    if (!d)
        return SWB_E_NOMEM;
    d->ops = ops;
    d->ops_ctx = ops_ctx;
    d->reg = reg;
    d->now = clock;
    d->o = *o;
    deadlines_init(&d->dl, deadline_live, d);
    if (task_table_init(&d->tasks) != SWB_OK) {
        free(d);
        return SWB_E_NOMEM;
    }
    if (services_new(&d->svcs, o->max_services) != SWB_OK) {
        task_table_fini(&d->tasks);
        free(d);
        return SWB_E_NOMEM;
    }
    *out = d;
    return SWB_OK;
}

void dispatch_destroy(dispatch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dispatch_t *d = *self_p;
    for (uint32_t i = 0; d->n_held && i < registry_capacity(d->reg); i++)
        held_drop_all(d, registry_at(d->reg, i));
    task_table_fini(&d->tasks);
    deadlines_fini(&d->dl);
    services_destroy(&d->svcs);
    free(d);
    *self_p = NULL;
}

/* ---- sending -------------------------------------------------------------------------- */

static void held_free(held_result_t *r)
{
    if (r->has_body)
        zmq_msg_close(&r->body);
    free(r);
}

/* Keep a RESULT for client c until its pipe takes it; 0, or -1 when it cannot be kept. */
static int hold(dispatch_t *d, reg_peer_t *c, const swb_header_t *h, const swbi_body_t *body)
{
    size_t tl = SWB_HAS(h, SWB_F_TEXT) ? h->text.len : 0;
    held_result_t *r = malloc(sizeof *r + tl + 1);
    if (!r)
        return -1;
    r->id = h->id;
    r->code = h->code;
    r->attempt = SWB_HAS(h, SWB_F_ATTEMPT) ? h->attempt : 0;
    memcpy(r->text, tl ? h->text.ptr : "", tl);
    r->text[tl] = '\0';
    zmq_msg_init(&r->body);
    r->has_body = body && zmq_msg_copy(&r->body, body->msg) == 0;
    r->body_off = r->has_body ? (uint32_t)body->off : 0;
    r->body_len = r->has_body ? body->len : 0;
    r->next = NULL;
    if (c->held_tail)
        c->held_tail->next = r;
    else
        c->held_head = r;
    c->held_tail = r;
    c->n_held++;
    d->n_held++;
    return 0;
}

/* Drop what client c still has waiting (it left); counted as orphaned. */
static void held_drop_all(dispatch_t *d, reg_peer_t *c)
{
    while (c->held_head) {
        held_result_t *r = c->held_head;
        c->held_head = r->next;
        held_free(r);
        d->st.orphaned++;
    }
    c->held_tail = NULL;
    d->n_held -= c->n_held;
    c->n_held = 0;
}

/* Send what client c has waiting, oldest first, while its pipe takes it. */
static void flush_held(dispatch_t *d, reg_peer_t *c)
{
    while (c->held_head) {
        held_result_t *r = c->held_head;
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_RESULT);
        SWB_SET(&h, SWB_F_ID);
        h.id = r->id;
        SWB_SET(&h, SWB_F_CODE);
        h.code = r->code;
        if (r->attempt) {
            SWB_SET(&h, SWB_F_ATTEMPT);
            h.attempt = r->attempt;
        }
        if (r->text[0])
            swb_header_set_str(&h, SWB_F_TEXT, r->text);
        swbi_body_t body = {&r->body, r->body_off, r->body_len};
        if (d->ops->send(d->ops_ctx, c, &h, r->has_body ? &body : NULL) != 0) {
            if (errno != EAGAIN) /* its connection is gone: nobody will read them */
                held_drop_all(d, c);
            return;
        }
        c->held_head = r->next;
        if (!c->held_head)
            c->held_tail = NULL;
        c->n_held--;
        d->n_held--;
        held_free(r);
    }
}

/* Hand client c its RESULT, or keep it while c's pipe is full (and behind what already waits,
 * so answers keep their order): a RESULT is never dropped for a slow reader. */
static void deliver(dispatch_t *d, reg_peer_t *c, const swb_header_t *h, const swbi_body_t *body)
{
    if (c->n_held)
        flush_held(d, c);
    if (!c->n_held) {
        if (d->ops->send(d->ops_ctx, c, h, body) == 0)
            return;
        if (errno != EAGAIN) {
            d->st.unsent++; /* its connection is gone */
            return;
        }
    }
    if (c->n_held >= HELD_HARD_FACTOR * d->o.max_queue || hold(d, c, h, body) != 0) {
        d->st.unsent++;
        c->blocked = 1; /* out of rotation, should it serve too */
        worker_changed(d, c);
        d->ops->peer_lost(d->ops_ctx, c);
    }
}

static void send_result(dispatch_t *d, task_t *t, int code, const char *text,
                        const swbi_body_t *body)
{
    /* The record the task came from, unless its slot went to another peer since. */
    reg_peer_t *c = t->cpeer && t->cpeer->used && t->cpeer->gen == t->cgen
                        ? t->cpeer
                        : registry_by_name(d->reg, t->client, strlen(t->client));
    if (!c) {
        d->st.orphaned++; /* the client left; nobody is waiting */
        return;
    }
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_RESULT);
    SWB_SET(&h, SWB_F_ID);
    h.id = t->client_id;
    SWB_SET(&h, SWB_F_CODE);
    h.code = code;
    if (t->attempt) {
        SWB_SET(&h, SWB_F_ATTEMPT);
        h.attempt = t->attempt;
    }
    if (code != SWB_OK)
        swb_header_set_str(&h, SWB_F_TEXT, text && *text ? text : swb_strerror(code));
    deliver(d, c, &h, body);
}

/* Give the client its one answer. The record lives on while a worker still owes a result. */
static void finish(dispatch_t *d, task_t *t, int code, const char *text, const swbi_body_t *body)
{
    service_t *s = t->svc;
    send_result(d, t, code, text, body);
    if (code == SWB_OK) {
        s->done++;
    } else {
        s->failed++;
        if (code < 0 && code > -64)
            s->failed_by[-code]++;
    }
    int64_t us = d->now->us - t->submitted_us;
    svc_latency_add(s, us > 0 ? us : 0);
    if (t->worker)
        t->state = TASK_ANSWERED;
    else
        release(d, t);
}

/* Tasks per slot w may hold: see the top of this file. Until it has been measured, up to 4. */
uint32_t dispatch_worker_window(const dispatch_t *d, const reg_peer_t *w)
{
    uint32_t max = d->o.window, win = 4;
    if (w->task_ns) {
        uint64_t more = (WINDOW_BUDGET_US * 1000ull + w->task_ns - 1) / w->task_ns;
        win = more < max ? 1 + (uint32_t)more : max;
    }
    if (win < 2)
        win = 2;
    return win < max ? win : max;
}

static void worker_changed(dispatch_t *d, reg_peer_t *w)
{
    int eligible = w->used && !w->draining && !w->blocked &&
                   w->inflight < (uint64_t)w->capacity * dispatch_worker_window(d, w);
    for (int i = 0; i < (int)w->n_services; i++) {
        service_t *s = w->svc[i];
        if (!s)
            continue;
        if (!eligible)
            svc_heap_remove(s, w, i);
        else if (w->heap_pos[i] < 0)
            svc_heap_add(s, w, i);
        else
            svc_heap_fix(s, w, i);
    }
}

static void link_task(reg_peer_t *w, task_t *t)
{
    if (t->qpos >= 0 || t->worker) /* a broken invariant: say so (asserts are off in release) */
        swb_log(SWB_LOG_ERROR, "dispatch: task %llu sent while queued or held",
                (unsigned long long)t->id);
    t->state = TASK_RUNNING;
    t->worker = w;
    t->wprev = NULL;
    t->wnext = w->tasks;
    if (w->tasks)
        w->tasks->wprev = t;
    w->tasks = t;
    w->inflight++;
    t->svc->inflight++;
}

static void unlink_task(task_t *t)
{
    reg_peer_t *w = t->worker;
    if (!w)
        return;
    if (t->wprev)
        t->wprev->wnext = t->wnext;
    else
        w->tasks = t->wnext;
    if (t->wnext)
        t->wnext->wprev = t->wprev;
    t->wnext = t->wprev = NULL;
    t->worker = NULL;
    w->inflight--;
    t->svc->inflight--;
}

/* Send t to w. Returns 0, or -1 with errno from the send (the task is left unassigned). */
static int assign(dispatch_t *d, task_t *t, reg_peer_t *w)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_TASK);
    SWB_SET(&h, SWB_F_ID);
    h.id = t->id;
    swb_header_set_str(&h, SWB_F_SERVICE, t->svc->name);
    swb_header_set_str(&h, SWB_F_FROM, t->client);
    SWB_SET(&h, SWB_F_ATTEMPT);
    h.attempt = t->attempt + 1;
    if (t->deadline) {
        SWB_SET(&h, SWB_F_DEADLINE);
        int64_t left = t->deadline - d->now->ms;
        h.deadline_ms = (uint32_t)(left > 0 ? left : 1);
    }
    if (t->priority) {
        SWB_SET(&h, SWB_F_PRIORITY);
        h.priority = t->priority;
    }
    swbi_body_t body = {&t->body, t->body_off, t->body_len};
    if (d->ops->send(d->ops_ctx, w, &h, t->has_body ? &body : NULL) != 0)
        return -1;
    t->attempt++;
    link_task(w, t);
    worker_changed(d, w);
    return 0;
}

/* Put t in its service's queue (new, or back after its worker was lost). */
static int enqueue(service_t *s, task_t *t)
{
    if (t->worker) /* a broken invariant: say so */
        swb_log(SWB_LOG_ERROR, "dispatch: task %llu queued while held by a worker",
                (unsigned long long)t->id);
    int rc = svc_queue_push(s, t);
    if (rc == SWB_OK)
        t->state = TASK_QUEUED;
    return rc;
}

/* Start queued tasks while the service has free workers. */
static void pump(dispatch_t *d, service_t *s)
{
    reg_peer_t *w;
    while (s->n_queue && (w = svc_heap_top(s)) != NULL) {
        if (!w->used) { /* a broken invariant: say so rather than loop on it */
            swb_log(SWB_LOG_ERROR, "dispatch: a dropped worker is still in %s's heap", s->name);
            break;
        }
        task_t *t = svc_queue_pop(s);
        if (assign(d, t, w) == 0)
            continue;
        int e = errno;
        svc_queue_unpop(s, t);
        /* Its pipe is full (EAGAIN): out of rotation until the broker hears from it. Its
         * connection is gone (EHOSTUNREACH): out of rotation too, and the owner drops it
         * (dispatch_worker_gone) once this call has returned. */
        w->blocked = 1;
        worker_changed(d, w);
        if (e == EHOSTUNREACH)
            d->ops->peer_lost(d->ops_ctx, w);
    }
}

/* The worker holding t should stop it; best effort (its answer, if any, will be late). */
static void tell_worker_cancel(dispatch_t *d, const task_t *t)
{
    swb_header_t c;
    swb_header_init(&c, SWB_CMD_CANCEL);
    SWB_SET(&c, SWB_F_ID);
    c.id = t->id;
    SWB_SET(&c, SWB_F_ATTEMPT);
    c.attempt = t->attempt;
    d->ops->send(d->ops_ctx, t->worker, &c, NULL); /* a worker gone or full: it is found so */
}

/* ---- commands ------------------------------------------------------------------------- */

static void reject(dispatch_t *d, reg_peer_t *client, uint64_t id, int code, const char *text)
{
    task_t t = {.client_id = id, .attempt = 0, .cpeer = client, .cgen = client->gen};
    memcpy(t.client, client->name, sizeof t.client); /* both hold a NUL-terminated name */
    send_result(d, &t, code, text, NULL);
}

void dispatch_close(dispatch_t *d)
{
    d->closed = 1;
}

void dispatch_refuse_new(dispatch_t *d, const char *why)
{
    snprintf(d->full, sizeof d->full, "%s", why ? why : "");
}

void dispatch_task(dispatch_t *d, reg_peer_t *client, const swb_header_t *h,
                   const swbi_body_t *body)
{
    service_t *s = services_get(d->svcs, h->service.ptr, h->service.len, 0);
    if (!s || (!s->n_workers && d->now->ms - s->empty_since > (int64_t)d->o.no_worker_grace)) {
        reject(d, client, h->id, SWB_E_NO_SERVICE, "no worker serves that service");
        return;
    }
    if (client->n_held >= d->o.max_queue) {
        /* Its answers wait for it to read them: no more work until it does. */
        reject(d, client, h->id, SWB_E_QUEUE_FULL, "answers are waiting for this client to read");
        return;
    }
    if (d->closed) {
        reject(d, client, h->id, SWB_E_SHUTTING_DOWN, NULL);
        return;
    }
    if (d->full[0]) {
        s->rejected++;
        reject(d, client, h->id, SWB_E_QUEUE_FULL, d->full);
        return;
    }
    if (d->tasks.count >= d->o.max_tasks) {
        s->rejected++;
        reject(d, client, h->id, SWB_E_QUEUE_FULL, "broker task limit reached");
        return;
    }
    reg_peer_t *w = svc_heap_top(s);
    if (!w && s->n_queue >= d->o.max_queue) {
        s->rejected++;
        reject(d, client, h->id, SWB_E_QUEUE_FULL, "service queue full");
        return;
    }
    task_t *t = task_table_room(&d->tasks) == SWB_OK ? task_alloc(&d->tasks) : NULL;
    if (!t) {
        reject(d, client, h->id, SWB_E_NOMEM, NULL);
        return;
    }
    t->id = ++d->next_id;
    t->client_id = h->id;
    memcpy(t->client, client->name, sizeof t->client);
    t->cpeer = client;
    t->cgen = client->gen;
    t->svc = s;
    t->priority = SWB_HAS(h, SWB_F_PRIORITY) ? h->priority : 0;
    t->deadline = h->deadline_ms ? d->now->ms + h->deadline_ms : 0;
    t->submitted_us = d->now->us;
    t->seq = ++d->next_seq;
    t->qpos = -1;
    /* A reference (or, for a small frame, a copy), never a move: an inline body shares its
     * frame with the header that `h` still points into. */
    zmq_msg_init(&t->body);
    t->has_body = body && zmq_msg_copy(&t->body, body->msg) == 0;
    t->body_off = t->has_body ? (uint32_t)body->off : 0;
    t->body_len = t->has_body ? body->len : 0;
    task_insert(&d->tasks, t);
    s->submitted++;
    if (t->deadline)
        deadlines_push(&d->dl, t->deadline, t->id, d->tasks.count);
    if (enqueue(s, t) != SWB_OK) {
        finish(d, t, SWB_E_NOMEM, NULL, NULL);
        return;
    }
    pump(d, s);
}

void dispatch_result(dispatch_t *d, reg_peer_t *w, const swb_header_t *h, const swbi_body_t *body)
{
    task_t *t = task_find(&d->tasks, h->id);
    if (!t || t->worker != w || (SWB_HAS(h, SWB_F_ATTEMPT) && h->attempt != t->attempt)) {
        /* An answer for an attempt we gave up on: the client has (or will get) one already. */
        d->st.unknown_results++;
        if (t)
            t->svc->duplicates++;
        return;
    }
    service_t *s = t->svc;
    /* If every slot stayed busy since its last answer, the gap is its time per task (per slot:
     * times capacity); after an idle spell the gap would count the idleness, so it is not a
     * sample. */
    int64_t now_us = d->now->us;
    if (w->busy_since_done && w->capacity) {
        int64_t gap = now_us - w->last_done_us;
        gap = gap < 0 ? 0 : gap > 60000000 ? 60000000 : gap; /* a minute at most, in µs */
        uint64_t sample = (uint64_t)gap * 1000u * w->capacity;
        if (sample > 60000000000ull)
            sample = 60000000000ull;
        w->task_ns = w->task_ns ? w->task_ns - w->task_ns / 8 + sample / 8 : sample + 1;
    }
    w->last_done_us = now_us;
    unlink_task(t);
    w->busy_since_done = w->inflight >= w->capacity;
    w->done++;
    worker_changed(d, w);
    if (t->state == TASK_ANSWERED) {
        d->st.late++;
        release(d, t);
    } else {
        char text[SWB_MAX_TEXT + 1];
        text[0] = '\0';
        if (SWB_HAS(h, SWB_F_TEXT))
            swbi_str_copy(text, sizeof text, h->text);
        finish(d, t, h->code, text, body);
    }
    pump(d, s);
    for (int i = 0; i < (int)w->n_services; i++)
        if (w->svc[i] && w->svc[i] != s)
            pump(d, w->svc[i]);
}

void dispatch_cancel(dispatch_t *d, reg_peer_t *client, const swb_header_t *h)
{
    /* Clients name tasks by their own ids, so they are found by (client, id). */
    task_t *t = task_find_client(&d->tasks, client->name, h->id);
    if (!t)
        return; /* already ended: cancel is idempotent, and its one RESULT was sent */
    if (t->state == TASK_QUEUED)
        svc_queue_remove(t->svc, t);
    else if (t->state == TASK_RUNNING)
        tell_worker_cancel(d, t);
    finish(d, t, SWB_E_CANCELLED, "cancelled by the client", NULL);
}

int dispatch_worker_join(dispatch_t *d, reg_peer_t *w)
{
    if (!w->n_services || !w->capacity)
        return SWB_OK;
    for (int i = 0; i < (int)w->n_services; i++) {
        service_t *s = services_get(d->svcs, w->services[i], strlen(w->services[i]), 1);
        if (!s) {
            w->svc[i] = NULL;
            swb_log(SWB_LOG_WARN, "service limit reached: %s not registered", w->services[i]);
            continue;
        }
        w->svc[i] = s;
        w->heap_pos[i] = -1;
        s->n_workers++;
        s->empty_since = 0;
    }
    worker_changed(d, w);
    for (int i = 0; i < (int)w->n_services; i++)
        if (w->svc[i])
            pump(d, w->svc[i]);
    return SWB_OK;
}

void dispatch_worker_load(dispatch_t *d, reg_peer_t *w, uint32_t load)
{
    w->load = load > 1000 ? 1000 : load;
    worker_changed(d, w);
    /* A CREDIT may have given it room: queued tasks start now, not at the next tick. */
    for (int i = 0; i < (int)w->n_services; i++)
        if (w->svc[i])
            pump(d, w->svc[i]);
}

void dispatch_worker_credit(dispatch_t *d, reg_peer_t *w, uint32_t credit, uint32_t load)
{
    int member = 0;
    for (int i = 0; i < (int)w->n_services; i++)
        member |= w->svc[i] != NULL;
    w->capacity = credit;
    if (!member && credit && w->n_services) {
        /* It said HELLO with capacity 0 (a member for messages only): it takes tasks now. */
        w->load = load > 1000 ? 1000 : load;
        dispatch_worker_join(d, w);
        return;
    }
    dispatch_worker_load(d, w, load);
}

void dispatch_worker_heard(dispatch_t *d, reg_peer_t *w)
{
    w->blocked = 0;
    worker_changed(d, w);
    for (int i = 0; i < (int)w->n_services; i++)
        if (w->svc[i])
            pump(d, w->svc[i]);
}

void dispatch_worker_pause(dispatch_t *d, reg_peer_t *w)
{
    w->draining = 1;
    worker_changed(d, w);
}

/* Take w out of its services' rotation; returns the services it was in. */
static int leave_services(dispatch_t *d, reg_peer_t *w, service_t **touched)
{
    int n = 0;
    for (int i = 0; i < (int)w->n_services; i++) {
        service_t *s = w->svc[i];
        if (!s)
            continue;
        svc_heap_remove(s, w, i);
        if (--s->n_workers == 0)
            s->empty_since = d->now->ms;
        touched[n++] = s;
        w->svc[i] = NULL;
    }
    return n;
}

void dispatch_worker_leave(dispatch_t *d, reg_peer_t *w)
{
    service_t *touched[SWB_MAX_SERVICES];
    leave_services(d, w, touched);
}

void dispatch_worker_gone(dispatch_t *d, reg_peer_t *w)
{
    held_drop_all(d, w); /* a client's waiting answers go with it */
    service_t *touched[SWB_MAX_SERVICES];
    int n = leave_services(d, w, touched);
    while (w->tasks) {
        task_t *t = w->tasks;
        unlink_task(t);
        if (t->state == TASK_ANSWERED) {
            release(d, t);
        } else if (t->attempt < d->o.max_attempts) {
            t->svc->retried++;
            if (enqueue(t->svc, t) != SWB_OK)
                finish(d, t, SWB_E_NOMEM, NULL, NULL);
        } else {
            char text[96];
            snprintf(text, sizeof text, "worker lost on each of %u attempts", t->attempt);
            finish(d, t, SWB_E_WORKER_LOST, text, NULL);
        }
    }
    w->inflight = 0;
    for (int i = 0; i < n; i++)
        pump(d, touched[i]);
}

/* Whether t is among the `capacity` oldest tasks its worker holds, i.e. running there (a
 * worker runs tasks in the order it got them; w->tasks lists the newest first). */
static int running_at_worker(const task_t *t)
{
    uint32_t older = 0;
    for (const task_t *o = t->wnext; o; o = o->wnext)
        older++;
    return older < (t->worker->capacity ? t->worker->capacity : 1);
}

void dispatch_peer_heard(dispatch_t *d, reg_peer_t *p)
{
    if (p->n_held)
        flush_held(d, p);
}

void dispatch_tick(dispatch_t *d)
{
    int64_t now = d->now->ms;
    /* Clients that read nothing send nothing either: their waiting answers are retried here. */
    for (uint32_t i = 0; d->n_held && i < registry_capacity(d->reg); i++) {
        reg_peer_t *p = registry_at(d->reg, i);
        if (p->used && p->n_held)
            flush_held(d, p);
    }
    deadline_t e;
    while (deadlines_pop_due(&d->dl, now, &e)) {
        task_t *t = task_find(&d->tasks, e.id);
        if (!t)
            continue;
        if (t->state == TASK_ANSWERED && t->kill_at == e.at) {
            if (!running_at_worker(t)) {
                /* Still waiting behind others at its worker (the window): the worker is busy,
                 * not hung; look again later. */
                t->kill_at = now + d->o.hung_grace;
                deadlines_push(&d->dl, t->kill_at, t->id, d->tasks.count);
                continue;
            }
            /* Told to stop at its deadline and still holding the slot: hung. */
            char why[96];
            snprintf(why, sizeof why, "task ran %u ms past its deadline", d->o.hung_grace);
            d->ops->worker_hung(d->ops_ctx, t->worker, why);
            continue;
        }
        if (t->deadline != e.at)
            continue;
        if (t->state == TASK_ANSWERED && !t->kill_at) {
            /* Cancelled while running and still held at its deadline: from now on it is timed
             * like a task that ran out of time (hung after hung_grace). */
            t->kill_at = now + d->o.hung_grace;
            deadlines_push(&d->dl, t->kill_at, t->id, d->tasks.count);
            continue;
        }
        if (t->state == TASK_QUEUED) {
            svc_queue_remove(t->svc, t);
            finish(d, t, SWB_E_DEADLINE, "deadline passed while queued", NULL);
        } else if (t->state == TASK_RUNNING) {
            tell_worker_cancel(d, t);
            t->kill_at = now + d->o.hung_grace;
            deadlines_push(&d->dl, t->kill_at, t->id, d->tasks.count);
            finish(d, t, SWB_E_DEADLINE, "deadline passed while running", NULL);
        }
    }
    for (uint32_t i = 0; i < services_count(d->svcs); i++) {
        service_t *s = services_at(d->svcs, i);
        if (!s->n_queue)
            continue;
        if (!s->n_workers && now - s->empty_since > (int64_t)d->o.no_worker_grace) {
            task_t *t;
            while ((t = svc_queue_pop(s)) != NULL)
                finish(d, t, SWB_E_NO_SERVICE, "no worker came back for the service", NULL);
            continue;
        }
        pump(d, s);
    }
}

void dispatch_fail_all(dispatch_t *d, int code, const char *text)
{
    for (uint32_t i = 0; i < services_count(d->svcs); i++) {
        service_t *s = services_at(d->svcs, i);
        task_t *t;
        while ((t = svc_queue_pop(s)) != NULL)
            finish(d, t, code, text, NULL);
    }
    /* Running ones too: their clients get the answer now; the records stay until the workers
     * answer or go (finish keeps a task whose worker still owes a result). */
    for (uint32_t i = 0; i <= d->tasks.mask; i++) {
        task_t *t = task_at(&d->tasks, i);
        if (t && t->state == TASK_RUNNING)
            finish(d, t, code, text, NULL);
    }
}

uint32_t dispatch_inflight(const dispatch_t *d)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < services_count(d->svcs); i++)
        n += services_at(d->svcs, i)->inflight;
    return n;
}

services_t *dispatch_services(dispatch_t *d)
{
    return d->svcs;
}

uint64_t dispatch_tasks_known(const dispatch_t *d)
{
    return d->tasks.count;
}

const dispatch_stats_t *dispatch_stats(const dispatch_t *d)
{
    return &d->st;
}
