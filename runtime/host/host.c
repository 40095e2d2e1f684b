/*
 * host.c - the worker host: load a plugin, connect to the broker, serve.
 *
 * The same function runs in swb-worker (a process, over ipc or tcp) and in a thread of the
 * broker's process (over inproc, with the broker's context), which is why a plugin runs as a
 * thread or a process unchanged. This file is the I/O loop: it owns the broker connection,
 * heartbeats, hands tasks and messages to the executors, and forwards what they send.
 *
 * With capacity 1 (the default) there are no executor threads: the I/O thread runs the plugin
 * itself between polls, which saves two thread hand-offs per task. A long task then holds up
 * heartbeats, which the broker allows for a worker with a task in flight (its connection's
 * ZMTP heartbeats still show the process is alive, and deadlines catch a hung task); a plugin
 * that calls swb_ctx_should_stop keeps heartbeating and hears CANCEL, DRAIN and BYE.
 *
 * Layer: host; uses: peer, common; called by: swb-worker and, for worker threads, embed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_int.h"
#include "swb_msgpack.h"

static void forward_outbox(host_t *h)
{
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, h->pull, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return;
        }
        SWBI_RECEIVED();
        int more = zmq_msg_more(&part);
        /* Frames were built by our executors: forward them as they are. */
        SWBI_SENT();
        if (zmq_msg_send(&part, swb_peer_socket(h->peer), more ? ZMQ_SNDMORE : 0) < 0) {
            swb_log(SWB_LOG_WARN, "host %s: lost an outgoing frame: %s", swb_peer_name(h->peer),
                    zmq_strerror(errno));
            zmq_msg_close(&part);
        }
    }
}

static work_t *work_from(host_t *h, swb_msg_t *m, work_kind_t kind)
{
    work_t *w = work_alloc(h);
    if (!w)
        return NULL;
    w->next = NULL;
    w->kind = kind;
    w->id = m->id;
    w->attempt = m->attempt ? m->attempt : 1;
    w->deadline_ms = m->deadline_ms;
    memcpy(w->from, m->from, sizeof w->from);
    memcpy(w->service, m->service, sizeof w->service);
    zmq_msg_init(&w->body);
    w->body_off = 0;
    w->body_len = 0;
    if (m->_has_frame) {
        w->body_off = (uint32_t)peeri_body_off(m);
        w->body_len = m->len;
        zmq_msg_move(&w->body, (zmq_msg_t *)m->_frame);
    }
    return w;
}

/* The plugin has no on_message: the sender is told (ERROR no_handler, through the broker),
 * rather than the message vanishing. Not for a send to all, which asks for no answer. */
static void refuse_message(host_t *h, const swb_msg_t *m)
{
    swb_log(SWB_LOG_DEBUG, "worker %s: message from %s dropped: the plugin takes none",
            swb_peer_name(h->peer), m->from);
    if (m->to_kind == SWB_TO_ALL || !m->from[0])
        return;
    swb_header_t e;
    swb_header_init(&e, SWB_CMD_ERROR);
    SWB_SET(&e, SWB_F_CODE);
    e.code = SWB_E_NO_HANDLER;
    char text[SWB_MAX_TEXT];
    snprintf(text, sizeof text, "worker %s takes no messages (its plugin has no on_message)",
             swb_peer_name(h->peer));
    swb_header_set_str(&e, SWB_F_TEXT, text);
    swb_header_set_str(&e, SWB_F_NAME, m->from);
    if (m->id) {
        SWB_SET(&e, SWB_F_ID);
        e.id = m->id;
    }
    swbi_send_bytes(swb_peer_socket(h->peer), NULL, &e, NULL, 0, ZMQ_DONTWAIT);
}

/* Handle one message from the broker; sets h->bye when the host should stop. */
static void on_message(host_t *h, swb_msg_t *m)
{
    switch (m->type) {
    case SWB_MSG_TASK:
        /* Leaving (or draining): a task that still comes is not taken. It stays assigned to
         * this worker until its BYE, and then the broker gives it to another, as for any
         * worker that leaves; answering it here would end it for its client instead. */
        if (h->draining || h->bye || __atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE))
            return;
        /* fallthrough */
    case SWB_MSG_DELIVER: {
        if (m->type == SWB_MSG_DELIVER && !h->desc->on_message) {
            refuse_message(h, m);
            return;
        }
        work_t *w = work_from(h, m, m->type == SWB_MSG_TASK ? WORK_TASK : WORK_MESSAGE);
        if (!w) {
            if (m->type == SWB_MSG_TASK)
                swb_peer_result(h->peer, m->id, m->attempt, SWB_E_NOMEM, NULL, NULL, 0);
            return;
        }
        executor_push(h, w);
        return;
    }
    case SWB_MSG_CANCEL:
        if (executor_cancel(h, m->id) == 2)
            swb_peer_result(h->peer, m->id, m->attempt, SWB_E_CANCELLED, "cancelled", NULL, 0);
        return;
    case SWB_MSG_DRAIN:
        h->draining = 1;
        return;
    case SWB_MSG_BYE:
        /* Leave gracefully: the running task finishes (should_stop stays false), the ones
         * not started go back to the broker. A stop flag or SIGTERM is what interrupts. */
        h->bye = 1;
        return;
    case SWB_MSG_ERROR:
        swb_log(SWB_LOG_WARN, "worker %s: %s (%s) %s", swb_peer_name(h->peer), swb_errname(m->code),
                m->text, m->name);
        return;
    default:
        return;
    }
}

/* Read everything the broker has sent, without blocking. */
static void read_all(host_t *h)
{
    while (!h->bye && !executor_full(h)) {
        int rc = swb_peer_recv(h->peer, &h->in, 0);
        if (rc == SWB_E_TIMEOUT)
            break;
        if (rc != SWB_OK) {
            h->bye = 1;
            h->failed = 1;
            break;
        }
        on_message(h, &h->in);
    }
    swb_msg_close(&h->in);
}

static int stop_asked(host_t *h)
{
    const swb_host_opts_t *o = h->opts;
    if (o->stop && __atomic_load_n(o->stop, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&h->stopping, 1, __ATOMIC_RELEASE);
        return 1;
    }
    return 0;
}

void host_pump(host_t *h)
{
    int64_t now = swbi_now_ms();
    if (now - h->last_pump_ms < 1)
        return; /* a plugin may ask in a tight loop; a socket read per ms is plenty */
    h->last_pump_ms = now;
    stop_asked(h);
    read_all(h);
    swb_peer_tick(h->peer);
}

static int queue_empty(host_t *h)
{
    host_lock(h);
    int empty = h->head == NULL;
    host_unlock(h);
    if (!empty)
        return 0;
    for (uint32_t i = 0; i < h->capacity; i++)
        if (__atomic_load_n(&h->ctxs[i].cur_id, __ATOMIC_ACQUIRE))
            return 0;
    return 1;
}

/* Inline: wait for one message (not at all when work is queued) and handle it. */
static void read_one_inline(host_t *h)
{
    if (executor_full(h))
        return; /* run what waits first; the broker's sends meet the high-water mark */
    int rc = swb_peer_recv(h->peer, &h->in, queue_empty(h) ? 100 : 0);
    if (rc == SWB_OK)
        on_message(h, &h->in);
    else if (rc != SWB_E_TIMEOUT) {
        h->bye = 1;
        h->failed = 1;
    }
    swb_msg_close(&h->in);
}

static int serve(host_t *h)
{
    int code = 0;
    void *sock = swb_peer_socket(h->peer);
    for (;;) {
        if (stop_asked(h))
            break;
        if (h->inline_mode) {
            /* One socket: a blocking receive is cheaper than zmq_poll plus receives. */
            read_one_inline(h);
        } else {
            /* A full queue: listen only to the executors until it drains. */
            zmq_pollitem_t items[2] = {{.socket = sock, .events = ZMQ_POLLIN},
                                       {.socket = h->pull, .events = ZMQ_POLLIN}};
            if (executor_full(h))
                items[0].events = 0;
            if (zmq_poll(items, 2, 100) < 0 && errno == ETERM)
                break;
            if (items[1].revents & ZMQ_POLLIN)
                forward_outbox(h);
            if (items[0].revents & ZMQ_POLLIN)
                read_all(h);
        }
        if (h->bye) {
            code = h->failed;
            break;
        }
        if (h->inline_mode)
            executor_run_one(h);
        if (h->bye) {
            code = h->failed;
            break;
        }
        if (swb_peer_tick(h->peer) == SWB_E_CLOSED && h->peer->parent[0]) {
            /* A child that lost its broker has lost its parent too: leave rather than
             * linger as an orphan (PR_SET_PDEATHSIG covers the process case first). */
            swb_log(SWB_LOG_WARN, "worker %s: broker lost, exiting", swb_peer_name(h->peer));
            code = 3;
            break;
        }
        if (h->draining && queue_empty(h))
            break;
    }
    return code;
}

int swb_host_run(const swb_host_opts_t *opts)
{
    swb_host_opts_t taken;
    if (swbi_opts_take(&taken, sizeof taken, opts, SWBI_OPTS_END(swb_host_opts_t, stop),
                       "swb_host_opts_t") != SWB_OK)
        return 2;
    const swb_host_opts_t *o = &taken; /* lives as long as the host: this call */
    if (!opts || !o->plugin)
        return 2;
    if (o->config_len && (!o->config || swb_msgpack_check(o->config, o->config_len, 0, 0))) {
        swb_log(SWB_LOG_ERROR, "worker: the config is not one msgpack value");
        return 2;
    }
    char path[PATH_MAX];
    int rc = swb_plugin_resolve(o->plugin, o->plugin_dir, path, sizeof path);
    if (rc != SWB_OK) {
        swb_log(SWB_LOG_ERROR, "worker: plugin %s not found", o->plugin);
        return 2;
    }
    host_t *h = calloc(1, sizeof *h);
    if (!h)
        return 2;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    int code = 2;
    if (plugin_load(path, &h->dl, &h->desc_copy) != SWB_OK)
        goto out;
    h->desc = &h->desc_copy;
    const swb_plugin_t *d = h->desc;
    h->capacity = o->capacity ? o->capacity : (d->capacity ? d->capacity : 1);
    if (h->capacity > 1024)
        h->capacity = 1024;

    const char *services[SWB_MAX_SERVICES];
    size_t n_services = 0;
    if (d->services) {
        while (d->services[n_services] && n_services < SWB_MAX_SERVICES) {
            services[n_services] = d->services[n_services];
            n_services++;
        }
    } else if (d->name) {
        services[n_services++] = d->name;
    }
    /* A plugin without handle_task takes no tasks (capacity 0) but still belongs to the
     * groups it names, so group messages reach it. */
    if (!d->handle_task && !d->services)
        n_services = 0;
    swb_peer_opts_t po =
        SWB_OPTS(swb_peer_opts_t, .endpoint = o->endpoint, .zmq_ctx = o->zmq_ctx,
                 .name = o->name && *o->name ? o->name : NULL,
                 .kind = o->kind ? o->kind : SWB_PEER_PROCESS, .services = services,
                 .n_services = n_services, .capacity = h->capacity, .no_tasks = !d->handle_task,
                 .parent = o->parent && *o->parent ? o->parent : NULL, .connect_timeout_ms = 10000);
    rc = peer_new(&h->peer, &po);
    if (rc != SWB_OK) {
        swb_log(SWB_LOG_ERROR, "worker %s: cannot join the broker at %s: %s",
                o->name ? o->name : "", o->endpoint ? o->endpoint : "(default)", swb_strerror(rc));
        goto out;
    }
    h->opts = o;
    h->inline_mode = h->capacity == 1;
    h->ctxs = calloc(h->capacity, sizeof *h->ctxs);
    if (!h->ctxs)
        goto out;
    h->ctxs[0].host = h;
    if (!h->inline_mode) {
        h->pull = zmq_socket(h->peer->ctx, ZMQ_PULL);
        snprintf(h->outbox, sizeof h->outbox, "inproc://swb-host-%p", (void *)h);
        if (!h->pull || zmq_bind(h->pull, h->outbox) != 0)
            goto out;
        int zero = 0;
        zmq_setsockopt(h->pull, ZMQ_LINGER, &zero, sizeof zero);
    }
    for (uint32_t i = 0; i < h->capacity && !h->inline_mode; i++) {
        swb_ctx_t *c = &h->ctxs[i];
        c->host = h;
        c->index = (int)i;
        c->push = zmq_socket(h->peer->ctx, ZMQ_PUSH);
        if (!c->push || zmq_connect(c->push, h->outbox) != 0)
            goto out;
        int linger = 1000;
        zmq_setsockopt(c->push, ZMQ_LINGER, &linger, sizeof linger);
    }
    if (d->init && (rc = d->init(&h->ctxs[0], &h->state)) != 0) {
        swb_log(SWB_LOG_ERROR, "worker %s: plugin %s failed to start: its init returned %s (%d)",
                swb_peer_name(h->peer), d->name ? d->name : path,
                rc < 0 ? swb_errname(rc) : "an error", rc);
        forward_outbox(h);
        code = SWBI_EXIT_INIT; /* the supervisor gives it up rather than restart it */
        goto out;
    }
    if (executor_start(h) != SWB_OK) {
        if (d->fini)
            d->fini(h->state);
        goto out;
    }
    swb_log(SWB_LOG_INFO, "worker %s serving %s (capacity %u)", swb_peer_name(h->peer),
            d->name ? d->name : path, h->capacity);
    code = serve(h);
    __atomic_store_n(&h->stopping, 1, __ATOMIC_RELEASE);
    executor_join(h);
    if (h->pull)
        forward_outbox(h);
    if (d->fini)
        d->fini(h->state);
    if (h->pull)
        forward_outbox(h);
out:
    if (h->ctxs) {
        for (uint32_t i = 0; i < h->capacity; i++)
            if (h->ctxs[i].push)
                zmq_close(h->ctxs[i].push);
        free(h->ctxs);
    }
    while (h->head) {
        work_t *w = h->head;
        h->head = w->next;
        zmq_msg_close(&w->body);
        free(w);
    }
    while (h->spare) {
        work_t *w = h->spare;
        h->spare = w->next;
        free(w);
    }
    if (h->pull)
        zmq_close(h->pull);
    swb_peer_destroy(&h->peer);
    /* The plugin stays loaded (h->dl is not closed): other worker threads may run it, and
     * unloading code in a threaded process gains nothing and races with the loader. */
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
    return code;
}
