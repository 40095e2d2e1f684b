/*
 * peer.c - a connection to the broker: HELLO/WELCOME, send, receive, heartbeats, reconnect.
 *
 * One DEALER socket, used from one thread. Heartbeats are sent from inside recv/tick when due;
 * the broker counts any message as a sign of life. When the broker is lost (no message for
 * liveness x interval) or answers "not registered" (it restarted), the peer says HELLO again
 * on the same socket, which ZeroMQ has reconnected. Messages that arrive while a call waits for
 * a specific reply are kept in order in a pending queue for recv.
 *
 * Layer: peer; uses: common; called by: host, embed (swb_peer_new) and, through the public
 * API, programs and tools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer_int.h"

_Static_assert(sizeof(zmq_msg_t) <= sizeof(((swb_msg_t *)0)->_frame), "frame storage");

static int set_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

void swb_msg_close(swb_msg_t *m)
{
    if (m && m->_has_frame) {
        zmq_msg_close((zmq_msg_t *)m->_frame);
        m->_has_frame = 0;
    }
    if (m) {
        m->body = NULL;
        m->len = 0;
    }
}

size_t peeri_body_off(swb_msg_t *m)
{
    return (size_t)((const char *)m->body - (const char *)zmq_msg_data((zmq_msg_t *)m->_frame));
}

/* Move a message (its frame must be moved with zmq_msg_move, not memcpy: a small frame keeps
 * its bytes inside the zmq_msg_t, so the body moves with it). */
static void msg_move(swb_msg_t *dst, swb_msg_t *src)
{
    memcpy(dst, src, offsetof(swb_msg_t, _frame));
    dst->_has_frame = 0;
    if (src->_has_frame) {
        size_t off = peeri_body_off(src);
        zmq_msg_init((zmq_msg_t *)dst->_frame);
        zmq_msg_move((zmq_msg_t *)dst->_frame, (zmq_msg_t *)src->_frame);
        zmq_msg_close((zmq_msg_t *)src->_frame);
        src->_has_frame = 0;
        dst->_has_frame = 1;
        dst->body = (const char *)zmq_msg_data((zmq_msg_t *)dst->_frame) + off;
    }
    src->body = NULL;
    src->len = 0;
}

void peeri_queue_push(pending_t **head, pending_t **tail, pending_t *n)
{
    n->next = NULL;
    if (*tail)
        (*tail)->next = n;
    else
        *head = n;
    *tail = n;
}

/* Move the first message of a queue into *m; 0 when the queue is empty. */
static int queue_pop(pending_t **head, pending_t **tail, swb_msg_t *m)
{
    pending_t *n = *head;
    if (!n)
        return 0;
    *head = n->next;
    if (!*head)
        *tail = NULL;
    msg_move(m, &n->m);
    free(n);
    return 1;
}

int peeri_stash(swb_peer_t *p, swb_msg_t *m)
{
    pending_t *n = malloc(sizeof *n);
    if (!n)
        return SWB_E_NOMEM;
    msg_move(&n->m, m);
    peeri_queue_push(&p->head, &p->tail, n);
    return SWB_OK;
}

static int send_hdr(swb_peer_t *p, const swb_header_t *h, const void *body, size_t len)
{
    int rc = swbi_send_bytes(p->sock, NULL, h, body, len, 0);
    if (rc != 0)
        return errno == EAGAIN ? SWB_E_UNREACHABLE : (errno == ETERM ? SWB_E_CLOSED : SWB_E_SYS);
    p->last_sent_ms = swbi_now_ms();
    return SWB_OK;
}

static int send_hello(swb_peer_t *p, uint64_t id)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HELLO);
    SWB_SET(&h, SWB_F_KIND);
    h.kind = (uint32_t)p->kind;
    SWB_SET(&h, SWB_F_PID);
    h.pid = (uint32_t)getpid();
    /* After the first WELCOME we keep the name the broker gave, so a reconnect is the same
     * peer to everyone else. */
    if (p->name[0])
        swb_header_set_str(&h, SWB_F_NAME, p->name);
    if (p->n_services) {
        SWB_SET(&h, SWB_F_SERVICES);
        h.n_services = (uint32_t)p->n_services;
        for (size_t i = 0; i < p->n_services; i++)
            h.services[i] = (swb_str_t){p->services[i], (uint32_t)strlen(p->services[i])};
    }
    if (p->capacity || p->n_services) { /* 0 with services: in the groups, takes no tasks */
        SWB_SET(&h, SWB_F_CAPACITY);
        h.capacity = p->capacity;
    }
    if (p->parent[0])
        swb_header_set_str(&h, SWB_F_PARENT, p->parent);
    /* Always an id: WELCOME echoes it, and when it comes from a restarted broker it tells what
     * we sent before this HELLO (lost with the old one) from what came after (the new one's). */
    SWB_SET(&h, SWB_F_ID);
    h.id = id ? id : p->next_id++;
    p->hello_sent_ms = swbi_now_ms();
    return send_hdr(p, &h, NULL, 0);
}

/* Fill m from a decoded header (strings copied) and take the body frame. */
static void fill_msg(swb_msg_t *m, const swb_header_t *h, const swbi_body_t *body)
{
    /* Field by field: clearing the whole struct (half a KiB of names) cost more than the rest
     * of this function, on every message. Absent strings are "" (the copy of a zero-length). */
    m->id = h->id;
    m->code = h->code;
    swbi_str_copy(m->from, sizeof m->from, h->from);
    swbi_str_copy(m->name, sizeof m->name, h->name);
    swbi_str_copy(m->service, sizeof m->service, h->service);
    swbi_str_copy(m->text, sizeof m->text, h->text);
    m->body = NULL;
    m->len = 0;
    m->event = (int)h->event;
    m->pid = (int)h->pid;
    m->signal = (int)h->signal;
    m->to_kind = (int)h->to_kind;
    m->attempt = h->attempt;
    m->deadline_ms = h->deadline_ms;
    m->priority = h->priority;
    switch (h->cmd) {
    case SWB_CMD_DELIVER:
        m->type = SWB_MSG_DELIVER;
        break;
    case SWB_CMD_RESULT:
        m->type = SWB_MSG_RESULT;
        break;
    case SWB_CMD_ERROR:
        m->type = SWB_MSG_ERROR;
        break;
    case SWB_CMD_EVENT:
        m->type = SWB_MSG_EVENT;
        break;
    case SWB_CMD_TASK:
        m->type = SWB_MSG_TASK;
        break;
    case SWB_CMD_CANCEL:
        m->type = SWB_MSG_CANCEL;
        break;
    case SWB_CMD_DRAIN:
        m->type = SWB_MSG_DRAIN;
        break;
    default:
        m->type = SWB_MSG_BYE;
        break;
    }
    if (body) {
        /* Last: `h` points into the header's frame, which may be the one moved here. */
        zmq_msg_init((zmq_msg_t *)m->_frame);
        zmq_msg_move((zmq_msg_t *)m->_frame, body->msg);
        m->_has_frame = 1;
        m->body = (const char *)zmq_msg_data((zmq_msg_t *)m->_frame) + body->off;
        m->len = body->len;
    }
}

/* A WELCOME from a broker with another boot id than the last one: the old broker is gone with
 * whatever it was doing for us, and the new one knows nothing of it. Before anything else,
 * every task sent before the HELLO it answers ends broker_lost, and so does every wait for a
 * reply or event owed by the old one (lost_below); what was sent after that HELLO went to
 * the new broker, which answers it. */
static void broker_restarted(swb_peer_t *p, uint64_t boot, uint64_t hello_id)
{
    uint64_t below = hello_id ? hello_id : p->next_id;
    if (below > p->lost_below)
        p->lost_below = below;
    size_t n = peeri_end_before(p, hello_id);
    swb_log(n ? SWB_LOG_WARN : SWB_LOG_INFO,
            "peer %s: broker at %s restarted (boot %016llx, was %016llx): %zu task%s end "
            "broker_lost",
            p->name, p->endpoint, (unsigned long long)boot, (unsigned long long)p->boot, n,
            n == 1 ? "" : "s");
}

/* Read one message off the socket, waiting up to wait_ms (0: not at all). Returns 1 and fills
 * m for the application, 0 when the message was internal (heartbeat, welcome), -1 when
 * nothing came, -2 when the context is shutting down. A blocking receive with a timeout costs
 * one poll(2) where zmq_poll plus a non-blocking receive cost three or four: this is the hot
 * path of every call and every worker. */
static int read_one(swb_peer_t *p, swb_msg_t *m, int wait_ms)
{
    if (wait_ms > 0 && wait_ms != p->rcvtimeo) {
        zmq_setsockopt(p->sock, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
        p->rcvtimeo = wait_ms;
    }
    zmq_msg_t hdr, body;
    zmq_msg_init(&hdr);
    if (zmq_msg_recv(&hdr, p->sock, wait_ms > 0 ? 0 : ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(&hdr);
        return e == ETERM ? -2 : -1;
    }
    SWBI_RECEIVED();
    zmq_msg_init(&body);
    int has_frame = 0;
    if (zmq_msg_more(&hdr)) {
        has_frame = zmq_msg_recv(&body, p->sock, ZMQ_DONTWAIT) >= 0;
        if (has_frame && zmq_msg_more(&body))
            swbi_drain(p->sock);
    }
    p->last_seen_ms = swbi_now_ms();
    swb_header_t h;
    swbi_body_t bv;
    int rc = swbi_decode_msg(&hdr, has_frame ? &body : NULL, &h, &bv);
    const swbi_body_t *bp = bv.msg ? &bv : NULL;
    int out = 0;
    if (rc != SWB_OK) {
        swb_log(SWB_LOG_WARN, "peer %s: bad header from broker: %s", p->name, swb_strerror(rc));
    } else if (h.cmd == SWB_CMD_HEARTBEAT) {
        /* liveness only */
    } else if (h.cmd == SWB_CMD_WELCOME) {
        if (SWB_HAS(&h, SWB_F_BOOT) && p->boot && h.boot != p->boot)
            broker_restarted(p, h.boot, h.id);
        p->boot = SWB_HAS(&h, SWB_F_BOOT) ? h.boot : 0; /* none: an older broker, no check */
        swbi_str_copy(p->name, sizeof p->name, h.name);
        p->hb_ivl_ms = h.hb_ivl_ms ? h.hb_ivl_ms : 1000;
        p->hb_liveness = h.hb_liveness ? h.hb_liveness : 3;
        /* Atomic: a worker host's executor threads read it to check what they send. */
        __atomic_store_n(&p->max_msg, h.max_msg, __ATOMIC_RELAXED);
        p->registered = 1;
        p->welcomes++;
    } else if (h.cmd == SWB_CMD_ERROR && h.code == SWB_E_NOT_REGISTERED) {
        /* The broker does not know us (it restarted, or dropped us): register again. The
         * failed request, if it had an id, is still reported to the caller. */
        p->registered = 0;
        if (swbi_now_ms() - p->hello_sent_ms > 200)
            send_hello(p, 0);
        if (h.id) {
            fill_msg(m, &h, bp);
            out = 1;
        }
    } else if (h.cmd == SWB_CMD_ERROR && !p->registered && h.code == SWB_E_NAME_TAKEN) {
        fill_msg(m, &h, bp);
        p->hello_error = h.code;
        out = 1;
    } else {
        fill_msg(m, &h, bp);
        out = 1;
    }
    zmq_msg_close(&body);
    zmq_msg_close(&hdr);
    return out;
}

int swb_peer_tick(swb_peer_t *p)
{
    if (!p)
        return SWB_E_INVALID;
    int64_t now = swbi_now_ms();
    int64_t dead_after = (int64_t)p->hb_ivl_ms * p->hb_liveness;
    int rc = SWB_OK;
    if (now - p->last_seen_ms > dead_after) {
        /* Messages waiting unread mean we were busy, not that the broker was silent (a long
         * inline task, or an application that has not called us for a while). */
        int events = 0;
        size_t sz = sizeof events;
        if (zmq_getsockopt(p->sock, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN)) {
            p->last_seen_ms = now;
            return SWB_OK;
        }
    }
    if (now - p->last_seen_ms > dead_after) {
        /* The broker is silent: say HELLO again (ZeroMQ reconnects the socket underneath). */
        if (p->registered)
            swb_log(SWB_LOG_INFO, "peer %s: broker lost, reconnecting", p->name);
        /* Whatever it was doing for us, it cannot answer now: every task ends broker_lost
         * (a late answer, should the broker only have stalled, is then dropped). */
        if (p->outstanding)
            peeri_end_outstanding(p, now - p->last_seen_ms);
        p->registered = 0;
        p->last_seen_ms = now; /* one report per lost period */
        p->lost++;
        /* Waits for replies to what was sent before this HELLO end too (peeri_read_owed). */
        uint64_t hid = p->next_id++;
        p->lost_below = hid;
        send_hello(p, hid);
        rc = SWB_E_CLOSED;
    } else if (now - p->last_sent_ms >= (int64_t)p->hb_ivl_ms) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        send_hdr(p, &h, NULL, 0);
    }
    return rc;
}

/* The next broker_lost RESULT made by peeri_end_outstanding, its callback run if it has one;
 * returns 1 with it in *m when the caller gets it. */
static int next_ended(swb_peer_t *p, swb_msg_t *m)
{
    pending_t *n;
    while ((n = p->ended_head) != NULL) {
        swb_result_fn fn = n->fn;
        void *arg = n->arg;
        queue_pop(&p->ended_head, &p->ended_tail, m);
        if (!fn)
            return 1;
        fn(arg, m->id, m->code, m);
        swb_msg_close(m);
    }
    return 0;
}

int peeri_read(swb_peer_t *p, swb_msg_t *m, int64_t deadline)
{
    return peeri_read_owed(p, PEERI_NO_ASK, m, deadline);
}

int peeri_read_owed(swb_peer_t *p, uint64_t ask, swb_msg_t *m, int64_t deadline)
{
    for (;;) {
        int64_t now = swbi_now_ms();
        swb_peer_tick(p);
        if (next_ended(p, m))
            return SWB_OK;
        /* After the tasks' broker_lost RESULTs, so those are all handed out first. */
        if (ask < p->lost_below)
            return SWB_E_BROKER_LOST;
        /* Wake at least twice a heartbeat interval to send ours and check the broker's. */
        int64_t wait = (int64_t)p->hb_ivl_ms / 2 + 1;
        if (deadline >= 0 && deadline - now < wait)
            wait = deadline > now ? deadline - now : 0;
        int r = read_one(p, m, (int)wait);
        if (r == 1 && (m->type == SWB_MSG_RESULT || m->type == SWB_MSG_ERROR) &&
            peeri_task_result(p, m))
            continue; /* handed to its callback */
        if (r == 1)
            return SWB_OK;
        if (r == -2)
            return SWB_E_CLOSED;
        if (r == -1 && deadline >= 0 && swbi_now_ms() >= deadline)
            return SWB_E_TIMEOUT;
    }
}

int swb_peer_recv(swb_peer_t *p, swb_msg_t *m, int timeout_ms)
{
    if (!p || !m)
        return SWB_E_INVALID;
    swb_msg_close(m);
    if (queue_pop(&p->head, &p->tail, m))
        return SWB_OK;
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    return peeri_read(p, m, deadline);
}

int peer_new(swb_peer_t **out, const swb_peer_opts_t *given)
{
    if (!out || !given)
        return SWB_E_INVALID;
    *out = NULL;
    swb_peer_opts_t taken;
    int rc0 = swbi_opts_take(&taken, sizeof taken, given, SWBI_OPTS_END(swb_peer_opts_t, reserved0),
                             "swb_peer_opts_t");
    if (rc0 != SWB_OK)
        return rc0;
    const swb_peer_opts_t *opts = &taken;
    if (opts->n_services > SWB_MAX_SERVICES || (opts->name && strlen(opts->name) > SWB_MAX_NAME))
        return SWB_E_INVALID;
    swb_peer_t *p = calloc(1, sizeof *p);
    if (!p)
        return SWB_E_NOMEM;
    p->kind = opts->kind;
    p->capacity =
        opts->no_tasks ? 0 : (opts->capacity ? opts->capacity : (opts->n_services ? 1 : 0));
    p->hb_ivl_ms = 1000;
    p->hb_liveness = 3;
    p->next_id = 1;
    if (opts->name)
        snprintf(p->name, sizeof p->name, "%s", opts->name);
    if (opts->parent)
        snprintf(p->parent, sizeof p->parent, "%s", opts->parent);
    p->n_services = opts->n_services;
    for (size_t i = 0; i < opts->n_services; i++)
        snprintf(p->services[i], sizeof p->services[i], "%s", opts->services[i]);

    const char *ep = opts->endpoint;
    char def[512];
    if (!ep) {
        int rc = swb_default_endpoint(def, sizeof def);
        if (rc != SWB_OK) {
            free(p);
            return rc;
        }
        ep = def;
    }
    snprintf(p->endpoint, sizeof p->endpoint, "%s", ep);
    p->ctx = opts->zmq_ctx;
    if (!p->ctx) {
        p->ctx = zmq_ctx_new();
        p->own_ctx = 1;
    }
    int rc = SWB_E_SYS;
    p->sock = p->ctx ? zmq_socket(p->ctx, ZMQ_DEALER) : NULL;
    if (!p->sock)
        goto fail;
    /* Bounded linger so BYE usually gets out but close never hangs on a dead broker. */
    set_int(p->sock, ZMQ_LINGER, 200);
    set_int(p->sock, ZMQ_SNDHWM, 100000);
    set_int(p->sock, ZMQ_RCVHWM, 100000);
    set_int(p->sock, ZMQ_SNDTIMEO, 5000);
    set_int(p->sock, ZMQ_RECONNECT_IVL, 50);
    set_int(p->sock, ZMQ_RECONNECT_IVL_MAX, 1000);
    set_int(p->sock, ZMQ_HEARTBEAT_IVL, 1000);
    set_int(p->sock, ZMQ_HEARTBEAT_TIMEOUT, 3000);
    if (zmq_connect(p->sock, p->endpoint) != 0) {
        swb_log(SWB_LOG_ERROR, "connect %s: %s", p->endpoint, zmq_strerror(errno));
        rc = SWB_E_INVALID;
        goto fail;
    }
    p->last_seen_ms = swbi_now_ms();
    uint64_t hid = p->next_id++;
    if ((rc = send_hello(p, hid)) != SWB_OK)
        goto fail;
    int timeout = opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000;
    int64_t deadline = swbi_now_ms() + timeout;
    while (!p->registered) {
        int64_t now = swbi_now_ms();
        if (now >= deadline) {
            rc = SWB_E_TIMEOUT;
            goto fail;
        }
        zmq_pollitem_t it = {.socket = p->sock, .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, (long)(deadline - now));
        swb_msg_t m = {0};
        int r;
        while (!p->registered && (r = read_one(p, &m, 0)) >= 0) {
            if (r == 1 && m.type == SWB_MSG_ERROR && m.id == hid) {
                rc = m.code;
                swb_msg_close(&m);
                goto fail;
            }
            if (r == 1)
                peeri_stash(p, &m);
        }
    }
    *out = p;
    return SWB_OK;
fail:
    p->registered = 0;
    swb_peer_destroy(&p);
    return rc;
}

void swb_peer_destroy(swb_peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    swb_peer_t *p = *self_p;
    if (p->sock) {
        if (p->registered) {
            swb_header_t h;
            swb_header_init(&h, SWB_CMD_BYE);
            swbi_send(p->sock, NULL, &h, NULL, ZMQ_DONTWAIT);
        }
        zmq_close(p->sock);
    }
    while (p->head) {
        pending_t *n = p->head;
        p->head = n->next;
        swb_msg_close(&n->m);
        free(n);
    }
    while (p->ended_head) {
        pending_t *n = p->ended_head;
        p->ended_head = n->next;
        free(n); /* made here: no frame */
    }
    for (int i = 0; i < PEER_TASK_BUCKETS; i++) {
        while (p->cbs[i]) {
            task_cb_t *c = p->cbs[i];
            p->cbs[i] = c->next;
            free(c);
        }
    }
    while (p->spare_cbs) {
        task_cb_t *c = p->spare_cbs;
        p->spare_cbs = c->next;
        free(c);
    }
    if (p->own_ctx && p->ctx)
        zmq_ctx_term(p->ctx);
    free(p);
    *self_p = NULL;
}

const char *swb_peer_name(const swb_peer_t *p)
{
    return p ? p->name : NULL;
}

void *swb_peer_socket(swb_peer_t *p)
{
    return p ? p->sock : NULL;
}

int swb_peer_fd(swb_peer_t *p, int *fd)
{
    size_t sz = sizeof *fd;
    if (!p || !fd || zmq_getsockopt(p->sock, ZMQ_FD, fd, &sz) != 0)
        return SWB_E_INVALID;
    return SWB_OK;
}

uint64_t peeri_next_id(swb_peer_t *p)
{
    return p->next_id++;
}

int peeri_send(swb_peer_t *p, const swb_header_t *h, const void *body, size_t len)
{
    if (len > p->max_msg && p->max_msg)
        return SWB_E_TOO_LARGE;
    return send_hdr(p, h, body, len);
}

static int send_to(swb_peer_t *p, int to_kind, const char *to, const void *body, size_t len)
{
    if (!p || (to_kind != SWB_TO_ALL && (!to || !*to)))
        return SWB_E_INVALID;
    if (to && strlen(to) > SWB_MAX_NAME)
        return SWB_E_TOO_LARGE;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_SEND);
    SWB_SET(&h, SWB_F_TO_KIND);
    if (to_kind == SWB_TO_PEER && strcmp(to, "parent") == 0)
        to_kind = SWB_TO_PARENT;
    h.to_kind = (uint32_t)to_kind;
    if (to_kind == SWB_TO_PEER || to_kind == SWB_TO_GROUP)
        swb_header_set_str(&h, SWB_F_TO, to);
    SWB_SET(&h, SWB_F_ID);
    h.id = p->next_id++;
    return peeri_send(p, &h, body, len);
}

int swb_peer_send(swb_peer_t *p, const char *to, const void *body, size_t len)
{
    return send_to(p, SWB_TO_PEER, to, body, len);
}

int swb_peer_send_group(swb_peer_t *p, const char *service, const void *body, size_t len)
{
    return send_to(p, SWB_TO_GROUP, service, body, len);
}

int swb_peer_broadcast(swb_peer_t *p, const void *body, size_t len)
{
    return send_to(p, SWB_TO_ALL, NULL, body, len);
}

int swb_peer_result(swb_peer_t *p, uint64_t id, uint32_t attempt, int code, const char *text,
                    const void *body, size_t len)
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
    if (text && *text)
        swb_header_set_str(&h, SWB_F_TEXT, text);
    return peeri_send(p, &h, body, len);
}

int swb_peer_credit(swb_peer_t *p, uint32_t credit, uint32_t load)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_CREDIT);
    SWB_SET(&h, SWB_F_CREDIT);
    h.credit = credit;
    SWB_SET(&h, SWB_F_LOAD);
    h.load = load > 1000 ? 1000 : load;
    return peeri_send(p, &h, NULL, 0);
}

int peeri_wait_for(swb_peer_t *p, peeri_match_fn match, const void *arg, swb_msg_t *m,
                   int64_t deadline)
{
    return peeri_wait_owed(p, PEERI_NO_ASK, match, arg, m, deadline);
}

int peeri_wait_owed(swb_peer_t *p, uint64_t ask, peeri_match_fn match, const void *arg,
                    swb_msg_t *m, int64_t deadline)
{
    swb_msg_close(m);
    /* It may have come in already, while another call waited. */
    for (pending_t **pp = &p->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        if (!match(&(*pp)->m, arg))
            continue;
        pending_t *n = *pp;
        *pp = n->next;
        if (p->tail == n)
            p->tail = prev;
        msg_move(m, &n->m);
        free(n);
        return SWB_OK;
    }
    for (;;) {
        int rc = peeri_read_owed(p, ask, m, deadline);
        if (rc != SWB_OK)
            return rc;
        if (match(m, arg))
            return SWB_OK;
        if ((rc = peeri_stash(p, m)) != SWB_OK)
            return rc;
    }
}

int peeri_is_reply_to(const swb_msg_t *m, const void *id)
{
    return (m->type == SWB_MSG_RESULT || m->type == SWB_MSG_ERROR) &&
           m->id == *(const uint64_t *)id;
}

int peeri_wait_reply(swb_peer_t *p, uint64_t id, swb_msg_t *m, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    int rc = peeri_wait_owed(p, id, peeri_is_reply_to, &id, m, deadline);
    if (rc != SWB_OK)
        return rc;
    return m->type == SWB_MSG_ERROR ? m->code : SWB_OK;
}

int swb_peer_stats(swb_peer_t *p, void **body, size_t *len, int timeout_ms)
{
    if (!p || !body || !len)
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_STATS);
    SWB_SET(&h, SWB_F_ID);
    h.id = p->next_id++;
    int rc = peeri_send(p, &h, NULL, 0);
    if (rc != SWB_OK)
        return rc;
    swb_msg_t m = {0};
    rc = peeri_wait_reply(p, h.id, &m, timeout_ms);
    if (rc == SWB_OK) {
        *body = malloc(m.len ? m.len : 1);
        if (!*body) {
            rc = SWB_E_NOMEM;
        } else {
            memcpy(*body, m.body, m.len);
            *len = m.len;
        }
    }
    swb_msg_close(&m);
    return rc;
}
