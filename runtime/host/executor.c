/*
 * executor.c - the threads that run a plugin, and the swb_ctx_* API plugins call.
 *
 * The host's I/O thread owns the broker connection and keeps heartbeating while a plugin
 * computes, so a long task never makes its worker look dead. Work reaches the executors
 * through a locked queue (an idle executor takes the next item, so capacity N means N tasks
 * at once); what a plugin sends goes back as ready-made [header][body] frames over an inproc
 * PUSH socket per executor, which the I/O thread forwards to the broker unchanged.
 *
 * Layer: host; uses: peer, common; called by: host.c, and plugins through swb_plugin.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"
#include "swb_msgpack.h"

work_t *work_alloc(host_t *h)
{
    host_lock(h);
    work_t *w = h->spare;
    if (w) {
        h->spare = w->next;
        h->n_spare--;
    }
    host_unlock(h);
    return w ? w : malloc(sizeof *w);
}

/* With h->lock held. */
static void work_put(host_t *h, work_t *w)
{
    zmq_msg_close(&w->body);
    if (h->n_spare >= HOST_SPARE_WORK) {
        free(w);
        return;
    }
    w->next = h->spare;
    h->spare = w;
    h->n_spare++;
}

void work_free(host_t *h, work_t *w)
{
    if (!w)
        return;
    host_lock(h);
    work_put(h, w);
    host_unlock(h);
}

int executor_full(host_t *h)
{
    host_lock(h);
    int full = h->queued >= HOST_QUEUE_MAX || h->queued_bytes >= HOST_QUEUE_MAX_BYTES;
    host_unlock(h);
    return full;
}

void executor_push(host_t *h, work_t *w)
{
    w->next = NULL;
    host_lock(h);
    if (h->tail)
        h->tail->next = w;
    else
        h->head = w;
    h->tail = w;
    h->queued++;
    h->queued_bytes += w->body_len;
    if (!h->inline_mode)
        pthread_cond_signal(&h->cond);
    host_unlock(h);
}

int executor_cancel(host_t *h, uint64_t id)
{
    int found = 0;
    host_lock(h);
    for (work_t **pp = &h->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        work_t *w = *pp;
        if (w->kind == WORK_TASK && w->id == id) {
            *pp = w->next;
            if (h->tail == w)
                h->tail = prev;
            h->queued--;
            h->queued_bytes -= w->body_len;
            work_put(h, w);
            found = 2;
            break;
        }
    }
    host_unlock(h);
    if (found)
        return found;
    for (uint32_t i = 0; i < h->capacity; i++) {
        swb_ctx_t *c = &h->ctxs[i];
        if (__atomic_load_n(&c->cur_id, __ATOMIC_ACQUIRE) == id) {
            __atomic_store_n(&c->cancel_id, id, __ATOMIC_RELEASE);
            return 1;
        }
    }
    return 0;
}

static work_t *take(host_t *h)
{
    pthread_mutex_lock(&h->lock); /* executor threads: never inline mode */
    while (!h->head && !h->closing)
        pthread_cond_wait(&h->cond, &h->lock);
    work_t *w = h->head;
    if (w) {
        h->head = w->next;
        if (!h->head)
            h->tail = NULL;
        h->queued--;
        h->queued_bytes -= w->body_len;
    }
    pthread_mutex_unlock(&h->lock);
    return w;
}

static int ctx_out(swb_ctx_t *c, const swb_header_t *hd, const void *body, size_t len)
{
    /* Inline mode has no outbox: this thread owns the broker connection. */
    void *sock = c->push ? c->push : swb_peer_socket(c->host->peer);
    if (swbi_send_bytes(sock, NULL, hd, body, len, 0) != 0)
        return errno == ETERM ? SWB_E_CLOSED : SWB_E_SYS;
    return SWB_OK;
}

/* Whether a body of `len` bytes is over the frame limit the broker gave in WELCOME: it would
 * cost this worker its connection (libzmq drops a peer over ZMQ_MAXMSGSIZE) and the task its
 * answer, so it is refused here instead. */
static int over_limit(const swb_ctx_t *c, size_t len, uint32_t *max)
{
    *max = __atomic_load_n(&c->host->peer->max_msg, __ATOMIC_RELAXED);
    return *max && len > *max;
}

static int is_cancelled(const swb_ctx_t *c)
{
    uint64_t cur = __atomic_load_n(&c->cur_id, __ATOMIC_ACQUIRE);
    return cur && __atomic_load_n(&c->cancel_id, __ATOMIC_ACQUIRE) == cur;
}

static int result(swb_ctx_t *c, int code, const char *text, const void *body, size_t len)
{
    uint64_t id = __atomic_load_n(&c->cur_id, __ATOMIC_ACQUIRE);
    if (!id || c->replied)
        return SWB_E_INVALID; /* no task running, or answered already: one result per task */
    if (code == SWB_E_CANCELLED && !is_cancelled(c)) {
        /* Stopped because this worker is going, not because its client cancelled: no answer,
         * so the broker gives the task to another worker when this one has left. */
        c->replied = 1;
        return SWB_OK;
    }
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_RESULT);
    SWB_SET(&h, SWB_F_ID);
    h.id = id;
    SWB_SET(&h, SWB_F_CODE);
    h.code = code;
    SWB_SET(&h, SWB_F_ATTEMPT);
    h.attempt = c->cur_attempt;
    if (text && *text)
        swb_header_set_str(&h, SWB_F_TEXT, text);
    c->replied = 1;
    if (code == SWB_OK) {
        int bad = swb_msgpack_check(body, len, 0, 0);
        if (bad != SWB_OK) {
            /* Garbage would reach the client as a success it cannot read: say what it is. */
            char t[SWB_MAX_TEXT];
            snprintf(t, sizeof t, "the plugin's reply of %zu bytes is not one msgpack value (%s)",
                     len, swb_errname(bad));
            h.code = SWB_E_BAD_REPLY;
            swb_header_set_str(&h, SWB_F_TEXT, t);
            int rc = ctx_out(c, &h, NULL, 0);
            return rc == SWB_OK ? SWB_E_BAD_REPLY : rc;
        }
    }
    uint32_t max;
    if (over_limit(c, len, &max)) {
        /* The task still gets its one answer: too_large, which says why. */
        char t[SWB_MAX_TEXT];
        snprintf(t, sizeof t, "reply of %zu bytes is over the broker's limit of %u", len, max);
        h.code = SWB_E_TOO_LARGE;
        swb_header_set_str(&h, SWB_F_TEXT, t);
        int rc = ctx_out(c, &h, NULL, 0);
        return rc == SWB_OK ? SWB_E_TOO_LARGE : rc;
    }
    return ctx_out(c, &h, body, len);
}

int swb_ctx_reply(swb_ctx_t *c, const void *body, size_t len)
{
    if (!c || (!body && len))
        return SWB_E_INVALID;
    static const unsigned char nil = 0xc0;
    return result(c, SWB_OK, NULL, body ? body : &nil, body ? len : 1);
}

int swb_ctx_fail(swb_ctx_t *c, int code, const char *text)
{
    if (!c)
        return SWB_E_INVALID;
    if (code >= 0)
        code = SWB_E_TASK_FAILED;
    char t[SWB_MAX_TEXT];
    snprintf(t, sizeof t, "%s", text && *text ? text : swb_strerror(code));
    return result(c, code, t, NULL, 0);
}

static int ctx_send(swb_ctx_t *c, int to_kind, const char *to, const void *body, size_t len)
{
    if (!c || (to_kind != SWB_TO_ALL && (!to || !*to || strlen(to) > SWB_MAX_NAME)))
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_SEND);
    if (to_kind == SWB_TO_PEER && strcmp(to, "parent") == 0)
        to_kind = SWB_TO_PARENT;
    SWB_SET(&h, SWB_F_TO_KIND);
    h.to_kind = (uint32_t)to_kind;
    if (to_kind == SWB_TO_PEER || to_kind == SWB_TO_GROUP)
        swb_header_set_str(&h, SWB_F_TO, to);
    SWB_SET(&h, SWB_F_ID);
    /* Ids from different executors must not collide: the index goes in the top bits. */
    h.id = ((uint64_t)(c->index + 1) << 48) | ++c->next_id;
    static const unsigned char nil = 0xc0;
    uint32_t max;
    if (over_limit(c, len, &max))
        return SWB_E_TOO_LARGE; /* nothing sent: the plugin decides what to do */
    return ctx_out(c, &h, body ? body : &nil, body ? len : 1);
}

int swb_ctx_send(swb_ctx_t *c, const char *to, const void *body, size_t len)
{
    return ctx_send(c, SWB_TO_PEER, to, body, len);
}

int swb_ctx_send_group(swb_ctx_t *c, const char *service, const void *body, size_t len)
{
    return ctx_send(c, SWB_TO_GROUP, service, body, len);
}

int swb_ctx_broadcast(swb_ctx_t *c, const void *body, size_t len)
{
    return ctx_send(c, SWB_TO_ALL, NULL, body, len);
}

void swb_ctx_set_load(swb_ctx_t *c, uint32_t permille)
{
    if (!c)
        return;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_CREDIT);
    SWB_SET(&h, SWB_F_CREDIT);
    h.credit = c->host->capacity; /* unchanged: this report is about load */
    SWB_SET(&h, SWB_F_LOAD);
    h.load = permille > 1000 ? 1000 : permille;
    __atomic_store_n(&c->host->load, h.load, __ATOMIC_RELAXED);
    ctx_out(c, &h, NULL, 0);
}

const char *swb_ctx_name(const swb_ctx_t *c)
{
    return c ? swb_peer_name(c->host->peer) : "";
}

const char *swb_ctx_parent(const swb_ctx_t *c)
{
    return c ? c->host->peer->parent : "";
}

int swb_ctx_config(const swb_ctx_t *c, const void **body, size_t *len)
{
    if (!c || !body || !len)
        return SWB_E_INVALID;
    const swb_host_opts_t *o = c->host->opts;
    if (o && o->config_len) {
        *body = o->config;
        *len = o->config_len;
    } else {
        static const unsigned char nil = 0xc0; /* a msgpack value either way */
        *body = &nil;
        *len = 1;
    }
    return SWB_OK;
}

int swb_ctx_should_stop(const swb_ctx_t *c)
{
    if (!c)
        return 0;
    if (c->host->inline_mode)
        host_pump(c->host); /* the only moment this thread can hear a CANCEL */
    return is_cancelled(c) || __atomic_load_n(&c->host->stopping, __ATOMIC_ACQUIRE);
}

static void run_task(swb_ctx_t *c, work_t *w)
{
    host_t *h = c->host;
    swb_task_t t = {.id = w->id,
                    .service = w->service,
                    .client = w->from,
                    .attempt = w->attempt,
                    .deadline_ms = w->deadline_ms,
                    .body = work_body(w),
                    .len = w->body_len};
    c->cur_attempt = w->attempt;
    c->replied = 0;
    /* A CANCEL for an earlier task (or a broker before a restart) must not hit this one. */
    __atomic_store_n(&c->cancel_id, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&c->cur_id, w->id, __ATOMIC_RELEASE);
    int r = h->desc->handle_task ? h->desc->handle_task(c, h->state, &t) : SWB_E_NO_SERVICE;
    if (!c->replied) {
        if (is_cancelled(c))
            swb_ctx_fail(c, SWB_E_CANCELLED, "cancelled");
        else if (r == 0)
            swb_ctx_reply(c, NULL, 0);
        else
            swb_ctx_fail(c, r, "task failed without an answer");
    }
    __atomic_store_n(&c->cur_id, 0, __ATOMIC_RELEASE);
}

static void run_work(swb_ctx_t *c, work_t *w)
{
    host_t *h = c->host;
    if (w->kind == WORK_TASK)
        run_task(c, w);
    else if (h->desc->on_message)
        h->desc->on_message(c, h->state, w->from, work_body(w), w->body_len);
    work_free(h, w);
}

static void *executor_main(void *arg)
{
    swb_ctx_t *c = arg;
    work_t *w;
    while ((w = take(c->host)) != NULL)
        run_work(c, w);
    return NULL;
}

int executor_run_one(host_t *h)
{
    host_lock(h);
    work_t *w = h->head;
    if (w) {
        h->head = w->next;
        if (!h->head)
            h->tail = NULL;
        h->queued--;
        h->queued_bytes -= w->body_len;
    }
    host_unlock(h);
    if (!w)
        return 0;
    run_work(&h->ctxs[0], w);
    return 1;
}

int executor_start(host_t *h)
{
    if (h->inline_mode)
        return SWB_OK;
    for (uint32_t i = 0; i < h->capacity; i++) {
        if (pthread_create(&h->ctxs[i].thread, NULL, executor_main, &h->ctxs[i]) != 0) {
            /* Run with the threads we have; the broker still sees the declared capacity, so
             * say so. */
            swb_log(SWB_LOG_ERROR, "host: only %u of %u executor threads started", i, h->capacity);
            h->capacity = i;
            return i ? SWB_OK : SWB_E_SYS;
        }
    }
    return SWB_OK;
}

/* Stopping (BYE, a stop flag, SIGTERM): tasks that have not started are dropped, so that the
 * broker, when this worker's BYE reaches it, sends them to another worker rather than have
 * them run here with should_stop already true. Messages still run: nobody would resend them. */
static void drop_unstarted_tasks(host_t *h)
{
    host_lock(h);
    for (work_t **pp = &h->head; *pp;) {
        work_t *w = *pp;
        if (w->kind != WORK_TASK) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        h->queued--;
        h->queued_bytes -= w->body_len;
        work_put(h, w);
    }
    h->tail = NULL;
    for (work_t *w = h->head; w; w = w->next)
        h->tail = w;
    host_unlock(h);
}

void executor_join(host_t *h)
{
    if ((h->bye || __atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE)) && !h->draining)
        drop_unstarted_tasks(h);
    if (h->inline_mode) {
        while (executor_run_one(h)) /* messages, or a drain's tasks */
            ;
        return;
    }
    host_lock(h);
    h->closing = 1;
    pthread_cond_broadcast(&h->cond);
    host_unlock(h);
    for (uint32_t i = 0; i < h->capacity; i++)
        pthread_join(h->ctxs[i].thread, NULL);
}
