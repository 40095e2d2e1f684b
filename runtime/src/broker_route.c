/*
 * broker_route.c - what the broker does with each command.
 *
 * Bodies are never decoded or copied: the inbound body frame is handed to zmq_msg_send for
 * the outbound message (zmq_msg_copy, a reference count, for each extra receiver of a group
 * or broadcast). Every request that cannot be served is answered with an ERROR naming the code,
 * the request id and the target, so nothing is dropped without the sender being told.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"

void broker_error(swb_broker_t *b, const swbi_rid_t *rid, int code, const char *text,
                  uint64_t id, const char *target)
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

static void send_to_peer(swb_broker_t *b, reg_peer_t *p, const swb_header_t *h, zmq_msg_t *body)
{
    swbi_rid_t r = {p->rid, p->rid_len};
    if (swbi_send(b->router, &r, h, body, ZMQ_DONTWAIT) == 0) {
        p->last_sent_ms = b->now_ms;
        p->msgs_out++;
    } else {
        p->send_failures++;
    }
}

static void send_event(swb_broker_t *b, const char *parent, int event, const char *name, int pid,
                       int code, int sig)
{
    if (!parent || !*parent)
        return;
    reg_peer_t *pp = registry_by_name(b->reg, parent, strlen(parent));
    if (!pp)
        return;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_EVENT);
    SWB_SET(&h, SWB_F_EVENT);
    h.event = (uint32_t)event;
    swb_header_set_str(&h, SWB_F_NAME, name);
    if (pid > 0) {
        SWB_SET(&h, SWB_F_PID);
        h.pid = (uint32_t)pid;
    }
    if (event == SWB_EV_EXIT) {
        SWB_SET(&h, SWB_F_CODE);
        h.code = code;
        if (sig) {
            SWB_SET(&h, SWB_F_SIGNAL);
            h.signal = (uint32_t)sig;
        }
    }
    send_to_peer(b, pp, &h, NULL);
}

void broker_drop_peer(swb_broker_t *b, reg_peer_t *p, int event)
{
    if (!p || !p->used)
        return;
    if (event)
        send_event(b, p->parent, event, p->name, p->pid, 0, 0);
    swb_log(SWB_LOG_DEBUG, "peer %s left", p->name);
    dispatch_worker_gone(b->disp, p); /* its tasks go to other workers or end */
    registry_remove(b->reg, p);
}

void broker_child_exited(void *arg, const child_info_t *info)
{
    swb_broker_t *b = arg;
    b->n.children_exited++;
    reg_peer_t *p = registry_by_name(b->reg, info->name, strlen(info->name));
    if (p && p->pid == info->pid)
        broker_drop_peer(b, p, 0);
    send_event(b, info->parent, SWB_EV_EXIT, info->name, info->pid, info->code, info->signal);
    swb_log(SWB_LOG_INFO, "child %s (pid %d) exited: code %d signal %d", info->name, info->pid,
            info->code, info->signal);
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
    reg_peer_t *p = registry_by_name(b->reg, name, strlen(name));
    if (p && p != same_rid) {
        /* A live name is never taken over, except by the same local process coming back on
         * a new connection (it lost us and said HELLO again). */
        int same_proc = p->pid && SWB_HAS(h, SWB_F_PID) && (int)h->pid == p->pid &&
                        p->kind != SWB_KIND_REMOTE && h->kind == (uint32_t)p->kind;
        if (!same_proc) {
            broker_error(b, rid, SWB_E_NAME_TAKEN, "a live peer already has that name", h->id,
                         name);
            return;
        }
        if (same_rid && same_rid != p)
            broker_drop_peer(b, same_rid, 0);
        registry_rebind(b->reg, p, rid->id, rid->len);
    } else if (!p) {
        if (same_rid) /* a peer renaming itself: drop the old entry */
            broker_drop_peer(b, same_rid, 0);
        p = registry_add(b->reg, name, rid->id, rid->len);
        if (!p) {
            broker_error(b, rid, SWB_E_TOO_MANY_PEERS, NULL, h->id, name);
            return;
        }
        p->since_ms = b->now_ms;
        b->n.peers_joined++;
    }
    /* A HELLO again (reconnect) re-reads services and capacity; its running tasks stay. */
    dispatch_worker_leave(b->disp, p);
    p->draining = 0;
    p->kind = (int)h->kind;
    p->pid = SWB_HAS(h, SWB_F_PID) ? (int)h->pid : 0;
    p->n_services = h->n_services;
    for (uint32_t i = 0; i < h->n_services; i++)
        swbi_str_copy(p->services[i], sizeof p->services[i], h->services[i]);
    p->capacity = SWB_HAS(h, SWB_F_CAPACITY) ? h->capacity : (h->n_services ? 1 : 0);
    if (SWB_HAS(h, SWB_F_PARENT))
        swbi_str_copy(p->parent, sizeof p->parent, h->parent);
    else
        p->parent[0] = '\0';
    p->last_seen_ms = b->now_ms;

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
    if (h->id) {
        SWB_SET(&w, SWB_F_ID);
        w.id = h->id;
    }
    send_to_peer(b, p, &w, NULL);
    dispatch_worker_join(b->disp, p);
    send_event(b, p->parent, SWB_EV_READY, p->name, p->pid, 0, 0);
    swb_log(SWB_LOG_DEBUG, "peer %s joined (kind %d, pid %d)", p->name, p->kind, p->pid);
}

/* Deliver `body` to `to`; on failure tell the sender. `body` is moved on success. */
static int deliver(swb_broker_t *b, const swbi_rid_t *srid, reg_peer_t *from, reg_peer_t *to,
                   const swb_header_t *d, zmq_msg_t *body, uint64_t id)
{
    swbi_rid_t r = {to->rid, to->rid_len};
    if (swbi_send(b->router, &r, d, body, ZMQ_DONTWAIT) == 0) {
        to->last_sent_ms = b->now_ms;
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

static void on_send(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                    const swb_header_t *h, zmq_msg_t *body, int has_body)
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
    zmq_msg_t *bp = has_body ? body : NULL;

    if (h->to_kind == SWB_TO_PEER || h->to_kind == SWB_TO_PARENT) {
        if (h->to_kind == SWB_TO_PEER && strcmp(target, "parent") != 0) {
            reg_peer_t *to = registry_by_name(b->reg, target, strlen(target));
            if (!to) {
                broker_error(b, rid, SWB_E_UNKNOWN_PEER, "no peer with that name", h->id,
                             target);
                return;
            }
            deliver(b, rid, from, to, &d, bp, h->id);
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
        deliver(b, rid, from, to, &d, bp, h->id);
        return;
    }

    /* Group or all: every match but the sender, each with a reference to the same body. */
    int group = h->to_kind == SWB_TO_GROUP;
    uint32_t matched = 0;
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (!p->used || p == from)
            continue;
        if (group && !registry_serves(p, target, strlen(target)))
            continue;
        matched++;
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        if (bp)
            zmq_msg_copy(&copy, bp);
        deliver(b, rid, from, p, &d, bp ? &copy : NULL, h->id);
        zmq_msg_close(&copy);
    }
    if (group && !matched)
        broker_error(b, rid, SWB_E_NO_SERVICE, "no peer serves that group", h->id, target);
}

static void reply_result(swb_broker_t *b, reg_peer_t *to, uint64_t id, const void *body,
                         size_t len)
{
    swb_header_t r;
    swb_header_init(&r, SWB_CMD_RESULT);
    SWB_SET(&r, SWB_F_ID);
    r.id = id;
    SWB_SET(&r, SWB_F_CODE);
    r.code = 0;
    swbi_rid_t rr = {to->rid, to->rid_len};
    if (swbi_send_bytes(b->router, &rr, &r, body, len, ZMQ_DONTWAIT) == 0)
        to->last_sent_ms = b->now_ms;
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
    reply_result(b, from, h->id, buf, len);
    free(buf);
}

/* Encode [[name, pid], ...] without msgpack-c: a tiny fixed shape. */
static size_t pack_children(unsigned char *out, const child_info_t *kids, uint32_t n)
{
    size_t o = 0;
    out[o++] = 0xdc; /* array16 */
    out[o++] = (unsigned char)(n >> 8);
    out[o++] = (unsigned char)n;
    for (uint32_t i = 0; i < n; i++) {
        size_t nl = strlen(kids[i].name);
        out[o++] = 0x92;
        out[o++] = 0xd9; /* str8 */
        out[o++] = (unsigned char)nl;
        memcpy(out + o, kids[i].name, nl);
        o += nl;
        uint32_t pid = (uint32_t)kids[i].pid;
        out[o++] = 0xce; /* uint32 */
        out[o++] = (unsigned char)(pid >> 24);
        out[o++] = (unsigned char)(pid >> 16);
        out[o++] = (unsigned char)(pid >> 8);
        out[o++] = (unsigned char)pid;
    }
    return o;
}

#define SPAWN_MAX 256

static void on_spawn(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h)
{
    if (h->count == 0 || h->count > SPAWN_MAX) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "count must be 1..256", h->id, NULL);
        return;
    }
    char plugin[SWB_MAX_TEXT + 1], base[SWB_MAX_NAME + 1] = "";
    swbi_str_copy(plugin, sizeof plugin, h->plugin);
    if (SWB_HAS(h, SWB_F_NAME))
        swbi_str_copy(base, sizeof base, h->name);
    static child_info_t kids[SPAWN_MAX];
    uint32_t started = 0;
    int rc = SWB_OK;
    for (uint32_t i = 0; i < h->count && rc == SWB_OK; i++) {
        char name[SWB_MAX_NAME + 1];
        if (base[0] && h->count == 1)
            snprintf(name, sizeof name, "%s", base);
        else if (base[0])
            snprintf(name, sizeof name, "%.56s-%u", base, i);
        else {
            /* Plugin names may be paths: use the file's stem. */
            const char *stem = strrchr(plugin, '/');
            stem = stem ? stem + 1 : plugin;
            char st[40];
            snprintf(st, sizeof st, "%s", stem);
            char *dot = strchr(st, '.');
            if (dot)
                *dot = '\0';
            do {
                snprintf(name, sizeof name, "%s-%llu", st, (unsigned long long)++b->name_seq);
            } while (registry_by_name(b->reg, name, strlen(name)) || supervisor_has(b->sup, name));
        }
        if (registry_by_name(b->reg, name, strlen(name)) || supervisor_has(b->sup, name)) {
            rc = SWB_E_NAME_TAKEN;
            broker_error(b, rid, rc, "a child or peer already has that name", h->id, name);
            break;
        }
        spawn_req_t req = {.parent = from->name,
                           .plugin = plugin,
                           .name = name,
                           .mode = (int)h->mode,
                           .capacity = SWB_HAS(h, SWB_F_CAPACITY) ? h->capacity : 0};
        rc = supervisor_spawn(b->sup, &req, &kids[started]);
        if (rc == SWB_OK) {
            started++;
            b->n.children_started++;
        } else {
            char text[SWB_MAX_TEXT];
            snprintf(text, sizeof text, "could not start %s: %s", plugin,
                     rc == SWB_E_PLUGIN ? "plugin not found" : swb_strerror(rc));
            broker_error(b, rid, rc, text, h->id, name);
        }
    }
    if (rc != SWB_OK) {
        /* All or nothing: stop the ones already started. Their EXIT events still come. */
        for (uint32_t i = 0; i < started; i++)
            supervisor_kill(b->sup, kids[i].name, SIGKILL);
        return;
    }
    static unsigned char out[3 + SPAWN_MAX * (2 + 2 + SWB_MAX_NAME + 5)];
    size_t len = pack_children(out, kids, started);
    reply_result(b, from, h->id, out, len);
}

static void on_kill(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                    const swb_header_t *h)
{
    char name[SWB_MAX_NAME + 1];
    swbi_str_copy(name, sizeof name, h->name);
    const child_info_t *c = supervisor_find(b->sup, name);
    /* Only a child's own parent may kill it. */
    if (!c || strcmp(c->parent, from->name) != 0) {
        broker_error(b, rid, SWB_E_UNKNOWN_PEER, "no child of yours has that name", h->id,
                     name);
        return;
    }
    reg_peer_t *p = registry_by_name(b->reg, name, strlen(name));
    swb_header_t bye;
    swb_header_init(&bye, SWB_CMD_BYE);
    if (!SWB_HAS(h, SWB_F_SIGNAL)) {
        /* No signal: disconnect, like Node's child.disconnect(). The child leaves on BYE and
         * its EXIT event (code 0) follows. */
        if (!p) {
            broker_error(b, rid, SWB_E_UNKNOWN_PEER, "child is not connected", h->id, name);
            return;
        }
        send_to_peer(b, p, &bye, NULL);
        if (h->id)
            reply_result(b, from, h->id, NULL, 0);
        return;
    }
    int sig = (int)h->signal;
    if (sig <= 0 || sig >= 65) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "no such signal", h->id, name);
        return;
    }
    if (c->mode == SWB_SPAWN_THREAD && p)
        send_to_peer(b, p, &bye, NULL); /* wakes its loop; the stop flag ends it */
    int rc = supervisor_kill(b->sup, name, sig);
    if (rc != SWB_OK)
        broker_error(b, rid, rc, NULL, h->id, name);
    else if (h->id)
        reply_result(b, from, h->id, NULL, 0);
}

static void on_bye(swb_broker_t *b, reg_peer_t *from)
{
    b->n.peers_left++;
    broker_drop_peer(b, from, 0);
}

void broker_handle(swb_broker_t *b, const swbi_rid_t *rid, const swb_header_t *h,
                   zmq_msg_t *body, int has_body)
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
    from->last_seen_ms = b->now_ms;
    from->msgs_in++;
    switch (h->cmd) {
    case SWB_CMD_HEARTBEAT:
        break;
    case SWB_CMD_SEND:
        on_send(b, rid, from, h, body, has_body);
        break;
    case SWB_CMD_STATS:
        on_stats(b, rid, from, h);
        break;
    case SWB_CMD_SPAWN:
        on_spawn(b, rid, from, h);
        break;
    case SWB_CMD_KILL:
        on_kill(b, rid, from, h);
        break;
    case SWB_CMD_TASK:
        dispatch_task(b->disp, rid, from, h, body, has_body);
        break;
    case SWB_CMD_RESULT:
        dispatch_result(b->disp, from, h, body, has_body);
        break;
    case SWB_CMD_CANCEL:
        dispatch_cancel(b->disp, rid, from, h);
        break;
    case SWB_CMD_CREDIT:
        if (SWB_HAS(h, SWB_F_LOAD))
            dispatch_worker_load(b->disp, from, h->load);
        break;
    case SWB_CMD_BYE:
        on_bye(b, from);
        break;
    case SWB_CMD_ERROR:
        break; /* a peer's complaint about something we sent; nothing to answer */
    default:
        broker_error(b, rid, SWB_E_UNKNOWN_CMD, "command not accepted by the broker", h->id,
                     NULL);
        break;
    }
}

void broker_heartbeat(swb_broker_t *b)
{
    int64_t dead_after = (int64_t)b->hb_ivl_ms * b->hb_liveness;
    swb_header_t hb;
    swb_header_init(&hb, SWB_CMD_HEARTBEAT);
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (!p->used)
            continue;
        if (b->now_ms - p->last_seen_ms > dead_after) {
            swb_log(SWB_LOG_INFO, "peer %s missed its heartbeats", p->name);
            b->n.peers_lost++;
            const child_info_t *c = supervisor_find(b->sup, p->name);
            if (c && c->mode == SWB_SPAWN_PROCESS && c->pid == p->pid)
                supervisor_kill(b->sup, p->name, SIGKILL); /* hung: its EXIT follows */
            broker_drop_peer(b, p, SWB_EV_LOST);
            continue;
        }
        if (b->now_ms - p->last_sent_ms >= (int64_t)b->hb_ivl_ms)
            send_to_peer(b, p, &hb, NULL);
    }
}
