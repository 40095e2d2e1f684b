/*
 * swb_run.c - the measured Switchboard path: an embedded broker, `sum` workers started with
 * swb_spawn (threads over inproc, or processes over ipc in a private directory), and a client
 * that keeps K tasks outstanding with swb_submit / swb_wait_any and times every task.
 *
 * The broker thread is found by name ("swb-broker", if the runtime names it) or as the one
 * thread swb_broker_start adds that is not ZeroMQ's own, so its CPU can be read on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "bench.h"
#include "idtab.h"
#include "switchboard.h"

#define MAX_THREADS 8192
#define SPAWN_CHUNK 256

static pid_t find_broker_thread(const pid_t *before, size_t n_before)
{
    static pid_t now[MAX_THREADS];
    size_t n = bench_list_threads(now, MAX_THREADS);
    pid_t found = 0;
    int candidates = 0;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        bench_thread_name(now[i], name, sizeof name);
        if (strcmp(name, "swb-broker") == 0)
            return now[i];
        int old = 0;
        for (size_t j = 0; j < n_before && !old; j++)
            old = before[j] == now[i];
        if (!old && strncmp(name, "ZMQbg", 5) != 0) {
            found = now[i];
            candidates++;
        }
    }
    return candidates == 1 ? found : 0;
}

int bench_run_switchboard(const bench_cfg_t *c, bench_result_t *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->impl, sizeof r->impl, "switchboard");
    int rc = -1;
    char dir[64] = "", ep[128];
    const char *eps[1] = {ep};
    swb_broker_t *b = NULL;
    swb_peer_t *p = NULL;
    swb_child_t *kids = calloc(c->workers, sizeof *kids);
    uint64_t *lat = malloc((size_t)c->tasks * sizeof *lat);
    idtab_t tab = {0};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    swb_msg_t m = {0};
    static pid_t before[MAX_THREADS];
    if (!kids || !lat || idtab_init(&tab, c->inflight) != 0)
        goto out;

    swb_broker_opts_t bo = {.no_default = 1,
                            .max_queue = c->inflight * 2 > 10000 ? c->inflight * 2 : 10000,
                            .worker_window = c->window};
    if (c->transport == BT_IPC) {
        snprintf(dir, sizeof dir, "/tmp/swb-bench-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            dir[0] = '\0';
            goto out;
        }
        snprintf(ep, sizeof ep, "ipc://%s/broker.sock", dir);
        bo.endpoints = eps;
        bo.n_endpoints = 1;
    }
    size_t n_before = 0;
    int e;
    if ((e = swb_broker_new(&b, &bo)) != SWB_OK ||
        (n_before = bench_list_threads(before, MAX_THREADS), e = swb_broker_start(b)) != SWB_OK) {
        fprintf(stderr, "swb-bench: broker: %s\n", swb_strerror(e));
        goto out;
    }
    pid_t broker_tid = find_broker_thread(before, n_before);

    swb_peer_opts_t po = {.name = "bench", .connect_timeout_ms = 10000};
    if (c->transport == BT_IPC) {
        /* Over ipc like the workers, sharing the broker's I/O thread as the baseline's client
         * shares its broker's. */
        po.endpoint = ep;
        po.zmq_ctx = swb_broker_zmq_ctx(b);
    } else
        po.broker = b;
    if ((e = swb_peer_new(&p, &po)) != SWB_OK) {
        fprintf(stderr, "swb-bench: client: %s\n", swb_strerror(e));
        goto out;
    }
    /* swb_spawn takes at most SPAWN_CHUNK children a call: start the rest in more calls. */
    size_t got = 0;
    for (uint32_t chunk = 0; got < c->workers; chunk++) {
        char name[32];
        snprintf(name, sizeof name, "sum%u", chunk);
        uint32_t want = c->workers - (uint32_t)got;
        swb_spawn_opts_t so = {.plugin = "sum",
                               .name = name,
                               .mode =
                                   c->transport == BT_IPC ? SWB_CHILD_PROCESS : SWB_CHILD_THREAD,
                               .count = want > SPAWN_CHUNK ? SPAWN_CHUNK : want,
                               .capacity = c->capacity,
                               .timeout_ms = 60000};
        size_t n = 0;
        if ((e = swb_spawn(p, &so, kids + got, c->workers - got, &n)) != SWB_OK || n != so.count) {
            fprintf(stderr, "swb-bench: spawn %u sum workers: %s (after %zu were ready)\n",
                    c->workers, swb_strerror(e), got);
            goto out;
        }
        got += n;
    }

    uint32_t total = c->warmup + c->tasks, submitted = 0, done = 0;
    uint64_t t_start = 0, cpu_start = 0, brk_start = 0, wrk_start = 0;
    if (c->warmup == 0) {
        t_start = bench_now_ns();
        cpu_start = bench_self_cpu_ns();
        brk_start = broker_tid ? bench_thread_cpu_ns(broker_tid) : 0;
    }
    for (size_t i = 0; c->warmup == 0 && c->transport == BT_IPC && i < got; i++)
        wrk_start += bench_proc_cpu_ns(kids[i].pid);
    while (done < total) {
        while (submitted < total && submitted - done < c->inflight) {
            bench_pack_task(&sb);
            uint64_t id, t0 = bench_now_ns();
            if ((e = swb_submit(p, "sum", sb.data, sb.size, NULL, &id)) != SWB_OK) {
                fprintf(stderr, "swb-bench: submit: %s\n", swb_strerror(e));
                goto out;
            }
            idtab_put(&tab, id, t0, submitted++);
        }
        e = swb_wait_any(p, &m, 10000);
        uint64_t t1 = bench_now_ns(), t0;
        uint32_t seq;
        if (e == SWB_E_TIMEOUT || idtab_take(&tab, m.id, &t0, &seq) != 0) {
            fprintf(stderr, "swb-bench: wait: %s\n", swb_strerror(e));
            goto out;
        }
        if (seq >= c->warmup) {
            lat[seq - c->warmup] = t1 - t0;
            if (e != SWB_OK || bench_check_reply(m.body, m.len) != 0)
                r->errors++;
        }
        if (++done == c->warmup) {
            t_start = bench_now_ns();
            cpu_start = bench_self_cpu_ns();
            brk_start = broker_tid ? bench_thread_cpu_ns(broker_tid) : 0;
            for (size_t i = 0; c->transport == BT_IPC && i < got; i++)
                wrk_start += bench_proc_cpu_ns(kids[i].pid);
        }
    }
    uint64_t wall = bench_now_ns() - t_start;
    uint64_t cpu = bench_self_cpu_ns() - cpu_start;
    uint64_t brk = broker_tid ? bench_thread_cpu_ns(broker_tid) - brk_start : 0;
    uint64_t wrk = 0;
    for (size_t i = 0; c->transport == BT_IPC && i < got; i++)
        wrk += bench_proc_cpu_ns(kids[i].pid);
    wrk -= wrk_start;
    bench_percentiles(lat, c->tasks, r);
    bench_finish(r, c, wall, cpu, brk, broker_tid != 0, wrk);
    rc = 0;
out:
    swb_msg_close(&m);
    swb_peer_destroy(&p);
    swb_broker_destroy(&b);
    if (dir[0])
        rmdir(dir);
    msgpack_sbuffer_destroy(&sb);
    idtab_free(&tab);
    free(lat);
    free(kids);
    return rc;
}
