/*
 * broker_route.c - what the broker does with each command.
 *
 * Bodies are never decoded. One that came in a frame of its own goes on by reference (a
 * reference count per receiver of a group or broadcast); a small one that came inline, in the
 * header's frame, is copied into the new header's frame (frames.c). Every request that cannot be
 * served is answered with an ERROR naming the code, the request id and the target, so nothing is
 * dropped without the sender being told.
 *
 * Layer: broker; uses: dispatch, supervise, common; called by: the loop (broker.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "broker_int.h"

/* This broker's boot id, made with its first WELCOME and the same in every later one: random,
 * so a broker started again on the endpoint has another and its peers know that what the old
 * one owed them will never come (PROTOCOL.md 5.1). */
static uint64_t boot_id(swb_broker_t *b)
{
    if (b->boot == 0) {
        uint64_t v = 0;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
            /* No entropy pool yet (early boot): two brokers still differ in time or pid. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                ((uint64_t)getpid() << 40);
        }
        b->boot = v ? v : 1; /* 0 stands for "not made yet" */
    }
    return b->boot;
}

void broker_error(swb_broker_t *b, const swbi_rid_t *rid, int code, const char *text, uint64_t id,
                  const char *target)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_ERROR);
    SWB_SET(&h, SWB_F_CODE);
    h.code = code;
    swb_header_set_str(&h, SWB_F_TEXT, text ? text : swb_strerror(code));
    if (id) {
        SWB_SET(&h, SWB_F_ID);
        h.id = id;
    }
    if (target && *target)
        swb_header_set_str(&h, SWB_F_NAME, target);
    b->n.errors_sent++;
    /* Best effort: if even the error cannot go (sender gone or flooding), it is counted. */
    if (swbi_send(b->router, rid, &h, NULL, ZMQ_DONTWAIT) != 0)
        b->n.undeliverable++;
}

void broker_send_to(swb_broker_t *b, reg_peer_t *p, const swb_header_t *h, const swbi_body_t *body)
{
    swbi_rid_t r = {p->rid, p->rid_len};
    if (swbi_send(b->router, &r, h, body, ZMQ_DONTWAIT) == 0) {
        p->last_sent_ms = b->now.ms;
        p->msgs_out++;
        return;
    }
    p->send_failures++;
    /* Its connection is gone (closed, or cut by ZMTP heartbeats): so is the peer. From inside
     * a dispatch hook it is dropped once dispatch has returned (broker_drop_lost). */
    if (errno == EHOSTUNREACH && b->in_hook) {
        p->lost = 1;
        b->lost_pending = 1;
    } else if (errno == EHOSTUNREACH) {
        broker_drop_peer(b, p, SWB_EV_LOST);
    }
}

void broker_drop_lost(swb_broker_t *b)
{
    b->lost_pending = 0;
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (p->used && p->lost)
            broker_drop_peer(b, p, SWB_EV_LOST);
    }
}

void broker_drop_peer(swb_broker_t *b, reg_peer_t *p, int event)
{
    if (!p || !p->used)
        return;
    if (event == SWB_EV_LOST) {
        b->n.peers_lost++;
        /* A child process we lost (stopped, hung, cut off) is killed, so that it exits and
         * the supervisor restarts it; never left behind half-alive. */
        const child_info_t *c = supervisor_find(b->sup, p->name);
        if (c && c->mode == SWB_SPAWN_PROCESS && c->pid == p->pid)
            supervisor_kill(b->sup, p->name, SIGKILL, 1);
    }
    if (event)
        broker_event(b, p->parent, event, p->name, p->pid, 0, 0, NULL);
    swb_log(SWB_LOG_DEBUG, "peer %s left", p->name);
    dispatch_worker_gone(b->disp, p); /* its tasks go to other workers or end */
    registry_remove(b->reg, p);
}

static void assign_name(swb_broker_t *b, const swb_header_t *h, char *out)
{
    char base[SWB_MAX_NAME + 1] = "peer";
    if (h->n_services)
        swbi_str_copy(base, 48, h->services[0]);
    do {
        snprintf(out, SWB_MAX_NAME + 1, "%s-%llu", base, (unsigned long long)++b->name_seq);
    } while (registry_by_name(b->reg, out, strlen(out)) || supervisor_has(b->sup, out));
}

static void on_hello(swb_broker_t *b, const swbi_rid_t *rid, const swb_header_t *h)
{
    /* The ROUTER's own ids are 5 bytes; only a peer that set ZMQ_ROUTING_ID has a longer one,
     * and a record keeps at most REG_RID_MAX bytes of it. */
    if (rid->len > REG_RID_MAX) {
        broker_error(b, rid, SWB_E_BAD_VALUE,
                     "routing id longer than 32 bytes: connect without setting one", h->id, NULL);
        return;
    }
    for (uint32_t i = 0; i < h->n_services; i++)
        for (uint32_t j = i + 1; j < h->n_services; j++)
            if (h->services[i].len == h->services[j].len &&
                !memcmp(h->services[i].ptr, h->services[j].ptr, h->services[i].len)) {
                broker_error(b, rid, SWB_E_BAD_VALUE, "a service is listed twice", h->id, NULL);
                return;
            }
    char name[SWB_MAX_NAME + 1];
    reg_peer_t *same_rid = registry_by_rid(b->reg, rid->id, rid->len);
    if (SWB_HAS(h, SWB_F_NAME)) {
        swbi_str_copy(name, sizeof name, h->name);
        if (strcmp(name, "parent") == 0 || strcmp(name, "*") == 0) {
            broker_error(b, rid, SWB_E_BAD_VALUE, "reserved name", h->id, name);
            return;
        }
    } else if (same_rid) {
        strcpy(name, same_rid->name);
    } else {
        assign_name(b, h, name);
    }
    /* The pid the transport vouches for wins over the one claimed; over tcp nothing local
     * can be vouched for, so a worker there is remote whatever it says. */
    int pid = b->msg_pid ? b->msg_pid : (SWB_HAS(h, SWB_F_PID) ? (int)h->pid : 0);
    int kind = (int)h->kind;
    if (b->msg_transport == BROKER_TR_TCP && (kind == SWB_KIND_THREAD || kind == SWB_KIND_PROCESS))
        kind = SWB_KIND_REMOTE;
    /* A child's name is only for the process (or thread) this broker started under it. */
    const child_info_t *child = supervisor_find(b->sup, name);
    if (child && child->running &&
        ((child->mode == SWB_SPAWN_PROCESS && b->msg_transport == BROKER_TR_IPC &&
          pid != child->pid) ||
         (child->mode == SWB_SPAWN_THREAD && b->msg_transport != BROKER_TR_INPROC))) {
        broker_error(b, rid, SWB_E_NAME_TAKEN, "that name belongs to a child of this broker", h->id,
                     name);
        return;
    }
    reg_peer_t *p = registry_by_name(b->reg, name, strlen(name));
    if (p && p != same_rid) {
        /* A live name is never taken over, except by the same local process coming back on
         * a new connection (it lost us and said HELLO again). */
        /* Only a holder silent for a heartbeat interval can have lost its connection; a
         * live one keeps its name whatever pid the newcomer claims. */
        int same_proc = p->pid && pid == p->pid && b->msg_transport != BROKER_TR_TCP &&
                        p->kind != SWB_KIND_REMOTE && kind == p->kind &&
                        b->now.ms - p->last_seen_ms > (int64_t)b->hb_ivl_ms;
        if (!same_proc) {
            broker_error(b, rid, SWB_E_NAME_TAKEN, "a live peer already has that name", h->id,
                         name);
            return;
        }
        if (same_rid && same_rid != p)
            broker_drop_peer(b, same_rid, 0);
        (void)registry_rebind(b->reg, p, rid->id, rid->len); /* rid->len checked above */
    } else if (!p) {
        if (same_rid) /* a peer renaming itself: drop the old entry */
            broker_drop_peer(b, same_rid, 0);
        p = registry_add(b->reg, name, rid->id, rid->len);
        if (!p) {
            broker_error(b, rid, SWB_E_TOO_MANY_PEERS, NULL, h->id, name);
            return;
        }
        p->since_ms = b->now.ms;
        b->n.peers_joined++;
    }
    /* A HELLO again (reconnect) re-reads services and capacity; its running tasks stay. */
    dispatch_worker_leave(b->disp, p);
    p->draining = 0;
    p->blocked = 0;
    p->kind = kind;
    p->pid = pid;
    p->remote = b->msg_transport == BROKER_TR_TCP;
    p->n_services = h->n_services;
    for (uint32_t i = 0; i < h->n_services; i++)
        swbi_str_copy(p->services[i], sizeof p->services[i], h->services[i]);
    p->capacity = SWB_HAS(h, SWB_F_CAPACITY) ? h->capacity : (h->n_services ? 1 : 0);
    if (SWB_HAS(h, SWB_F_PARENT))
        swbi_str_copy(p->parent, sizeof p->parent, h->parent);
    else
        p->parent[0] = '\0';
    p->last_seen_ms = b->now.ms;

    /* WELCOME first, so the worker knows its name before its first TASK. */
    swb_header_t w;
    swb_header_init(&w, SWB_CMD_WELCOME);
    swb_header_set_str(&w, SWB_F_NAME, p->name);
    SWB_SET(&w, SWB_F_HB_IVL);
    w.hb_ivl_ms = b->hb_ivl_ms;
    SWB_SET(&w, SWB_F_HB_LIVE);
    w.hb_liveness = b->hb_liveness;
    SWB_SET(&w, SWB_F_MAX_MSG);
    w.max_msg = b->max_msg;
    SWB_SET(&w, SWB_F_BOOT);
    w.boot = boot_id(b);
    if (h->id) {
        SWB_SET(&w, SWB_F_ID);
        w.id = h->id;
    }
    broker_send_to(b, p, &w, NULL);
    if (!p->used)
        return; /* its connection closed before WELCOME could go: it was dropped */
    dispatch_worker_join(b->disp, p);
    broker_event(b, p->parent, SWB_EV_READY, p->name, p->pid, 0, 0, NULL);
    broker_child_ready(b, p);
    swb_log(SWB_LOG_DEBUG, "peer %s joined (kind %d, pid %d)", p->name, p->kind, p->pid);
}

/* Deliver `body` to `to`; on failure tell the sender. */
static int deliver(swb_broker_t *b, const swbi_rid_t *srid, reg_peer_t *from, reg_peer_t *to,
                   const swb_header_t *d, const swbi_body_t *body, uint64_t id)
{
    swbi_rid_t r = {to->rid, to->rid_len};
    if (swbi_send(b->router, &r, d, body, ZMQ_DONTWAIT) == 0) {
        to->last_sent_ms = b->now.ms;
        to->msgs_out++;
        b->n.routed++;
        return 0;
    }
    int e = errno;
    to->send_failures++;
    b->n.undeliverable++;
    broker_error(b, srid, SWB_E_UNREACHABLE,
                 e == EAGAIN ? "peer is not keeping up (high-water mark)" : "peer is gone", id,
                 to->name);
    if (e == EHOSTUNREACH) /* its connection is closed: it is not coming back as is */
        broker_drop_peer(b, to, SWB_EV_LOST);
    (void)from;
    return -1;
}

static void on_send(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from, const swb_header_t *h,
                    const swbi_body_t *body)
{
    char target[SWB_MAX_NAME + 1] = "";
    if (SWB_HAS(h, SWB_F_TO))
        swbi_str_copy(target, sizeof target, h->to);
    swb_header_t d;
    swb_header_init(&d, SWB_CMD_DELIVER);
    swb_header_set_str(&d, SWB_F_FROM, from->name);
    SWB_SET(&d, SWB_F_TO_KIND);
    d.to_kind = h->to_kind;
    if (h->id) {
        SWB_SET(&d, SWB_F_ID);
        d.id = h->id;
    }
    if (h->to_kind == SWB_TO_PEER || h->to_kind == SWB_TO_PARENT) {
        if (h->to_kind == SWB_TO_PEER && strcmp(target, "parent") != 0) {
            reg_peer_t *to = registry_by_name(b->reg, target, strlen(target));
            if (!to) {
                broker_error(b, rid, SWB_E_UNKNOWN_PEER, "no peer with that name", h->id, target);
                return;
            }
            deliver(b, rid, from, to, &d, body, h->id);
            return;
        }
        if (!from->parent[0]) {
            broker_error(b, rid, SWB_E_NO_PARENT, NULL, h->id, "parent");
            return;
        }
        reg_peer_t *to = registry_by_name(b->reg, from->parent, strlen(from->parent));
        if (!to) {
            broker_error(b, rid, SWB_E_UNKNOWN_PEER, "parent is gone", h->id, from->parent);
            return;
        }
        deliver(b, rid, from, to, &d, body, h->id);
        return;
    }

    /* Group or all: every match but the sender, each sent the same borrowed body. */
    int group = h->to_kind == SWB_TO_GROUP;
    uint32_t matched = 0;
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (!p->used || p == from)
            continue;
        if (group && !registry_serves(p, target, strlen(target)))
            continue;
        matched++;
        deliver(b, rid, from, p, &d, body, h->id);
    }
    if (group && !matched)
        broker_error(b, rid, SWB_E_NO_SERVICE, "no peer serves that group", h->id, target);
}

void broker_reply(swb_broker_t *b, reg_peer_t *to, uint64_t id, const void *body, size_t len)
{
    swb_header_t r;
    swb_header_init(&r, SWB_CMD_RESULT);
    SWB_SET(&r, SWB_F_ID);
    r.id = id;
    SWB_SET(&r, SWB_F_CODE);
    r.code = 0;
    swbi_rid_t rr = {to->rid, to->rid_len};
    if (swbi_send_bytes(b->router, &rr, &r, body, len, ZMQ_DONTWAIT) == 0)
        to->last_sent_ms = b->now.ms;
}

static void on_stats(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = broker_stats_encode(b, &buf, &len);
    if (rc != SWB_OK) {
        broker_error(b, rid, rc, NULL, h->id, NULL);
        return;
    }
    broker_reply(b, from, h->id, buf, len);
    free(buf);
}

static void on_bye(swb_broker_t *b, reg_peer_t *from)
{
    b->n.peers_left++;
    broker_drop_peer(b, from, 0);
}

void broker_handle(swb_broker_t *b, const swbi_rid_t *rid, const swb_header_t *h,
                   const swbi_body_t *body)
{
    if (h->cmd == SWB_CMD_HELLO) {
        on_hello(b, rid, h);
        return;
    }
    reg_peer_t *from = registry_by_rid(b->reg, rid->id, rid->len);
    if (!from) {
        if (h->cmd != SWB_CMD_BYE && h->cmd != SWB_CMD_ERROR)
            broker_error(b, rid, SWB_E_NOT_REGISTERED, "say HELLO first", h->id, NULL);
        return;
    }
    from->last_seen_ms = b->now.ms;
    from->msgs_in++;
    if (from->blocked)
        dispatch_worker_heard(b->disp, from);
    if (from->n_held)
        dispatch_peer_heard(b->disp, from);
    switch (h->cmd) {
    case SWB_CMD_HEARTBEAT:
        break;
    case SWB_CMD_SEND:
        on_send(b, rid, from, h, body);
        break;
    case SWB_CMD_STATS:
        on_stats(b, rid, from, h);
        break;
    case SWB_CMD_SPAWN:
        broker_on_spawn(b, rid, from, h, body);
        break;
    case SWB_CMD_KILL:
        broker_on_kill(b, rid, from, h);
        break;
    case SWB_CMD_RELOAD:
        broker_on_reload(b, rid, from, h);
        break;
    case SWB_CMD_SCALE:
        broker_on_scale(b, rid, from, h);
        break;
    case SWB_CMD_TASK:
        broker_take_shutdown(b); /* a shutdown asked for before this task refuses it */
        dispatch_task(b->disp, from, h, body);
        break;
    case SWB_CMD_RESULT:
        dispatch_result(b->disp, from, h, body);
        break;
    case SWB_CMD_CANCEL:
        dispatch_cancel(b->disp, from, h);
        break;
    case SWB_CMD_CREDIT:
        /* credit is the worker's capacity from now on (0 pauses it); the broker counts
         * tasks in flight itself, so there is no race over free slots. */
        dispatch_worker_credit(b->disp, from, h->credit,
                               SWB_HAS(h, SWB_F_LOAD) ? h->load : from->load);
        break;
    case SWB_CMD_BYE:
        on_bye(b, from);
        break;
    case SWB_CMD_ERROR:
        /* A receiver that takes no messages tells the sender, through us, under its own
         * name; any other ERROR from a peer is a complaint about something we sent. */
        if (h->code == SWB_E_NO_HANDLER && SWB_HAS(h, SWB_F_NAME)) {
            reg_peer_t *to = registry_by_name(b->reg, h->name.ptr, h->name.len);
            if (to) {
                swbi_rid_t r = {to->rid, to->rid_len};
                char text[SWB_MAX_TEXT + 1];
                swbi_str_copy(text, sizeof text, h->text);
                broker_error(b, &r, SWB_E_NO_HANDLER, text, SWB_HAS(h, SWB_F_ID) ? h->id : 0,
                             from->name);
            }
        }
        break;
    default:
        broker_error(b, rid, SWB_E_UNKNOWN_CMD, "command not accepted by the broker", h->id, NULL);
        break;
    }
}

static void send_heartbeats(swb_broker_t *b)
{
    swb_header_t hb;
    swb_header_init(&hb, SWB_CMD_HEARTBEAT);
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (p->used && b->now.ms - p->last_sent_ms >= (int64_t)b->hb_ivl_ms)
            broker_send_to(b, p, &hb, NULL);
    }
}

void broker_keep_alive(swb_broker_t *b)
{
    int64_t now = swbi_now_ms();
    if (now - b->now.ms < (int64_t)b->hb_ivl_ms / 2)
        return;
    b->now.ms = now;
    b->now.us = swbi_now_us();
    /* A peer whose connection is gone is dropped after this pass (broker_drop_lost), not
     * under the caller, which may hold it (the parent of a batch of spawns). */
    int in_hook = b->in_hook;
    b->in_hook = 1;
    send_heartbeats(b);
    b->in_hook = in_hook;
}

void broker_heartbeat(swb_broker_t *b, int judge)
{
    if (!judge) {
        send_heartbeats(b);
        return;
    }
    int64_t dead_after = (int64_t)b->hb_ivl_ms * b->hb_liveness;
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (!p->used)
            continue;
        /* Workers heartbeat from their host's I/O thread, so silence means stopped or hung.
         * A client's application may simply be busy elsewhere (a parent computing, a program
         * between calls): clients are judged by their connection instead, which ZMTP
         * heartbeats keep honest, and a send to a closed one fails below. */
        /* A worker running a task inline may be silent for as long as the task takes: its
         * connection (ZMTP) and the task's deadline speak for it then. */
        if (p->kind != SWB_KIND_CLIENT && !p->inflight &&
            b->now.ms - p->last_seen_ms > dead_after) {
            swb_log(SWB_LOG_INFO, "peer %s missed its heartbeats", p->name);
            broker_drop_peer(b, p, SWB_EV_LOST);
        }
    }
    send_heartbeats(b);
}
