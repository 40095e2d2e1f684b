/*
 * broker.c - the broker's lifecycle and its loop.
 *
 * One ROUTER socket bound to every endpoint, one thread, zmq_poll. Sends are always
 * ZMQ_DONTWAIT with ZMQ_ROUTER_MANDATORY, so a slow or gone peer becomes an ERROR for the
 * sender instead of a silent drop or a stalled loop. A self-pipe wakes the loop for stop
 * requests (so stop is async-signal-safe) and for ended worker threads.
 *
 * While messages flow, the loop waits on the router alone with a blocking receive of at most
 * BUSY_WAIT_MS (one poll(2); zmq_poll costs three system calls per wake-up, which was a third
 * of the broker's CPU at one task in flight) and looks at the other descriptors, without
 * waiting, once per BUSY_WAIT_MS. After BUSY_WAIT_MS without a message it goes back to zmq_poll
 * over everything.
 *
 * Layer: broker; uses: dispatch, supervise, common; called by: embed (broker_new, from
 * swb_broker_new) and programs through the public swb_broker_* calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "broker_int.h"

#define RECV_BATCH   256 /* messages per poll turn, so timers still run under a flood */
#define BUSY_WAIT_MS 2
#define CATCH_UP_MAX 100000 /* messages read after a stall before liveness is judged */

static void free_endpoints(swb_broker_t *b)
{
    for (size_t i = 0; i < b->n_endpoints; i++) {
        const char *path = swbi_ipc_path(b->endpoints[i]);
        if (path && b->lock_fds[i] >= 0) {
            /* 4.3.4 leaves the socket file behind; it is ours while we hold the lock. */
            unlink(path);
            char lock[4200];
            snprintf(lock, sizeof lock, "%s.lock", path);
            unlink(lock);
        }
        if (b->lock_fds[i] >= 0)
            close(b->lock_fds[i]);
        free(b->endpoints[i]);
    }
    free(b->endpoints);
    free(b->lock_fds);
    b->endpoints = NULL;
    b->n_endpoints = 0;
}

static int bind_endpoint(swb_broker_t *b, const char *ep)
{
    size_t i = b->n_endpoints;
    b->endpoints[i] = strdup(ep);
    b->lock_fds[i] = -1;
    if (!b->endpoints[i])
        return SWB_E_NOMEM;
    b->n_endpoints++;
    int rc = swbi_ipc_prepare(ep);
    if (rc == SWB_OK)
        rc = swbi_ipc_lock(ep, &b->lock_fds[i]);
    if (rc != SWB_OK)
        return rc;
    if (zmq_bind(b->router, ep) != 0) {
        swb_log(SWB_LOG_ERROR, "bind %s: %s", ep, zmq_strerror(errno));
        return SWB_E_SYS;
    }
    if (strncmp(ep, "tcp://", 6) == 0) {
        /* Keep the endpoint as bound: a wildcard port ("tcp://host:*") becomes the real one,
         * which is what children and swb_broker_endpoint must give to connect to. */
        char last[512];
        size_t sz = sizeof last;
        char *bound =
            zmq_getsockopt(b->router, ZMQ_LAST_ENDPOINT, last, &sz) == 0 ? strdup(last) : NULL;
        if (bound) {
            free(b->endpoints[i]);
            b->endpoints[i] = bound;
        }
    }
    if (!b->public_ep && strncmp(ep, "inproc://", 9) != 0)
        b->public_ep = b->endpoints[i];
    return SWB_OK;
}

static int set_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

int broker_new(swb_broker_t **out, const swb_broker_opts_t *opts,
               const struct child_ops *thread_ops, void *thread_ctx)
{
    if (!out)
        return SWB_E_INVALID;
    *out = NULL;
    swb_broker_opts_t o;
    int rc0 = swbi_opts_take(&o, sizeof o, opts, SWBI_OPTS_END(swb_broker_opts_t, reserved0),
                             "swb_broker_opts_t");
    if (rc0 != SWB_OK)
        return rc0;
    *out = NULL;
    swb_broker_t *b = calloc(1, sizeof *b);
    if (!b)
        return SWB_E_NOMEM;
    b->wake[0] = b->wake[1] = -1;
    b->shutdown_req_ms = -1;
    b->hb_ivl_ms = o.heartbeat_ivl_ms ? o.heartbeat_ivl_ms : 1000;
    b->hb_liveness = o.heartbeat_liveness ? o.heartbeat_liveness : 3;
    b->max_msg = o.max_msg_size ? o.max_msg_size : 16u << 20;
    if (b->max_msg < SWB_MAX_HEADER + SWBI_INLINE_MAX) /* a header with a small inline body */
        b->max_msg = SWB_MAX_HEADER + SWBI_INLINE_MAX;
    b->max_peers = o.max_peers ? o.max_peers : 4096;
    b->peer_hwm = o.peer_hwm ? o.peer_hwm : 10000;
    b->mem.max_mb = o.max_memory_mb;
    broker_accept_init();
    b->started_ms = b->now.ms = swbi_now_ms();
    snprintf(b->plugin_dir, sizeof b->plugin_dir, "%s", swbi_plugin_dir(o.plugin_dir));
    if (swbi_worker_exe(o.worker_exe, b->worker_exe, sizeof b->worker_exe) != SWB_OK)
        b->worker_exe[0] = '\0'; /* process children will fail to spawn with a clear error */

    int rc = SWB_E_SYS;
    if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        goto fail;
    rc = registry_new(&b->reg, b->max_peers);
    if (rc != SWB_OK)
        goto fail;
    rc = SWB_E_SYS;
    b->ctx = zmq_ctx_new();
    if (!b->ctx)
        goto fail;
    /* Every worker thread has a socket in this context: libzmq's default of 1023 sockets
     * would cap a service at a few hundred thread workers. (Each socket also needs file
     * descriptors: the process's RLIMIT_NOFILE is the embedding program's to raise.) */
    zmq_ctx_set(b->ctx, ZMQ_MAX_SOCKETS, 16384);
    b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
    if (!b->router)
        goto fail;
    int64_t maxmsg = b->max_msg;
    set_int(b->router, ZMQ_ROUTER_MANDATORY, 1);
    set_int(b->router, ZMQ_LINGER, 0);
    set_int(b->router, ZMQ_SNDHWM, (int)b->peer_hwm);
    set_int(b->router, ZMQ_RCVHWM, (int)b->peer_hwm);
    zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* ZMTP heartbeats find a stopped or unplugged peer's connection even when the
     * application heartbeat is slower. */
    set_int(b->router, ZMQ_HEARTBEAT_IVL, (int)b->hb_ivl_ms);
    set_int(b->router, ZMQ_HEARTBEAT_TIMEOUT, (int)(b->hb_ivl_ms * b->hb_liveness));
    /* Only our own uid may connect over ipc (the directory is 0700 too). */
    int uid = (int)getuid();
    zmq_setsockopt(b->router, ZMQ_IPC_FILTER_UID, &uid, sizeof uid);

    size_t n = o.n_endpoints;
    b->endpoints = calloc(n + 2, sizeof *b->endpoints);
    b->lock_fds = calloc(n + 2, sizeof *b->lock_fds);
    if (!b->endpoints || !b->lock_fds) {
        rc = SWB_E_NOMEM;
        goto fail;
    }
    snprintf(b->inproc, sizeof b->inproc, "inproc://swb-broker-%p", (void *)b);
    if ((rc = bind_endpoint(b, b->inproc)) != SWB_OK)
        goto fail;
    if (o.private_ipc) {
        snprintf(b->private_dir, sizeof b->private_dir, "/tmp/swb-XXXXXX");
        if (!mkdtemp(b->private_dir)) {
            b->private_dir[0] = '\0';
            rc = SWB_E_SYS;
            goto fail;
        }
        char ep[128];
        snprintf(ep, sizeof ep, "ipc://%s/broker.sock", b->private_dir);
        if ((rc = bind_endpoint(b, ep)) != SWB_OK)
            goto fail;
    }
    if (n == 0 && !o.no_default && !o.private_ipc) {
        char def[512];
        if ((rc = swb_default_endpoint(def, sizeof def)) != SWB_OK)
            goto fail;
        if ((rc = bind_endpoint(b, def)) != SWB_OK)
            goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = bind_endpoint(b, o.endpoints[i])) != SWB_OK)
            goto fail;

    dispatch_opts_t dopt = {.max_queue = o.max_queue ? o.max_queue : 10000,
                            .max_attempts = o.max_attempts ? o.max_attempts : 3,
                            .window = o.worker_window ? o.worker_window : 64,
                            .max_services = 1024,
                            /* 2^30 at most: the task tables double up to twice this */
                            .max_tasks = !o.max_tasks             ? 100000
                                         : o.max_tasks > 1u << 30 ? 1u << 30
                                                                  : o.max_tasks,
                            .no_worker_grace = o.no_worker_grace_ms ? o.no_worker_grace_ms : 5000,
                            .hung_grace = o.hung_grace_ms ? o.hung_grace_ms : 1000};
    if ((rc = dispatch_new(&b->disp, &broker_dispatch_ops, b, b->reg, &b->now, &dopt)) != SWB_OK)
        goto fail;
    supervisor_opts_t so = {.zmq_ctx = b->ctx,
                            .inproc = b->inproc,
                            .endpoint = b->public_ep,
                            .worker_exe = b->worker_exe,
                            .plugin_dir = b->plugin_dir,
                            .wake_fd = b->wake[1],
                            .backoff_min_ms = o.restart_backoff_min_ms,
                            .backoff_max_ms = o.restart_backoff_max_ms,
                            .max_restarts = o.max_restarts,
                            .restart_period_ms = o.restart_period_ms,
                            .max_children = o.max_children,
                            .thread_ops = thread_ops,
                            .thread_ctx = thread_ctx};
    if ((rc = supervisor_new(&b->sup, &so)) != SWB_OK)
        goto fail;
    *out = b;
    return SWB_OK;
fail:
    swb_broker_destroy(&b);
    return rc;
}

static void drain_wake(swb_broker_t *b)
{
    char buf[64];
    while (read(b->wake[0], buf, sizeof buf) > 0) {
    }
}

/* Where a HELLO came from. libzmq's Peer-Address is "host:uid:gid:pid" on ipc (from the
 * socket's peer credentials), an IP address on tcp, and absent on inproc. */
static void peer_credentials(swb_broker_t *b, zmq_msg_t *m)
{
    const char *pa = zmq_msg_gets(m, "Peer-Address");
    b->msg_pid = 0;
    if (!pa) {
        b->msg_transport = BROKER_TR_INPROC;
        b->msg_pid = (int)getpid();
        return;
    }
    const char *last = strrchr(pa, ':');
    int colons = 0;
    for (const char *c = pa; *c; c++)
        colons += *c == ':';
    char *end = NULL;
    long pid = last ? strtol(last + 1, &end, 10) : 0;
    if (colons == 3 && end && *end == '\0' && pid > 0) {
        b->msg_transport = BROKER_TR_IPC;
        b->msg_pid = (int)pid;
    } else {
        b->msg_transport = BROKER_TR_TCP;
    }
}

/* Read one whole message from the router and handle it, waiting up to BUSY_WAIT_MS (the
 * router's receive timeout) when `wait` is set. Returns 0 when there was none. */
static int recv_one(swb_broker_t *b, int wait)
{
    zmq_msg_t rid, hdr, body;
    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, b->router, wait ? 0 : ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return 0;
    }
    SWBI_RECEIVED();
    if (wait)
        b->now.ms = swbi_now_ms();
    b->now.us = swbi_now_us();
    zmq_msg_init(&hdr);
    zmq_msg_init(&body);
    swbi_rid_t r = {zmq_msg_data(&rid), zmq_msg_size(&rid)};
    int has_frame = 0;
    int ok = zmq_msg_more(&rid) && zmq_msg_recv(&hdr, b->router, ZMQ_DONTWAIT) >= 0;
    if (ok && zmq_msg_more(&hdr)) {
        ok = zmq_msg_recv(&body, b->router, ZMQ_DONTWAIT) >= 0;
        has_frame = ok;
        if (ok && zmq_msg_more(&body)) {
            swbi_drain(b->router);
            ok = 0;
        }
    }
    if (!ok) {
        b->n.malformed++;
        broker_error(b, &r, SWB_E_MALFORMED, "expected [header] or [header][body]", 0, NULL);
    } else {
        swb_header_t h;
        swbi_body_t bv;
        int rc = swbi_decode_msg(&hdr, has_frame ? &body : NULL, &h, &bv);
        if (rc != SWB_OK) {
            b->n.malformed++;
            broker_error(b, &r, rc, swb_strerror(rc), 0, NULL);
        } else {
            if (h.cmd == SWB_CMD_HELLO)
                peer_credentials(b, &hdr);
            if (b->lost_pending)
                broker_drop_lost(b);
            broker_handle(b, &r, &h, bv.msg ? &bv : NULL);
        }
    }
    zmq_msg_close(&body);
    zmq_msg_close(&hdr);
    zmq_msg_close(&rid);
    return 1;
}

#define MAX_POLL 1024

static void end_children(swb_broker_t *b);

void broker_take_shutdown(swb_broker_t *b)
{
    if (__atomic_load_n(&b->shutdown_req_ms, __ATOMIC_ACQUIRE) < 0)
        return;
    int req = __atomic_exchange_n(&b->shutdown_req_ms, -1, __ATOMIC_ACQ_REL);
    if (req >= 0 && !b->shutting_down) {
        b->shutting_down = 1;
        dispatch_close(b->disp);
        b->shutdown_phase = 1;
        b->shutdown_deadline = b->now.ms + req;
        swb_log(SWB_LOG_INFO, "broker shutting down (up to %d ms)", req);
    }
}

/* The wake pipe and the children's pidfds (items 1.. of the poll set), without waiting.
 * Returns whether a child may have ended. */
static int check_fds(swb_broker_t *b, const zmq_pollitem_t *items, int n)
{
    struct pollfd fds[MAX_POLL];
    for (int i = 1; i < n; i++)
        fds[i - 1] = (struct pollfd){.fd = items[i].fd, .events = POLLIN};
    if (poll(fds, (nfds_t)(n - 1), 0) <= 0)
        return 0;
    if (fds[0].revents & POLLIN)
        drain_wake(b);
    for (int i = 0; i < n - 1; i++)
        if (fds[i].revents)
            return 1;
    return 0;
}

/* The loop was held up (a slow SPAWN, the host swapping, a debugger): what peers sent
 * meanwhile is queued, heartbeats included. Read it before anyone is judged silent, or a
 * stall of the broker's own would be blamed on healthy workers. Bounded in count and time
 * (heartbeats keep going out meanwhile); returns whether everything queued was read, and only
 * then is liveness judged in this tick. */
static int catch_up(swb_broker_t *b, int64_t late_ms)
{
    size_t n = 0;
    int64_t until = swbi_now_ms() + (int64_t)b->hb_ivl_ms;
    int drained = 0;
    while (n < CATCH_UP_MAX) {
        if (!recv_one(b, 0)) {
            drained = 1;
            break;
        }
        if (++n % 256 == 0) {
            broker_keep_alive(b);
            if (swbi_now_ms() >= until)
                break;
        }
    }
    b->now.ms = swbi_now_ms();
    b->now.us = swbi_now_us();
    b->n.stalls++;
    swb_log(late_ms > (int64_t)b->hb_ivl_ms ? SWB_LOG_WARN : SWB_LOG_DEBUG,
            "broker loop held up %lld ms: read %zu queued messages before judging liveness",
            (long long)late_ms, n);
    return drained;
}

int swb_broker_run(swb_broker_t *b)
{
    if (!b)
        return SWB_E_INVALID;
    swb_log(SWB_LOG_INFO, "broker running on %s", b->public_ep ? b->public_ep : b->inproc);
    int64_t next_tick = swbi_now_ms(), next_fd_check = 0;
    int tick_ms = b->hb_ivl_ms < 400 ? (int)b->hb_ivl_ms / 4 + 1 : 100;
    int busy_wait = BUSY_WAIT_MS;
    zmq_setsockopt(b->router, ZMQ_RCVTIMEO, &busy_wait, sizeof busy_wait);
    zmq_pollitem_t items[MAX_POLL];
    int n = 0, busy = 0;
    uint64_t sup_gen = 0;
    while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
        /* Rebuilt only when children came or went, not on every message. */
        if (!n || supervisor_gen(b->sup) != sup_gen) {
            items[0] = (zmq_pollitem_t){.socket = b->router, .events = ZMQ_POLLIN};
            items[1] = (zmq_pollitem_t){.socket = NULL, .fd = b->wake[0], .events = ZMQ_POLLIN};
            n = 2 + supervisor_poll_items(b->sup, items + 2, MAX_POLL - 2);
            sup_gen = supervisor_gen(b->sup);
        }
        int reap = 0;
        if (busy) {
            /* Blocking receives only: one that finds a message makes no system call, and one
             * that finds none goes straight to poll(2). A non-blocking receive that finds none
             * costs a poll(2) of its own. */
            busy = 0;
            for (int i = 0; i < RECV_BATCH && recv_one(b, 1); i++) {
                busy = 1;
                if (b->now.ms >= next_fd_check || b->now.ms >= next_tick)
                    break;
            }
            b->now.ms = swbi_now_ms();
            b->now.us = swbi_now_us();
            if (b->now.ms >= next_fd_check) {
                next_fd_check = b->now.ms + BUSY_WAIT_MS;
                reap = check_fds(b, items, n);
            }
        } else {
            int64_t now = swbi_now_ms();
            long timeout = next_tick > now ? (long)(next_tick - now) : 0;
            if (zmq_poll(items, n, timeout) < 0 && errno != EINTR) {
                if (errno == ETERM)
                    break;
            }
            b->now.ms = swbi_now_ms();
            b->now.us = swbi_now_us();
            if (items[0].revents & ZMQ_POLLIN)
                busy = recv_one(b, 0); /* and the rest as above */
            if (items[1].revents & ZMQ_POLLIN) {
                drain_wake(b);
                reap = 1;
            }
            for (int i = 2; i < n; i++)
                if (items[i].revents)
                    reap = 1;
        }
        broker_take_shutdown(b);
        if (reap)
            supervisor_tick(b->sup, b->now.ms, broker_sup_event, b);
        broker_shutdown_step(b);
        if (b->now.ms >= next_tick) {
            int judge = 1;
            if (b->now.ms - next_tick > tick_ms)
                judge = catch_up(b, b->now.ms - next_tick + tick_ms);
            supervisor_tick(b->sup, b->now.ms, broker_sup_event, b);
            broker_heartbeat(b, judge);
            dispatch_tick(b->disp);
            broker_reload_tick(b);
            broker_fd_guard(b);
            broker_mem_guard(b);
            next_tick = b->now.ms + tick_ms;
        }
        if (b->lost_pending) /* found by dispatch or its hooks during this pass */
            broker_drop_lost(b);
    }
    /* In this thread: worker processes die with the thread that forked them
     * (PR_SET_PDEATHSIG), so they are told to leave, and reaped, before it returns. */
    end_children(b);
    return SWB_OK;
}

static void *broker_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "swb-broker"); /* for top -H, perf and benchmarks */
    swb_broker_run(arg);
    return NULL;
}

int swb_broker_start(swb_broker_t *b)
{
    if (!b || b->thread_started)
        return SWB_E_INVALID;
    /* The loop thread takes no signals, so an embedding program's handlers stay in its own
     * threads (and `swb broker` can sigwait in main). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&b->thread, NULL, broker_thread, b);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return SWB_E_SYS;
    b->thread_started = 1;
    return SWB_OK;
}

int swb_broker_shutdown(swb_broker_t *b, int timeout_ms)
{
    if (!b)
        return SWB_E_INVALID;
    /* Only atomics and write(2): callable from a signal handler. */
    __atomic_store_n(&b->shutdown_req_ms, timeout_ms < 0 ? 0 : timeout_ms, __ATOMIC_RELEASE);
    __atomic_store_n(&b->shutdown_asked, 1, __ATOMIC_RELEASE);
    if (b->wake[1] >= 0) {
        ssize_t w = write(b->wake[1], "d", 1);
        (void)w;
    }
    return SWB_OK;
}

int swb_broker_wait(swb_broker_t *b)
{
    if (!b || !b->thread_started)
        return SWB_E_INVALID;
    pthread_join(b->thread, NULL);
    b->thread_started = 0;
    return SWB_OK;
}

void swb_broker_stop(swb_broker_t *b)
{
    if (!b)
        return;
    __atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
    if (b->wake[1] >= 0) {
        ssize_t w = write(b->wake[1], "s", 1);
        (void)w;
    }
}

/* Tell our children to leave so they can finish cleanly. Other peers are not told: they
 * outlive this broker and say HELLO to the next one on the same endpoint. */
static void say_bye_children(swb_broker_t *b)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_BYE);
    for (uint32_t i = 0; i < registry_capacity(b->reg); i++) {
        reg_peer_t *p = registry_at(b->reg, i);
        if (!p->used || !supervisor_has(b->sup, p->name))
            continue;
        swbi_rid_t r = {p->rid, p->rid_len};
        swbi_send(b->router, &r, &h, NULL, ZMQ_DONTWAIT);
    }
}

/* BYE to our children, then the supervisor's grace period, SIGKILL and reaping. */
static void end_children(swb_broker_t *b)
{
    if (!b->sup)
        return;
    if (b->router && b->reg)
        say_bye_children(b);
    b->stuck_threads = supervisor_destroy(&b->sup, 2000);
}

void swb_broker_destroy(swb_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    swb_broker_t *b = *self_p;
    if (b->thread_started) {
        /* After swb_broker_shutdown the loop ends by itself once its work is done. */
        if (!__atomic_load_n(&b->shutdown_asked, __ATOMIC_ACQUIRE))
            swb_broker_stop(b);
        pthread_join(b->thread, NULL);
    }
    end_children(b); /* when the loop never ran */
    if (b->router)
        zmq_close(b->router);
    if (b->ctx) {
        zmq_ctx_shutdown(b->ctx);
        /* A worker thread stuck in a plugin keeps its sockets open, and zmq_ctx_term would
         * wait for it for ever: then the context, and the pipe it may still write to, are
         * left behind rather than hang the caller. */
        if (!b->stuck_threads)
            zmq_ctx_term(b->ctx);
    }
    if (b->endpoints)
        free_endpoints(b);
    if (b->private_dir[0])
        rmdir(b->private_dir);
    broker_reload_free(b);
    dispatch_destroy(&b->disp);
    registry_destroy(&b->reg);
    if (b->wake[0] >= 0 && !b->stuck_threads)
        close(b->wake[0]);
    if (b->wake[1] >= 0 && !b->stuck_threads)
        close(b->wake[1]);
    free(b);
    *self_p = NULL;
}

const char *swb_broker_inproc(const swb_broker_t *b)
{
    return b ? b->inproc : NULL;
}

const char *swb_broker_bound(const swb_broker_t *b, size_t i)
{
    return b && i < b->n_endpoints ? b->endpoints[i] : NULL;
}

const char *swb_broker_endpoint(const swb_broker_t *b)
{
    return b ? b->public_ep : NULL;
}

void *swb_broker_zmq_ctx(swb_broker_t *b)
{
    return b ? b->ctx : NULL;
}
