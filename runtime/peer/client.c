/*
 * client.c - submitting tasks and getting their results: swb_submit, swb_wait, swb_call,
 * swb_cancel. A client can keep thousands of tasks in flight; every one of them gets exactly
 * one RESULT from the broker (ok, or an error code with text).
 *
 * Layer: peer; uses: common; called by: programs, embed (the pool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_int.h"

/* Results can also arrive for tasks whose call was abandoned (local timeout); they are
 * counted and dropped by the caller reading them. */

/* Queue the broker_lost RESULT of task `c` (text made by the caller in n->m.text). */
static void end_task(swb_peer_t *p, task_cb_t *c, pending_t *n)
{
    c->ended = 1;
    p->outstanding--;
    n->m.type = SWB_MSG_RESULT;
    n->m.id = c->id;
    n->m.code = SWB_E_BROKER_LOST;
    n->fn = c->fn;
    n->arg = c->arg;
    peeri_queue_push(&p->ended_head, &p->ended_tail, n);
}

static void recycle_cb(swb_peer_t *p, task_cb_t *c)
{
    if (p->n_spare_cbs < PEER_SPARE_CBS) {
        c->next = p->spare_cbs;
        p->spare_cbs = c;
        p->n_spare_cbs++;
    } else {
        free(c);
    }
}

int peeri_task_result(swb_peer_t *p, swb_msg_t *m)
{
    /* Every submitted task has an entry (with or without a callback); other RESULTs (STATS,
     * SPAWN, ...) have none and are not counted. An ERROR naming a task (it never got in:
     * not registered, too large) ends it just the same. */
    task_cb_t **pp = &p->cbs[m->id % PEER_TASK_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->id != m->id)
            continue;
        task_cb_t *c = *pp;
        *pp = c->next;
        int consumed = c->fn != NULL;
        if (c->ended) {
            /* It was answered broker_lost already: this late answer is a second one. */
            swb_msg_close(m);
            consumed = 1;
        } else {
            p->outstanding--;
        }
        if (consumed && !c->ended) {
            c->fn(c->arg, m->id, m->code, m);
            swb_msg_close(m);
        }
        recycle_cb(p, c); /* a malloc and a free per task otherwise */
        return consumed;
    }
    return 0;
}

void peeri_end_outstanding(swb_peer_t *p, int64_t silent_ms)
{
    for (size_t i = 0; i < PEER_TASK_BUCKETS; i++) {
        for (task_cb_t *c = p->cbs[i]; c; c = c->next) {
            if (c->ended)
                continue;
            pending_t *n = calloc(1, sizeof *n);
            if (!n)
                return; /* the rest are answered at the next lost period */
            snprintf(n->m.text, sizeof n->m.text,
                     "broker lost: nothing from %s for %lld ms with the task unanswered",
                     p->endpoint, (long long)silent_ms);
            end_task(p, c, n);
        }
    }
}

size_t peeri_end_before(swb_peer_t *p, uint64_t hello_id)
{
    size_t ended = 0;
    for (size_t i = 0; i < PEER_TASK_BUCKETS; i++) {
        for (task_cb_t **pp = &p->cbs[i]; *pp;) {
            task_cb_t *c = *pp;
            if (hello_id && c->id > hello_id) { /* sent to the new broker, which answers it */
                pp = &c->next;
                continue;
            }
            if (!c->ended) {
                pending_t *n = calloc(1, sizeof *n);
                if (!n) { /* kept: the next lost period ends it */
                    pp = &c->next;
                    continue;
                }
                snprintf(n->m.text, sizeof n->m.text,
                         "broker lost: the broker at %s restarted with the task unanswered",
                         p->endpoint);
                end_task(p, c, n);
                ended++;
            }
            *pp = c->next;
            recycle_cb(p, c);
        }
    }
    return ended;
}

int swb_submit(swb_peer_t *p, const char *service, const void *body, size_t len,
               const swb_task_opts_t *given, uint64_t *id)
{
    /* Per task, so the caller's struct is read in place when it has this build's layout (size
     * set to it, or zero while the first layout is the whole struct); else a copy by its size. */
    const size_t v1 = SWBI_OPTS_END(swb_task_opts_t, arg);
    swb_task_opts_t taken;
    const swb_task_opts_t *o = given;
    if (given && given->size != sizeof taken && (given->size || v1 != sizeof taken)) {
        int rc = swbi_opts_take(&taken, sizeof taken, given, v1, "swb_task_opts_t");
        if (rc != SWB_OK)
            return rc;
        o = &taken;
    }
    if (!p || !service || !*service || strlen(service) > SWB_MAX_NAME || (!body && len))
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_TASK);
    SWB_SET(&h, SWB_F_ID);
    h.id = peeri_next_id(p);
    swb_header_set_str(&h, SWB_F_SERVICE, service);
    if (o && o->deadline_ms) {
        SWB_SET(&h, SWB_F_DEADLINE);
        h.deadline_ms = o->deadline_ms;
    }
    if (o && o->priority) {
        SWB_SET(&h, SWB_F_PRIORITY);
        h.priority = o->priority;
    }
    task_cb_t *cb = p->spare_cbs;
    if (cb) {
        p->spare_cbs = cb->next;
        p->n_spare_cbs--;
    } else if (!(cb = malloc(sizeof *cb))) {
        return SWB_E_NOMEM;
    }
    *cb = (task_cb_t){.id = h.id, .fn = o ? o->on_result : NULL, .arg = o ? o->arg : NULL};
    static const unsigned char nil = 0xc0;
    int rc = peeri_send(p, &h, body ? body : &nil, body ? len : 1);
    if (rc != SWB_OK) {
        cb->next = p->spare_cbs;
        p->spare_cbs = cb;
        p->n_spare_cbs++;
        return rc;
    }
    cb->next = p->cbs[h.id % PEER_TASK_BUCKETS];
    p->cbs[h.id % PEER_TASK_BUCKETS] = cb;
    p->outstanding++;
    if (id)
        *id = h.id;
    return SWB_OK;
}

static int result_code(const swb_msg_t *m)
{
    return m->type == SWB_MSG_RESULT || m->type == SWB_MSG_ERROR ? m->code : SWB_E_INTERNAL;
}

static int is_result(const swb_msg_t *m, const void *arg)
{
    (void)arg;
    return m->type == SWB_MSG_RESULT;
}

int swb_wait(swb_peer_t *p, uint64_t id, swb_msg_t *result, int timeout_ms)
{
    if (!p || !result)
        return SWB_E_INVALID;
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    int rc = peeri_wait_for(p, peeri_is_reply_to, &id, result, deadline);
    return rc == SWB_OK ? result_code(result) : rc;
}

int swb_wait_any(swb_peer_t *p, swb_msg_t *result, int timeout_ms)
{
    if (!p || !result)
        return SWB_E_INVALID;
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    int rc = peeri_wait_for(p, is_result, NULL, result, deadline);
    return rc == SWB_OK ? result->code : rc;
}

int swb_call(swb_peer_t *p, const char *service, const void *body, size_t len, int timeout_ms,
             swb_msg_t *result)
{
    if (!result)
        return SWB_E_INVALID;
    swb_msg_close(result);
    swb_task_opts_t o =
        SWB_OPTS(swb_task_opts_t, .deadline_ms = timeout_ms > 0 ? (uint32_t)timeout_ms : 0);
    uint64_t id;
    int rc = swb_submit(p, service, body, len, &o, &id);
    if (rc != SWB_OK)
        return rc;
    /* The broker ends the task at its deadline and says so; wait a little longer than that so
     * its answer, not a local guess, decides. */
    int wait = timeout_ms > 0 ? timeout_ms + 2000 : -1;
    rc = swb_wait(p, id, result, wait);
    if (rc == SWB_E_TIMEOUT && result->type != SWB_MSG_RESULT)
        swb_cancel(p, id); /* the broker is not answering; don't leave the task behind */
    return rc;
}

int swb_cancel(swb_peer_t *p, uint64_t id)
{
    if (!p || !id)
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_CANCEL);
    SWB_SET(&h, SWB_F_ID);
    h.id = id;
    return peeri_send(p, &h, NULL, 0);
}

size_t swb_peer_outstanding(const swb_peer_t *p)
{
    return p ? p->outstanding : 0;
}
