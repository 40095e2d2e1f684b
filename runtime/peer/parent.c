/*
 * parent.c - the parent's side of parent-child: spawn children through the broker, kill or
 * disconnect them, wait for their exit. Like Node's fork()/new Worker(), kill(), disconnect()
 * and the 'exit' event, but the children are started by the broker's supervisor, so the same
 * call gives a thread or a process.
 *
 * Layer: peer; uses: common; called by: programs, embed (the pool).
 */
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_int.h"

/* Parse the SPAWN reply body: [[name, pid], ...]. */
static int parse_children(const swb_msg_t *m, swb_child_t *out, size_t cap, size_t *n)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = SWB_E_MALFORMED;
    if (msgpack_unpack_next(&u, m->body, m->len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_ARRAY) {
        msgpack_object_array a = u.data.via.array;
        rc = SWB_OK;
        *n = 0;
        for (uint32_t i = 0; i < a.size && rc == SWB_OK; i++) {
            msgpack_object e = a.ptr[i];
            if (e.type != MSGPACK_OBJECT_ARRAY || e.via.array.size != 2 ||
                e.via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
                e.via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                rc = SWB_E_MALFORMED;
                break;
            }
            if (*n < cap) {
                msgpack_object_str s = e.via.array.ptr[0].via.str;
                swbi_str_copy(out[*n].name, sizeof out[*n].name, (swb_str_t){s.ptr, s.size});
                out[*n].pid = (int)e.via.array.ptr[1].via.u64;
                (*n)++;
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int swb_spawn(swb_peer_t *p, const swb_spawn_opts_t *given, swb_child_t *out, size_t cap, size_t *n)
{
    swb_spawn_opts_t taken;
    if (given &&
        swbi_opts_take(&taken, sizeof taken, given, SWBI_OPTS_END(swb_spawn_opts_t, reserved0),
                       "swb_spawn_opts_t") != SWB_OK)
        return SWB_E_INVALID;
    const swb_spawn_opts_t *o = given ? &taken : NULL;
    if (!p || !o || !o->plugin || !out || !n)
        return SWB_E_INVALID;
    *n = 0;
    uint32_t count = o->count ? o->count : 1;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_SPAWN);
    SWB_SET(&h, SWB_F_ID);
    h.id = peeri_next_id(p);
    swb_header_set_str(&h, SWB_F_PLUGIN, o->plugin);
    SWB_SET(&h, SWB_F_COUNT);
    h.count = count;
    SWB_SET(&h, SWB_F_MODE);
    h.mode = o->mode == SWB_CHILD_THREAD ? SWB_SPAWN_THREAD : SWB_SPAWN_PROCESS;
    if (o->name)
        swb_header_set_str(&h, SWB_F_NAME, o->name);
    if (o->capacity) {
        SWB_SET(&h, SWB_F_CAPACITY);
        h.capacity = o->capacity;
    }
    if (o->no_restart) {
        SWB_SET(&h, SWB_F_RESTART);
        h.restart = SWB_RESTART_NEVER;
    }
    if (o->mem_limit_mb) {
        SWB_SET(&h, SWB_F_MEM_LIMIT);
        h.mem_limit_mb = o->mem_limit_mb;
    }
    if (o->cpu_limit_s) {
        SWB_SET(&h, SWB_F_CPU_LIMIT);
        h.cpu_limit_s = o->cpu_limit_s;
    }
    /* The header has no field left for it: the config travels as SPAWN's body, checked by
     * the broker (bad_value, too_large). */
    if (o->config_len && !o->config)
        return SWB_E_INVALID;
    int rc = peeri_send(p, &h, o->config_len ? o->config : NULL, o->config_len);
    if (rc != SWB_OK)
        return rc;
    int timeout = o->timeout_ms ? o->timeout_ms : 10000;
    int64_t deadline = swbi_now_ms() + timeout;
    swb_msg_t m = {0};
    rc = peeri_wait_reply(p, h.id, &m, timeout);
    if (rc != SWB_OK) {
        if (m.type == SWB_MSG_ERROR && m.text[0])
            swb_log(SWB_LOG_WARN, "spawn %s: %s", o->plugin, m.text);
        swb_msg_close(&m);
        return rc;
    }
    rc = parse_children(&m, out, cap, n);
    swb_msg_close(&m);
    if (rc != SWB_OK)
        return rc;

    /* Wait until each child has said HELLO, so the caller can send to it at once. */
    size_t ready = 0;
    char seen[256] = {0};
    size_t want = *n < sizeof seen ? *n : sizeof seen;
    while (ready < want) {
        rc = peeri_read_owed(p, h.id, &m, deadline); /* READY comes from the broker we asked */
        if (rc != SWB_OK)
            return rc;
        int mine = -1;
        if (m.type == SWB_MSG_EVENT)
            for (size_t i = 0; i < want; i++)
                if (strcmp(out[i].name, m.name) == 0)
                    mine = (int)i;
        if (mine >= 0 && m.event == SWB_EVENT_READY) {
            if (!seen[mine]) {
                seen[mine] = 1;
                ready++;
            }
            swb_msg_close(&m);
            continue;
        }
        int died = mine >= 0 && m.event == SWB_EVENT_EXIT;
        peeri_stash(p, &m); /* the caller sees every other message, including the exit */
        if (died)
            return SWB_E_SPAWN;
    }
    return SWB_OK;
}

static int control(swb_peer_t *p, const char *child, int has_sig, int sig)
{
    if (!p || !child || !*child || strlen(child) > SWB_MAX_NAME)
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_KILL);
    SWB_SET(&h, SWB_F_ID);
    h.id = peeri_next_id(p);
    swb_header_set_str(&h, SWB_F_NAME, child);
    if (has_sig) {
        SWB_SET(&h, SWB_F_SIGNAL);
        h.signal = (uint32_t)sig;
    }
    int rc = peeri_send(p, &h, NULL, 0);
    if (rc != SWB_OK)
        return rc;
    swb_msg_t m = {0};
    rc = peeri_wait_reply(p, h.id, &m, 5000);
    swb_msg_close(&m);
    return rc;
}

int swb_kill(swb_peer_t *p, const char *child, int sig)
{
    return control(p, child, 1, sig ? sig : SIGTERM);
}

int swb_disconnect(swb_peer_t *p, const char *child)
{
    return control(p, child, 0, 0);
}

static int is_exit_of(const swb_msg_t *m, const void *child)
{
    return m->type == SWB_MSG_EVENT && m->event == SWB_EVENT_EXIT &&
           strcmp(m->name, (const char *)child) == 0;
}

int swb_wait_exit(swb_peer_t *p, const char *child, int *code, int *sig, int timeout_ms)
{
    if (!p || !child)
        return SWB_E_INVALID;
    swb_msg_t m = {0};
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    /* The EXIT is owed by the broker we have now: if it goes, nothing will send it. */
    int rc = peeri_wait_owed(p, peeri_next_id(p), is_exit_of, child, &m, deadline);
    if (rc == SWB_OK) {
        if (code)
            *code = m.code;
        if (sig)
            *sig = m.signal;
    }
    swb_msg_close(&m);
    return rc;
}

static int request(swb_peer_t *p, int cmd, const char *parent, const char *group, int has_count,
                   uint32_t count, uint64_t *id)
{
    if (!p || (group && strlen(group) > SWB_MAX_NAME) || (parent && strlen(parent) > SWB_MAX_NAME))
        return SWB_E_INVALID;
    swb_header_t h;
    swb_header_init(&h, (swb_cmd_t)cmd);
    SWB_SET(&h, SWB_F_ID);
    h.id = peeri_next_id(p);
    if (group && *group)
        swb_header_set_str(&h, SWB_F_NAME, group);
    if (parent && *parent)
        swb_header_set_str(&h, SWB_F_PARENT, parent);
    if (has_count) {
        SWB_SET(&h, SWB_F_COUNT);
        h.count = count;
    }
    *id = h.id;
    int rc = peeri_send(p, &h, NULL, 0);
    if (rc != SWB_OK)
        return rc;
    swb_msg_t m = {0};
    rc = peeri_wait_reply(p, h.id, &m, 10000);
    swb_msg_close(&m);
    return rc;
}

static int is_reloaded(const swb_msg_t *m, const void *arg)
{
    (void)arg;
    return m->type == SWB_MSG_EVENT && m->event == SWB_EVENT_RELOADED;
}

int swb_reload(swb_peer_t *p, const char *group, int timeout_ms)
{
    uint64_t id;
    int64_t deadline = timeout_ms < 0 ? -1 : swbi_now_ms() + timeout_ms;
    int rc = request(p, SWB_CMD_RELOAD, NULL, group, 0, 0, &id);
    if (rc != SWB_OK)
        return rc;
    swb_msg_t m = {0};
    rc = peeri_wait_owed(p, id, is_reloaded, NULL, &m, deadline);
    if (rc == SWB_OK)
        rc = m.code;
    swb_msg_close(&m);
    return rc;
}

int swb_scale(swb_peer_t *p, const char *group, uint32_t count)
{
    if (!group || !*group)
        return SWB_E_INVALID;
    uint64_t id;
    return request(p, SWB_CMD_SCALE, NULL, group, 1, count, &id);
}

int swb_request_reload(swb_peer_t *p, const char *parent, const char *group)
{
    uint64_t id;
    return request(p, SWB_CMD_RELOAD, parent, group, 0, 0, &id);
}

int swb_request_scale(swb_peer_t *p, const char *parent, const char *group, uint32_t count)
{
    if (!group || !*group)
        return SWB_E_INVALID;
    uint64_t id;
    return request(p, SWB_CMD_SCALE, parent, group, 1, count, &id);
}
