/*
 * harness.c - shared setup for integration tests: private socket directory, a real broker,
 * a parent peer, msgpack helpers, and cleanup on every path (teardown, exit, SIGTERM).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "swb_test.h"

static char cleanup_dir[128];

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void cleanup_at_exit(void)
{
    if (cleanup_dir[0])
        rm_tree(cleanup_dir);
}

static void on_term(int sig)
{
    cleanup_at_exit();
    signal(sig, SIG_DFL);
    raise(sig);
}

int harness_dir(harness_t *h)
{
    snprintf(h->dir, sizeof h->dir, "/tmp/swb-test-XXXXXX");
    if (!mkdtemp(h->dir))
        return -1;
    chmod(h->dir, 0700);
    snprintf(h->endpoint, sizeof h->endpoint, "ipc://%s/broker.sock", h->dir);
    snprintf(cleanup_dir, sizeof cleanup_dir, "%s", h->dir);
    static int once;
    if (!once) {
        once = 1;
        atexit(cleanup_at_exit);
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
    }
    /* Tests must not pick up a developer's broker by accident. */
    setenv("SWB_ENDPOINT", h->endpoint, 1);
    setenv("SWB_PLUGIN_DIR", SWB_PLUGIN_DIR, 1);
    setenv("SWB_WORKER_EXE", SWB_BIN_DIR "/swb-worker", 1);
    return 0;
}

void harness_rmdir(harness_t *h)
{
    rm_tree(h->dir);
    cleanup_dir[0] = '\0';
}

int harness_broker(harness_t *h, uint32_t hb_ms)
{
    swb_broker_opts_t o = {.heartbeat_ivl_ms = hb_ms};
    return harness_broker_with(h, &o);
}

int harness_broker_with(harness_t *h, const swb_broker_opts_t *opts)
{
    const char *eps[] = {h->endpoint};
    swb_broker_opts_t o = *opts;
    o.endpoints = eps;
    o.n_endpoints = 1;
    if (!o.heartbeat_ivl_ms)
        o.heartbeat_ivl_ms = 200;
    if (!o.heartbeat_liveness)
        o.heartbeat_liveness = 3;
    int rc = swb_broker_new(&h->broker, &o);
    if (rc == SWB_OK)
        rc = swb_broker_start(h->broker);
    return rc;
}

swb_peer_t *harness_client(harness_t *h, const char *name)
{
    swb_peer_opts_t o = {.endpoint = h->endpoint, .name = name};
    swb_peer_t *p = NULL;
    return swb_peer_new(&p, &o) == SWB_OK ? p : NULL;
}

int harness_setup_with(void **state, const swb_broker_opts_t *opts)
{
    harness_t *h = calloc(1, sizeof *h);
    if (!h || harness_dir(h) != 0) {
        free(h);
        return -1;
    }
    if (harness_broker_with(h, opts) != SWB_OK || !(h->parent = harness_client(h, "test-parent"))) {
        harness_teardown((void **)&h);
        return -1;
    }
    *state = h;
    return 0;
}

int harness_setup(void **state)
{
    return harness_setup_with(state, &(swb_broker_opts_t){0});
}

int harness_teardown(void **state)
{
    harness_t *h = *state;
    if (!h)
        return 0;
    swb_peer_destroy(&h->parent);
    swb_broker_destroy(&h->broker); /* ends and reaps every child */
    harness_rmdir(h);
    free(h);
    *state = NULL;
    return 0;
}

static void *sb_take(msgpack_sbuffer *sb, size_t *len)
{
    *len = sb->size;
    return msgpack_sbuffer_release(sb);
}

static void pk_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

void *pack_map_int(size_t *len, const char *k, int64_t v)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, k);
    msgpack_pack_int64(&pk, v);
    return sb_take(&sb, len);
}

void *pack_map_int2(size_t *len, const char *k1, int64_t v1, const char *k2, int64_t v2)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    pk_str(&pk, k1);
    msgpack_pack_int64(&pk, v1);
    pk_str(&pk, k2);
    msgpack_pack_int64(&pk, v2);
    return sb_take(&sb, len);
}

void *pack_str(size_t *len, const char *s)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pk_str(&pk, s);
    return sb_take(&sb, len);
}

int unpack_map_int(const void *body, size_t len, const char *k, int64_t *out)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -1;
    if (body && msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(k) &&
                !memcmp(kv->key.via.str.ptr, k, strlen(k))) {
                if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                    *out = (int64_t)kv->val.via.u64;
                    rc = 0;
                } else if (kv->val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                    *out = kv->val.via.i64;
                    rc = 0;
                }
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int unpack_is_str(const void *body, size_t len, const char *s)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int yes = body && msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
              u.data.type == MSGPACK_OBJECT_STR && u.data.via.str.size == strlen(s) &&
              !memcmp(u.data.via.str.ptr, s, strlen(s));
    msgpack_unpacked_destroy(&u);
    return yes;
}

int recv_type(swb_peer_t *p, swb_msg_t *m, int type, int timeout_ms, int *skipped)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= timeout_ms)
            return SWB_E_TIMEOUT;
        int rc = swb_peer_recv(p, m, (int)(timeout_ms - spent));
        if (rc != SWB_OK)
            return rc;
        if (m->type == type)
            return SWB_OK;
        if (skipped)
            (*skipped)++;
    }
}

int pid_alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

int wait_until(int (*cond)(void *), void *arg, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (cond(arg))
            return 1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return cond(arg);
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

extern char **environ;

int harness_start_worker(const char *endpoint, const char *name, const char *plugin)
{
    char *argv[] = {SWB_BIN_DIR "/swb-worker",
                    "--endpoint",
                    (char *)endpoint,
                    "--name",
                    (char *)name,
                    "--plugin",
                    (char *)plugin,
                    NULL};
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    return (int)pid;
}

int harness_exec(char *const argv[], int err_fd, int nofile)
{
    pid_t me = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -1 : (int)pid;
    /* Child: async-signal-safe calls only. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != me)
        _exit(127);
    if (nofile > 0) {
        struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(devnull, 0);
    dup2(devnull, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
    execv(argv[0], argv);
    _exit(127);
}

int64_t harness_stat(swb_peer_t *p, const char *key)
{
    void *body = NULL;
    size_t len = 0;
    int64_t v = -1;
    if (swb_peer_stats(p, &body, &len, 5000) == SWB_OK)
        unpack_map_int(body, len, key, &v);
    free(body);
    return v;
}

void harness_kill_reap(int pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int unpack_map_str(const void *body, size_t len, const char *k, char *buf, size_t cap)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = -1;
    if (body && msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size && rc; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(k) &&
                !memcmp(kv->key.via.str.ptr, k, strlen(k)) && kv->val.type == MSGPACK_OBJECT_STR &&
                kv->val.via.str.size < cap) {
                memcpy(buf, kv->val.via.str.ptr, kv->val.via.str.size);
                buf[kv->val.via.str.size] = '\0';
                rc = 0;
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

void *raw_dealer(void **ctx, const char *endpoint)
{
    *ctx = zmq_ctx_new();
    void *s = *ctx ? zmq_socket(*ctx, ZMQ_DEALER) : NULL;
    if (!s)
        return NULL;
    int zero = 0, ivl = 50;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    if (zmq_connect(s, endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

void raw_close(void **ctx, void **sock)
{
    if (*sock)
        zmq_close(*sock);
    if (*ctx)
        zmq_ctx_term(*ctx);
    *sock = *ctx = NULL;
}

int raw_send_frames(void *sock, const void *const *frames, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (zmq_send(sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    return 0;
}

int raw_send_header(void *sock, const swb_header_t *h, const void *body, size_t len)
{
    unsigned char buf[SWB_MAX_HEADER];
    size_t n = 0;
    if (swb_header_encode(h, buf, sizeof buf, &n) != SWB_OK)
        return -1;
    const void *frames[] = {buf, body};
    size_t lens[] = {n, len};
    return raw_send_frames(sock, frames, lens, body ? 2 : 1);
}

int raw_recv(void *sock, swb_header_t *h, unsigned char *buf, size_t cap, int timeout_ms)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return SWB_E_TIMEOUT;
    int n = zmq_recv(sock, buf, cap, 0);
    if (n < 0)
        return SWB_E_TIMEOUT;
    int more = 0;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        char drop[16];
        if (zmq_recv(sock, drop, sizeof drop, 0) < 0)
            break;
    }
    size_t hlen; /* a small body comes inline, after the header */
    return swb_header_decode_prefix(buf, (size_t)n < cap ? (size_t)n : cap, h, &hlen);
}

/* Read what is there on fd into buf; returns 0 at end of file. */
static int drain(int fd, char *buf, size_t *n)
{
    char tmp[4096];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (r == 0)
        return 0;
    size_t room = RUN_OUT_CAP - 1 - *n, take = (size_t)r < room ? (size_t)r : room;
    memcpy(buf + *n, tmp, take);
    *n += take;
    buf[*n] = '\0';
    return 1;
}

void harness_collect(run_t *r, int pid, int out_fd, int err_fd, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->status = -1;
    struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    int open_fds = 2;
    int64_t deadline = now_ms() + timeout_ms;
    while (open_fds > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            r->timed_out = 1;
            break;
        }
        if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!drain(fds[i].fd, i ? r->err : r->out, i ? &r->n_err : &r->n_out)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    if (r->timed_out)
        kill(-pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    if (!r->timed_out && WIFEXITED(status))
        r->status = WEXITSTATUS(status);
}

void harness_call_sum_ok(swb_peer_t *p, int timeout_ms)
{
    size_t len;
    void *body = pack_map_int2(&len, "a", 20, "b", 22);
    swb_msg_t r = {0};
    int rc = swb_call(p, "sum", body, len, timeout_ms, &r);
    free(body);
    assert_int_equal(rc, SWB_OK);
    int64_t v = 0;
    assert_int_equal(unpack_map_int(r.body, r.len, "sum", &v), 0);
    assert_int_equal(v, 42);
    swb_msg_close(&r);
}

void harness_echo_ok(swb_peer_t *p, const char *to, const char *text)
{
    size_t len;
    void *body = pack_str(&len, text);
    assert_int_equal(swb_peer_send(p, to, body, len), SWB_OK);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(p, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
    assert_string_equal(m.from, to);
    assert_int_equal(m.len, len);
    assert_memory_equal(m.body, body, len);
    swb_msg_close(&m);
    free(body);
}

void assert_has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("output lacks \"%s\":\n%s", want, text);
}
