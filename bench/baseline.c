/*
 * baseline.c - the raw ZeroMQ path that Switchboard is measured against: the transport ceiling.
 *
 * One ROUTER broker thread; DEALER workers (threads over inproc, or processes over ipc that
 * are swb-bench itself in --baseline-worker mode) and one DEALER client. The broker forwards
 * each task by identity to the worker with the fewest tasks in flight and each result back
 * to the client, moving the frames. The client packs {"a":1,"b":2} with msgpack, the worker
 * unpacks it with msgpack_unpack_next, adds, and packs {"sum":3}. Nothing else: no header,
 * no heartbeats, no queues, no capacity limit, no error handling beyond stopping the run.
 *
 * Frames: client -> broker [task id][body]; broker -> worker [client rid][task id][body];
 * worker -> broker [client rid][task id][reply]; broker -> client [task id][reply]. Routing
 * ids are set explicitly ("w<n>" for workers, "c" for the client) so the broker needs no map.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <zmq.h>

#include "bench.h"

typedef struct {
    void *ctx;
    const char *endpoint;
    uint32_t n_workers;
    int ready;  /* workers that said READY (atomic) */
    pid_t tid;  /* the broker thread (atomic) */
    int failed; /* (atomic) */
} bl_broker_t;

static int recv_part(void *s, zmq_msg_t *m)
{
    zmq_msg_init(m);
    while (zmq_msg_recv(m, s, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static int send_part(void *s, zmq_msg_t *m, int more)
{
    while (zmq_msg_send(m, s, more ? ZMQ_SNDMORE : 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static void *bl_broker_main(void *arg)
{
    bl_broker_t *bk = arg;
    __atomic_store_n(&bk->tid, bench_gettid(), __ATOMIC_RELEASE);
    void *s = zmq_socket(bk->ctx, ZMQ_ROUTER);
    uint32_t *inflight = calloc(bk->n_workers, sizeof *inflight);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (!inflight || zmq_bind(s, bk->endpoint) != 0) {
        __atomic_store_n(&bk->failed, 1, __ATOMIC_RELEASE);
        goto out;
    }
    __atomic_store_n(&bk->ready, -1, __ATOMIC_RELEASE); /* bound */
    int registered = 0;
    zmq_msg_t rid, f2, f3, f4;
    for (;;) {
        if (recv_part(s, &rid) || recv_part(s, &f2))
            break;
        const char *r = zmq_msg_data(&rid);
        if (zmq_msg_size(&rid) > 1 && r[0] == 'w') {
            uint32_t w = (uint32_t)atoi(r + 1);
            if (!zmq_msg_more(&f2)) { /* READY */
                zmq_msg_close(&rid);
                zmq_msg_close(&f2);
                __atomic_store_n(&bk->ready, ++registered, __ATOMIC_RELEASE);
                continue;
            }
            /* A result: [client rid][task id][reply] -> client [task id][reply]. */
            recv_part(s, &f3);
            recv_part(s, &f4);
            if (w < bk->n_workers && inflight[w])
                inflight[w]--;
            zmq_msg_close(&rid);
            send_part(s, &f2, 1);
            send_part(s, &f3, 1);
            send_part(s, &f4, 0);
            continue;
        }
        if (!zmq_msg_more(&f2)) { /* the client says stop: tell every worker */
            zmq_msg_close(&rid);
            zmq_msg_close(&f2);
            for (uint32_t w = 0; w < bk->n_workers; w++) {
                char name[16];
                int len = snprintf(name, sizeof name, "w%u", w);
                zmq_send(s, name, (size_t)len, ZMQ_SNDMORE);
                zmq_send(s, "Q", 1, 0);
            }
            break;
        }
        /* A task from the client: [task id][body] -> least busy worker. */
        recv_part(s, &f3);
        uint32_t best = 0;
        for (uint32_t w = 1; w < bk->n_workers; w++)
            if (inflight[w] < inflight[best])
                best = w;
        inflight[best]++;
        char name[16];
        int len = snprintf(name, sizeof name, "w%u", best);
        zmq_send(s, name, (size_t)len, ZMQ_SNDMORE);
        send_part(s, &rid, 1);
        send_part(s, &f2, 1);
        send_part(s, &f3, 0);
    }
out:
    free(inflight);
    zmq_close(s);
    return NULL;
}

/* Serve tasks on a connected DEALER until told to stop. */
static void bl_serve(void *s)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    zmq_msg_t rid, id, body;
    for (;;) {
        if (recv_part(s, &rid))
            break;
        if (!zmq_msg_more(&rid)) { /* "Q" */
            zmq_msg_close(&rid);
            break;
        }
        recv_part(s, &id);
        recv_part(s, &body);
        int64_t a = 0, b = 0;
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        if (msgpack_unpack_next(&u, zmq_msg_data(&body), zmq_msg_size(&body), NULL) ==
                MSGPACK_UNPACK_SUCCESS &&
            u.data.type == MSGPACK_OBJECT_MAP) {
            for (uint32_t i = 0; i < u.data.via.map.size; i++) {
                const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
                if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 1)
                    continue;
                int64_t v = kv->val.via.i64;
                if (kv->key.via.str.ptr[0] == 'a')
                    a = v;
                else if (kv->key.via.str.ptr[0] == 'b')
                    b = v;
            }
        }
        msgpack_unpacked_destroy(&u);
        zmq_msg_close(&body);
        msgpack_sbuffer_clear(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 1);
        msgpack_pack_str_with_body(&pk, "sum", 3);
        msgpack_pack_int64(&pk, a + b);
        send_part(s, &rid, 1);
        send_part(s, &id, 1);
        zmq_send(s, sb.data, sb.size, 0);
    }
    msgpack_sbuffer_destroy(&sb);
}

static void *bl_connect(void *ctx, const char *endpoint, const char *rid)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, strlen(rid));
    if (zmq_connect(s, endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

typedef struct {
    void *ctx;
    const char *endpoint;
    uint32_t index;
} bl_worker_arg_t;

static void *bl_worker_thread(void *arg)
{
    bl_worker_arg_t *wa = arg;
    char rid[16];
    snprintf(rid, sizeof rid, "w%u", wa->index);
    void *s = bl_connect(wa->ctx, wa->endpoint, rid);
    if (s) {
        zmq_send(s, "R", 1, 0);
        bl_serve(s);
        zmq_close(s);
    }
    return NULL;
}

int bench_baseline_worker_main(const char *arg)
{
    /* arg is "<index>@<endpoint>" */
    char *at = strchr(arg, '@');
    if (!at)
        return 2;
    char rid[16];
    snprintf(rid, sizeof rid, "w%u", (unsigned)atoi(arg));
    void *ctx = zmq_ctx_new();
    void *s = bl_connect(ctx, at + 1, rid);
    if (!s)
        return 1;
    zmq_send(s, "R", 1, 0);
    bl_serve(s);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

static pid_t spawn_worker_process(const char *endpoint, uint32_t index)
{
    char arg[256];
    snprintf(arg, sizeof arg, "%u@%s", index, endpoint);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    pid_t ppid = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != ppid)
            _exit(127);
        execl(exe, exe, "--baseline-worker", arg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int bench_run_baseline(const bench_cfg_t *c, bench_result_t *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->impl, sizeof r->impl, "baseline");
    int rc = -1;
    char dir[64] = "", ep[128];
    void *ctx = zmq_ctx_new(), *cl = NULL;
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 4 * BENCH_MAX_WORKERS);
    pthread_t bt, *wt = calloc(c->workers, sizeof *wt);
    bl_worker_arg_t *wa = calloc(c->workers, sizeof *wa);
    pid_t *pids = calloc(c->workers, sizeof *pids);
    uint64_t *lat = malloc((size_t)c->tasks * sizeof *lat);
    uint64_t *t0s = malloc((size_t)(c->warmup + c->tasks) * sizeof *t0s);
    uint32_t n_threads = 0, n_procs = 0;
    int broker_up = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (!wt || !wa || !pids || !lat || !t0s)
        goto out;
    if (c->transport == BT_IPC) {
        snprintf(dir, sizeof dir, "/tmp/swb-bench-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            dir[0] = '\0';
            goto out;
        }
        snprintf(ep, sizeof ep, "ipc://%s/baseline.sock", dir);
    } else
        snprintf(ep, sizeof ep, "inproc://swb-bench-baseline");

    bl_broker_t bk = {.ctx = ctx, .endpoint = ep, .n_workers = c->workers};
    if (pthread_create(&bt, NULL, bl_broker_main, &bk) != 0)
        goto out;
    broker_up = 1;
    uint64_t deadline = bench_now_ns() + 60ull * 1000000000u;
    while (__atomic_load_n(&bk.ready, __ATOMIC_ACQUIRE) == 0 &&
           !__atomic_load_n(&bk.failed, __ATOMIC_ACQUIRE))
        usleep(1000);
    if (__atomic_load_n(&bk.failed, __ATOMIC_ACQUIRE)) {
        fprintf(stderr, "swb-bench: baseline broker cannot bind %s\n", ep);
        goto out;
    }
    for (uint32_t i = 0; i < c->workers; i++) {
        if (c->transport == BT_IPC) {
            if ((pids[i] = spawn_worker_process(ep, i)) < 0)
                goto out;
            n_procs++;
        } else {
            wa[i] = (bl_worker_arg_t){.ctx = ctx, .endpoint = ep, .index = i};
            if (pthread_create(&wt[i], NULL, bl_worker_thread, &wa[i]) != 0)
                goto out;
            n_threads++;
        }
    }
    while (__atomic_load_n(&bk.ready, __ATOMIC_ACQUIRE) < (int)c->workers) {
        if (bench_now_ns() > deadline) {
            fprintf(stderr, "swb-bench: baseline workers did not start\n");
            goto out;
        }
        usleep(1000);
    }
    if (!(cl = bl_connect(ctx, ep, "c")))
        goto out;
    pid_t broker_tid = __atomic_load_n(&bk.tid, __ATOMIC_ACQUIRE);

    uint32_t total = c->warmup + c->tasks, submitted = 0, done = 0;
    uint64_t t_start = 0, cpu_start = 0, brk_start = 0, wrk_start = 0;
    zmq_msg_t idm, reply;
    for (;;) {
        if (done == c->warmup) {
            t_start = bench_now_ns();
            cpu_start = bench_self_cpu_ns();
            brk_start = bench_thread_cpu_ns(broker_tid);
            for (uint32_t i = 0; i < n_procs; i++)
                wrk_start += bench_proc_cpu_ns(pids[i]);
        }
        if (done == total)
            break;
        while (submitted < total && submitted - done < c->inflight) {
            bench_pack_task(&sb);
            t0s[submitted] = bench_now_ns();
            zmq_send(cl, &submitted, sizeof submitted, ZMQ_SNDMORE);
            zmq_send(cl, sb.data, sb.size, 0);
            submitted++;
        }
        if (recv_part(cl, &idm) || recv_part(cl, &reply))
            goto out;
        uint64_t t1 = bench_now_ns();
        uint32_t seq;
        memcpy(&seq, zmq_msg_data(&idm), sizeof seq);
        if (seq >= c->warmup) {
            lat[seq - c->warmup] = t1 - t0s[seq];
            if (bench_check_reply(zmq_msg_data(&reply), zmq_msg_size(&reply)) != 0)
                r->errors++;
        }
        zmq_msg_close(&idm);
        zmq_msg_close(&reply);
        done++;
    }
    uint64_t wall = bench_now_ns() - t_start;
    uint64_t cpu = bench_self_cpu_ns() - cpu_start;
    uint64_t brk = bench_thread_cpu_ns(broker_tid) - brk_start;
    uint64_t wrk = 0;
    for (uint32_t i = 0; i < n_procs; i++)
        wrk += bench_proc_cpu_ns(pids[i]);
    wrk -= wrk_start;
    bench_percentiles(lat, c->tasks, r);
    bench_finish(r, c, wall, cpu, brk, 1, wrk);
    rc = 0;
out:
    if (broker_up) {
        /* A one-frame message from the client stops the broker, which stops the workers. */
        void *stopper = cl ? cl : bl_connect(ctx, ep, "c");
        if (stopper)
            zmq_send(stopper, "X", 1, 0);
        pthread_join(bt, NULL);
        if (stopper && stopper != cl)
            zmq_close(stopper);
    }
    for (uint32_t i = 0; i < n_threads; i++)
        pthread_join(wt[i], NULL);
    for (uint32_t i = 0; i < n_procs; i++) {
        int st;
        if (rc != 0)
            kill(pids[i], SIGKILL);
        waitpid(pids[i], &st, 0);
    }
    if (cl)
        zmq_close(cl);
    zmq_ctx_term(ctx);
    if (dir[0]) {
        char sock[160];
        snprintf(sock, sizeof sock, "%s/baseline.sock", dir);
        unlink(sock);
        rmdir(dir);
    }
    msgpack_sbuffer_destroy(&sb);
    free(wt);
    free(wa);
    free(pids);
    free(lat);
    free(t0s);
    return rc;
}
