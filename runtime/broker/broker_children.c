/*
 * broker_children.c - the broker's side of supervision: SPAWN, KILL, RELOAD and SCALE from
 * parents, the supervisor's events turned into EVENTs for parents, hung workers, and the
 * graceful shutdown sequence.
 *
 * Reload and scale-down follow one rule: the broker stops dispatching to a worker before it
 * tells the worker to stop (DRAIN), never the other way round, so no task is sent to a worker
 * that is leaving. A reload starts every replacement first and drains an old worker only once
 * its replacement has said HELLO, so capacity never drops.
 *
 * Layer: broker; uses: supervise, dispatch, common; called by: broker_route.c and the loop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "swb_msgpack.h"

#define SPAWN_MAX 256

void broker_event(swb_broker_t *b, const char *parent, int event, const char *name, int pid,
                  int code, int sig, const char *text)
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
    if (event == SWB_EV_EXIT || event == SWB_EV_RELOADED) {
        SWB_SET(&h, SWB_F_CODE);
        h.code = code;
        if (sig) {
            SWB_SET(&h, SWB_F_SIGNAL);
            h.signal = (uint32_t)sig;
        }
    }
    if (text && *text)
        swb_header_set_str(&h, SWB_F_TEXT, text);
    broker_send_to(b, pp, &h, NULL);
}

/* ---- reload bookkeeping ---------------------------------------------------------------- */

typedef struct {
    char old_name[SWB_MAX_NAME + 1];
    char new_name[SWB_MAX_NAME + 1];
    int state; /* 0 starting, 1 old draining, 2 done, 3 failed */
} swap_t;

struct reload {
    char parent[SWB_MAX_NAME + 1];
    swap_t *swaps;
    int n;
    int failed;
    int64_t deadline; /* swaps not done by then count as failed */
};

#define RELOAD_TIMEOUT_MS 60000

static void drain_peer(swb_broker_t *b, const char *name)
{
    reg_peer_t *p = registry_by_name(b->reg, name, strlen(name));
    supervisor_retire(b->sup, name);
    if (!p)
        return;
    /* Stop dispatching first, then tell it: no task can reach it after DRAIN. */
    dispatch_worker_pause(b->disp, p);
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_DRAIN);
    broker_send_to(b, p, &h, NULL);
}

static void reload_check_done(swb_broker_t *b)
{
    reload_t *r = b->reload;
    if (!r)
        return;
    int done = 0;
    for (int i = 0; i < r->n; i++)
        done += r->swaps[i].state >= 2;
    if (done < r->n)
        return;
    char text[96];
    snprintf(text, sizeof text, "%d of %d workers replaced", r->n - r->failed, r->n);
    broker_event(b, r->parent, SWB_EV_RELOADED, r->parent, 0, r->failed ? SWB_E_SPAWN : 0, 0, text);
    b->n.reloads++;
    swb_log(SWB_LOG_INFO, "reload for %s: %s", r->parent, text);
    free(r->swaps);
    free(r);
    b->reload = NULL;
}

void broker_child_ready(swb_broker_t *b, reg_peer_t *p)
{
    supervisor_ready(b->sup, p->name, p->pid);
    reload_t *r = b->reload;
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        swap_t *sw = &r->swaps[i];
        if (sw->state != 0 || strcmp(sw->new_name, p->name) != 0)
            continue;
        if (supervisor_has(b->sup, sw->old_name)) {
            sw->state = 1;
            drain_peer(b, sw->old_name);
        } else {
            sw->state = 2; /* the old one is gone already: nothing to drain */
        }
    }
    reload_check_done(b);
}

void broker_reload_tick(swb_broker_t *b)
{
    reload_t *r = b->reload;
    if (!r || b->now.ms < r->deadline)
        return;
    /* A replacement that never said HELLO, or an old child that never left: stop waiting. */
    for (int i = 0; i < r->n; i++) {
        if (r->swaps[i].state < 2) {
            if (r->swaps[i].state == 0)
                supervisor_unretire(b->sup, r->swaps[i].old_name);
            r->swaps[i].state = 3;
            r->failed++;
        }
    }
    reload_check_done(b);
}

static void reload_on_exit(swb_broker_t *b, const child_info_t *info)
{
    reload_t *r = b->reload;
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        swap_t *s = &r->swaps[i];
        if (s->state <= 1 && !strcmp(s->old_name, info->name)) {
            s->state = 2; /* drained and gone, or gone before its replacement was ready */
        } else if (s->state == 0 && !strcmp(s->new_name, info->name)) {
            s->state = 3; /* the replacement died before it was ready: keep the old one */
            supervisor_unretire(b->sup, s->old_name);
            r->failed++;
        }
    }
    reload_check_done(b);
}

/* ---- supervisor events ----------------------------------------------------------------- */

void broker_sup_event(void *arg, int event, const child_info_t *info, const char *text)
{
    swb_broker_t *b = arg;
    switch (event) {
    case SWB_EV_EXIT: {
        b->n.children_exited++;
        reg_peer_t *p = registry_by_name(b->reg, info->name, strlen(info->name));
        if (p && p->pid == info->pid)
            broker_drop_peer(b, p, 0); /* its tasks are retried elsewhere */
        broker_event(b, info->parent, SWB_EV_EXIT, info->name, info->pid, info->code, info->signal,
                     NULL);
        swb_log(SWB_LOG_INFO, "child %s (pid %d) exited: code %d signal %d", info->name, info->pid,
                info->code, info->signal);
        reload_on_exit(b, info);
        break;
    }
    case SWB_EV_RESTART:
        b->n.restarts++;
        broker_event(b, info->parent, event, info->name, info->pid, 0, 0, text);
        break;
    case SWB_EV_GAVE_UP:
        b->n.gave_up++;
        broker_event(b, info->parent, event, info->name, info->pid, 0, 0, text);
        break;
    case SWB_EV_LIMIT:
        b->n.limit_kills++;
        swb_log(SWB_LOG_WARN, "child %s: %s", info->name, text);
        broker_event(b, info->parent, event, info->name, info->pid, 0, 0, text);
        break;
    default:
        broker_event(b, info->parent, event, info->name, info->pid, 0, 0, text);
        break;
    }
}

void broker_worker_hung(swb_broker_t *b, reg_peer_t *w, const char *why)
{
    const child_info_t *c = supervisor_find(b->sup, w->name);
    if (!c || c->pid != w->pid || c->mode != SWB_SPAWN_PROCESS) {
        /* Not ours to kill (or a thread, which cannot be): it keeps the slot until it
         * answers, and says so. */
        swb_log(SWB_LOG_WARN, "worker %s is hung (%s) and cannot be killed", w->name, why);
        return;
    }
    b->n.hung_kills++;
    swb_log(SWB_LOG_WARN, "killing worker %s: %s", w->name, why);
    broker_event(b, c->parent, SWB_EV_LIMIT, c->name, c->pid, 0, 0, why);
    supervisor_kill(b->sup, w->name, SIGKILL, 1); /* restarted with backoff */
}

/* ---- SPAWN ---------------------------------------------------------------------------- */

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

static int name_free(swb_broker_t *b, const char *name)
{
    return !registry_by_name(b->reg, name, strlen(name)) && !supervisor_has(b->sup, name);
}

/* A fresh name in a group: "<group>-<n>". */
static void next_name(swb_broker_t *b, const char *group, char *out)
{
    do {
        snprintf(out, SWB_MAX_NAME + 1, "%.40s-%llu", group, (unsigned long long)++b->name_seq);
    } while (!name_free(b, out));
}

static void plugin_stem(const char *plugin, char *out, size_t cap)
{
    const char *stem = strrchr(plugin, '/');
    stem = stem ? stem + 1 : plugin;
    snprintf(out, cap, "%s", stem);
    char *dot = strchr(out, '.');
    if (dot)
        *dot = '\0';
}

/* Whose children a RELOAD or SCALE acts on: `parent` when given (the command line acting on
 * the workers of `swb broker`), else the sender's own; written to parent. Acting on another's
 * is for a peer of this machine and user only, that is one over inproc or over ipc (which only
 * the broker's own uid may connect to), never a tcp peer, whose machine and user nothing
 * vouches for. Refuses with an ERROR and returns 0 otherwise. */
static int target_parent(swb_broker_t *b, const swbi_rid_t *rid, const reg_peer_t *from,
                         const swb_header_t *h, char parent[SWB_MAX_NAME + 1])
{
    if (SWB_HAS(h, SWB_F_PARENT))
        swbi_str_copy(parent, SWB_MAX_NAME + 1, h->parent);
    else
        snprintf(parent, SWB_MAX_NAME + 1, "%s", from->name);
    if (!from->remote || strcmp(parent, from->name) == 0)
        return 1;
    broker_error(b, rid, SWB_E_NOT_PERMITTED,
                 "only their parent or a local peer may reload or scale these children", h->id,
                 parent);
    return 0;
}

void broker_on_spawn(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h, const swbi_body_t *body)
{
    if (h->count == 0 || h->count > SPAWN_MAX) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "count must be 1..256", h->id, NULL);
        return;
    }
    /* The body is the children's config. Unlike other bodies the broker reads it: it keeps
     * it for restarts, and a process child gets it through its environment. */
    const void *config = body && body->msg ? swbi_body_data(body) : NULL;
    size_t config_len = body && body->msg ? body->len : 0;
    if (config_len > SWB_CONFIG_MAX) {
        broker_error(b, rid, SWB_E_TOO_LARGE, "the config is over 60 KiB", h->id, NULL);
        return;
    }
    if (config_len && swb_msgpack_check(config, config_len, 0, 0) != SWB_OK) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "the config is not one msgpack value", h->id, NULL);
        return;
    }
    if (b->shutting_down) {
        broker_error(b, rid, SWB_E_SHUTTING_DOWN, NULL, h->id, NULL);
        return;
    }
    char plugin[SWB_MAX_TEXT + 1], base[SWB_MAX_NAME + 1] = "", group[SWB_MAX_NAME + 1];
    swbi_str_copy(plugin, sizeof plugin, h->plugin);
    if (from->remote && strchr(plugin, '/')) {
        /* A path would run any file of this machine, in thread mode inside the broker: a
         * remote peer names a plugin of the broker's plugin folder instead. */
        broker_error(b, rid, SWB_E_NOT_PERMITTED,
                     "a remote peer names a plugin of the broker's folder, not a path", h->id,
                     NULL);
        return;
    }
    if (SWB_HAS(h, SWB_F_NAME))
        swbi_str_copy(base, sizeof base, h->name);
    if (base[0])
        snprintf(group, sizeof group, "%s", base);
    else
        plugin_stem(plugin, group, sizeof group);
    /* Per call, not static: two brokers in one process must not share it. */
    child_info_t *kids = calloc(h->count, sizeof *kids);
    unsigned char *out = malloc(3 + (size_t)h->count * (2 + 2 + SWB_MAX_NAME + 5));
    if (!kids || !out) {
        free(kids);
        free(out);
        broker_error(b, rid, SWB_E_NOMEM, NULL, h->id, NULL);
        return;
    }
    uint32_t started = 0;
    int rc = SWB_OK;
    for (uint32_t i = 0; i < h->count && rc == SWB_OK; i++) {
        char name[SWB_MAX_NAME + 1];
        if (base[0] && h->count == 1)
            snprintf(name, sizeof name, "%s", base);
        else if (base[0])
            snprintf(name, sizeof name, "%.56s-%u", base, i);
        else
            next_name(b, group, name);
        if (!name_free(b, name)) {
            rc = SWB_E_NAME_TAKEN;
            broker_error(b, rid, rc, "a child or peer already has that name", h->id, name);
            break;
        }
        spawn_req_t req = {.parent = from->name,
                           .plugin = plugin,
                           .name = name,
                           .group = group,
                           .mode = (int)h->mode,
                           .capacity = SWB_HAS(h, SWB_F_CAPACITY) ? h->capacity : 0,
                           .no_restart = h->restart == SWB_RESTART_NEVER,
                           .mem_limit_mb = h->mem_limit_mb,
                           .cpu_limit_s = h->cpu_limit_s,
                           .config = config,
                           .config_len = config_len};
        rc = supervisor_spawn(b->sup, &req, &kids[started]);
        if (rc == SWB_OK) {
            started++;
            b->n.children_started++;
            broker_keep_alive(b);
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
            supervisor_kill(b->sup, kids[i].name, SIGKILL, 0);
    } else {
        size_t len = pack_children(out, kids, started);
        broker_reply(b, from, h->id, out, len);
    }
    free(kids);
    free(out);
}

/* ---- KILL (and disconnect) ------------------------------------------------------------ */

void broker_on_kill(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from, const swb_header_t *h)
{
    char name[SWB_MAX_NAME + 1];
    swbi_str_copy(name, sizeof name, h->name);
    const child_info_t *c = supervisor_find(b->sup, name);
    /* Only a child's own parent may kill it. */
    if (!c || strcmp(c->parent, from->name) != 0) {
        broker_error(b, rid, SWB_E_UNKNOWN_PEER, "no child of yours has that name", h->id, name);
        return;
    }
    reg_peer_t *p = registry_by_name(b->reg, name, strlen(name));
    swb_header_t bye;
    swb_header_init(&bye, SWB_CMD_BYE);
    if (!SWB_HAS(h, SWB_F_SIGNAL)) {
        /* No signal: disconnect, like Node's child.disconnect(). The child leaves on BYE and
         * its EXIT event (code 0) follows; it is not restarted. */
        if (!p) {
            broker_error(b, rid, SWB_E_UNKNOWN_PEER, "child is not connected", h->id, name);
            return;
        }
        supervisor_retire(b->sup, name);
        dispatch_worker_pause(b->disp, p); /* no task may follow the BYE */
        broker_send_to(b, p, &bye, NULL);
        broker_reply(b, from, h->id, NULL, 0);
        return;
    }
    int sig = (int)h->signal;
    if (sig <= 0 || sig >= 65) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "no such signal", h->id, name);
        return;
    }
    if (p)
        dispatch_worker_pause(b->disp, p); /* it is going: no new tasks */
    if (c->mode == SWB_SPAWN_THREAD && p)
        broker_send_to(b, p, &bye, NULL); /* wakes its loop; the stop flag ends it */
    int rc = supervisor_kill(b->sup, name, sig, 0);
    if (rc != SWB_OK)
        broker_error(b, rid, rc, NULL, h->id, name);
    else
        broker_reply(b, from, h->id, NULL, 0);
}

/* ---- RELOAD --------------------------------------------------------------------------- */

void broker_on_reload(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                      const swb_header_t *h)
{
    if (b->reload) {
        broker_error(b, rid, SWB_E_INVALID, "a reload is already running", h->id, NULL);
        return;
    }
    if (b->shutting_down) {
        broker_error(b, rid, SWB_E_SHUTTING_DOWN, NULL, h->id, NULL);
        return;
    }
    char group[SWB_MAX_NAME + 1] = "", parent[SWB_MAX_NAME + 1];
    if (SWB_HAS(h, SWB_F_NAME))
        swbi_str_copy(group, sizeof group, h->name);
    if (!target_parent(b, rid, from, h, parent))
        return;
    const child_info_t *kids[SPAWN_MAX];
    int n = supervisor_list(b->sup, parent, group[0] ? group : NULL, kids, SPAWN_MAX);
    reload_t *r = calloc(1, sizeof *r);
    swap_t *swaps = calloc((size_t)(n ? n : 1), sizeof *swaps);
    if (!r || !swaps) {
        free(r);
        free(swaps);
        broker_error(b, rid, SWB_E_NOMEM, NULL, h->id, NULL);
        return;
    }
    snprintf(r->parent, sizeof r->parent, "%s", parent);
    r->swaps = swaps;
    /* Copy names first: spawning changes the supervisor's list under kids[]. */
    for (int i = 0; i < n; i++) {
        if (kids[i]->retiring || !kids[i]->running)
            continue;
        snprintf(swaps[r->n].old_name, sizeof swaps[r->n].old_name, "%s", kids[i]->name);
        snprintf(swaps[r->n].new_name, sizeof swaps[r->n].new_name, "%s", kids[i]->group);
        r->n++;
    }
    r->deadline = b->now.ms + RELOAD_TIMEOUT_MS;
    for (int i = 0; i < r->n; i++) {
        /* Being replaced: if it crashes meanwhile, its replacement is what comes back. */
        supervisor_retire(b->sup, swaps[i].old_name);
        char group_name[SWB_MAX_NAME + 1];
        snprintf(group_name, sizeof group_name, "%s", swaps[i].new_name);
        next_name(b, group_name, swaps[i].new_name);
        child_info_t info;
        if (supervisor_spawn_like(b->sup, swaps[i].old_name, swaps[i].new_name, &info) != SWB_OK) {
            swaps[i].state = 3;
            supervisor_unretire(b->sup, swaps[i].old_name);
            r->failed++;
        } else {
            b->n.children_started++;
            broker_keep_alive(b);
        }
    }
    b->reload = r;
    broker_reply(b, from, h->id, NULL, 0);
    reload_check_done(b); /* nothing to replace: done at once */
}

void broker_reload_free(swb_broker_t *b)
{
    if (b->reload) {
        free(b->reload->swaps);
        free(b->reload);
        b->reload = NULL;
    }
}

/* ---- SCALE ---------------------------------------------------------------------------- */

void broker_on_scale(swb_broker_t *b, const swbi_rid_t *rid, reg_peer_t *from,
                     const swb_header_t *h)
{
    char group[SWB_MAX_NAME + 1], parent[SWB_MAX_NAME + 1];
    swbi_str_copy(group, sizeof group, h->name);
    if (!target_parent(b, rid, from, h, parent))
        return;
    if (h->count > SPAWN_MAX) {
        broker_error(b, rid, SWB_E_BAD_VALUE, "count must be 0..256", h->id, group);
        return;
    }
    const child_info_t *all[SPAWN_MAX];
    int n = supervisor_list(b->sup, parent, group, all, SPAWN_MAX);
    const child_info_t *live[SPAWN_MAX];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!all[i]->retiring)
            live[m++] = all[i];
    if (m == 0) {
        broker_error(b, rid, SWB_E_UNKNOWN_PEER, "no children of that parent in that group", h->id,
                     group);
        return;
    }
    char names[SPAWN_MAX][SWB_MAX_NAME + 1];
    for (int i = 0; i < m; i++)
        snprintf(names[i], sizeof names[i], "%s", live[i]->name);
    int want = (int)h->count;
    for (int i = m; i < want; i++) {
        char name[SWB_MAX_NAME + 1];
        next_name(b, group, name);
        child_info_t info;
        int rc = supervisor_spawn_like(b->sup, names[0], name, &info);
        if (rc != SWB_OK) {
            broker_error(b, rid, rc, "could not start another worker", h->id, name);
            return;
        }
        b->n.children_started++;
        broker_keep_alive(b);
    }
    /* Newest first out: drained, so their tasks finish. */
    for (int i = m - 1; i >= want; i--)
        drain_peer(b, names[i]);
    broker_reply(b, from, h->id, NULL, 0);
}

/* ---- graceful shutdown ---------------------------------------------------------------- */

void broker_shutdown_step(swb_broker_t *b)
{
    if (!b->shutting_down)
        return;
    if (b->shutdown_phase == 1) {
        /* Phase 1: no new tasks; those accepted run to the end, until the deadline. */
        if (dispatch_tasks_known(b->disp) > 0 && b->now.ms < b->shutdown_deadline)
            return;
        dispatch_fail_all(b->disp, SWB_E_SHUTTING_DOWN, "broker is shutting down");
        /* Phase 2: tell every worker to drain and leave; no restarts from now on. */
        supervisor_close(b->sup);
        swb_header_t drain, bye;
        swb_header_init(&drain, SWB_CMD_DRAIN);
        swb_header_init(&bye, SWB_CMD_BYE);
        for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
            reg_peer_t *p = registry_at(b->reg, i);
            if (!p->used || !p->n_services)
                continue;
            dispatch_worker_pause(b->disp, p);
            broker_send_to(b, p, &drain, NULL);
            broker_send_to(b, p, &bye, NULL);
        }
        b->shutdown_phase = 2;
        if (b->shutdown_deadline < b->now.ms + 1000)
            b->shutdown_deadline = b->now.ms + 1000; /* a moment for children to leave */
    }
    if (b->shutdown_phase == 2 &&
        (supervisor_count(b->sup) == 0 || b->now.ms >= b->shutdown_deadline)) {
        b->shutdown_phase = 3;
        /* Tasks put back by workers that left meanwhile: they end now, never unanswered. */
        dispatch_fail_all(b->disp, SWB_E_SHUTTING_DOWN, "broker is shutting down");
        __atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
    }
}
