/*
 * broker_stats.c - the body of the broker's STATS reply: a msgpack map of counters and one
 * entry per peer. Built with msgpack-c's packer: STATS is rare, clarity beats speed here.
 *
 * Layer: broker; uses: dispatch (its services and counters), supervise, common.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_int.h"

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    pack_str(pk, k);
    msgpack_pack_uint64(pk, v);
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case SWB_KIND_THREAD:
        return "thread";
    case SWB_KIND_PROCESS:
        return "process";
    case SWB_KIND_REMOTE:
        return "remote";
    default:
        return "client";
    }
}

/* CPU time and resident memory of a peer that is a process of this machine other than ours
 * (what pm2 monit shows); 0 when it is not one, or is gone. A thread worker's are this
 * process's, and a tcp peer's pid names a process of another machine. */
static int proc_usage(const reg_peer_t *p, uint64_t *cpu_ms, uint64_t *rss_kb)
{
    if (p->remote || p->pid <= 0 || p->pid == (int)getpid())
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces and parentheses: from the last ')'.
     * utime and stime are fields 14 and 15, rss (pages) field 24. */
    const char *q = strrchr(buf, ')');
    unsigned long long ut, st;
    long long rss;
    if (!q || sscanf(q + 2,
                     "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                     "%*d %*u %*u %lld",
                     &ut, &st, &rss) != 3)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    *cpu_ms = (ut + st) * 1000ull / (uint64_t)(hz > 0 ? hz : 100);
    *rss_kb = rss > 0 ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024 : 0;
    return 1;
}

static void pack_peer(msgpack_packer *pk, const swb_broker_t *b, const reg_peer_t *p)
{
    uint64_t cpu_ms = 0, rss_kb = 0;
    int usage = proc_usage(p, &cpu_ms, &rss_kb);
    msgpack_pack_map(pk, usage ? 17 : 15);
    pack_str(pk, "name");
    pack_str(pk, p->name);
    pack_str(pk, "kind");
    pack_str(pk, kind_name(p->kind));
    pack_kv_u64(pk, "pid", (uint64_t)p->pid);
    pack_str(pk, "services");
    msgpack_pack_array(pk, p->n_services);
    for (uint32_t i = 0; i < p->n_services; i++)
        pack_str(pk, p->services[i]);
    pack_str(pk, "parent");
    pack_str(pk, p->parent);
    pack_kv_u64(pk, "capacity", p->capacity);
    pack_kv_u64(pk, "inflight", p->inflight);
    pack_kv_u64(pk, "load", p->load);
    pack_kv_u64(pk, "last_heartbeat_ms", (uint64_t)(b->now.ms - p->last_seen_ms));
    pack_kv_u64(pk, "uptime_ms", (uint64_t)(b->now.ms - p->since_ms));
    pack_kv_u64(pk, "msgs_in", p->msgs_in);
    pack_kv_u64(pk, "msgs_out", p->msgs_out);
    pack_kv_u64(pk, "done", p->done);
    /* The adaptive window: tasks per slot it may hold now, from its measured time per task. */
    pack_kv_u64(pk, "window", p->capacity ? dispatch_worker_window(b->disp, p) : 0);
    pack_kv_u64(pk, "task_us", p->task_ns / 1000);
    if (usage) {
        pack_kv_u64(pk, "cpu_ms", cpu_ms);
        pack_kv_u64(pk, "rss_kb", rss_kb);
    }
}

static void pack_service(msgpack_packer *pk, const service_t *s)
{
    msgpack_pack_map(pk, 13);
    pack_str(pk, "name");
    pack_str(pk, s->name);
    pack_kv_u64(pk, "workers", s->n_workers);
    pack_kv_u64(pk, "queued", s->n_queue);
    pack_kv_u64(pk, "inflight", s->inflight);
    pack_kv_u64(pk, "submitted", s->submitted);
    pack_kv_u64(pk, "done", s->done);
    pack_kv_u64(pk, "failed", s->failed);
    pack_kv_u64(pk, "retried", s->retried);
    pack_kv_u64(pk, "duplicates", s->duplicates);
    pack_kv_u64(pk, "rejected", s->rejected);
    pack_str(pk, "failed_by");
    uint32_t n = 0;
    for (int i = 1; i < 64; i++)
        n += s->failed_by[i] != 0;
    msgpack_pack_map(pk, n);
    for (int i = 1; i < 64; i++) {
        if (s->failed_by[i])
            pack_kv_u64(pk, swb_errname(-i), s->failed_by[i]);
    }
    pack_kv_u64(pk, "p50_us", svc_latency_pct(s, 0.50));
    pack_kv_u64(pk, "p99_us", svc_latency_pct(s, 0.99));
}

int broker_stats_encode(swb_broker_t *b, char **out, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    msgpack_pack_map(&pk, 29);
    pack_kv_u64(&pk, "uptime_ms", (uint64_t)(b->now.ms - b->started_ms));
    pack_kv_u64(&pk, "peer_count", registry_count(b->reg));
    pack_kv_u64(&pk, "children", (uint64_t)supervisor_count(b->sup));
    pack_kv_u64(&pk, "routed", b->n.routed);
    pack_kv_u64(&pk, "errors_sent", b->n.errors_sent);
    pack_kv_u64(&pk, "malformed", b->n.malformed);
    pack_kv_u64(&pk, "undeliverable", b->n.undeliverable + dispatch_stats(b->disp)->unsent);
    pack_kv_u64(&pk, "peers_joined", b->n.peers_joined);
    pack_kv_u64(&pk, "peers_left", b->n.peers_left);
    pack_kv_u64(&pk, "peers_lost", b->n.peers_lost);
    pack_kv_u64(&pk, "children_started", b->n.children_started);
    pack_kv_u64(&pk, "children_exited", b->n.children_exited);
    pack_kv_u64(&pk, "restarts", b->n.restarts);
    pack_kv_u64(&pk, "gave_up", b->n.gave_up);
    pack_kv_u64(&pk, "limit_kills", b->n.limit_kills);
    pack_kv_u64(&pk, "hung_kills", b->n.hung_kills);
    pack_kv_u64(&pk, "reloads", b->n.reloads);
    pack_kv_u64(&pk, "loop_stalls", b->n.stalls);
    pack_kv_u64(&pk, "fds_open", b->fds.open > 0 ? (uint64_t)b->fds.open : 0);
    pack_kv_u64(&pk, "fd_limit", (uint64_t)b->fds.limit);
    pack_kv_u64(&pk, "accepting", !b->fds.paused);
    pack_kv_u64(&pk, "accept_pauses", b->fds.pauses);
    pack_kv_u64(&pk, "connections_refused", broker_accept_refused());
    pack_kv_u64(&pk, "heap_mb", broker_heap_bytes() >> 20);
    pack_kv_u64(&pk, "max_memory_mb", b->mem.max_mb);
    pack_kv_u64(&pk, "memory_pauses", b->mem.pauses);
    pack_kv_u64(&pk, "tasks", dispatch_tasks_known(b->disp));
    services_t *svcs = dispatch_services(b->disp);
    pack_str(&pk, "services");
    msgpack_pack_array(&pk, services_count(svcs));
    for (uint32_t i = 0; i < services_count(svcs); i++)
        pack_service(&pk, services_at(svcs, i));
    pack_str(&pk, "peers");
    msgpack_pack_array(&pk, registry_count(b->reg));
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (p->used)
            pack_peer(&pk, b, p);
    }
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return SWB_E_NOMEM;
    }
    *len = sb.size; /* release resets size */
    *out = msgpack_sbuffer_release(&sb);
    return SWB_OK;
}
