/*
 * Reliability: running out of file descriptors does not abort the broker.
 *
 * Promise: a `swb broker` limited to 256 descriptors, sent 400 idle connections in bursts,
 * stays up: near the limit it refuses new connections (logged, counted in STATS) instead of
 * letting libzmq abort the process, while a client connected before goes on being served;
 * once the connections are gone it accepts again and serves a new client; SIGTERM then ends
 * it cleanly (exit 0) and its socket file is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "swb_test.h"

#define BROKER_FDS 256
#define CONNS      400
#define BURST      50

typedef struct {
    harness_t h;
    pid_t broker;
    char err_path[200]; /* the broker's stderr, a file in the test's directory */
    void *ctx;
    void *socks[CONNS];
    swb_peer_t *early; /* connected before the flood */
} fdt_t;

static int setup(void **state)
{
    fdt_t *t = calloc(1, sizeof *t);
    if (!t || harness_dir(&t->h) != 0) {
        free(t);
        return -1;
    }
    /* This process holds the other end of every connection: it needs the room. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
        rl.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    *state = t;
    return 0;
}

static void close_conns(fdt_t *t)
{
    for (int i = 0; i < CONNS; i++)
        if (t->socks[i]) {
            zmq_close(t->socks[i]);
            t->socks[i] = NULL;
        }
    if (t->ctx) {
        zmq_ctx_term(t->ctx);
        t->ctx = NULL;
    }
}

static int teardown(void **state)
{
    fdt_t *t = *state;
    swb_peer_destroy(&t->early);
    close_conns(t);
    if (t->broker > 0) {
        kill(t->broker, SIGKILL);
        waitpid(t->broker, NULL, 0);
    }
    unlink(t->err_path);
    harness_rmdir(&t->h);
    free(t);
    return 0;
}

static pid_t start_broker(fdt_t *t)
{
    snprintf(t->err_path, sizeof t->err_path, "%s/broker.err", t->h.dir);
    int err = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(err >= 0);
    char *argv[] = {SWB_BIN_DIR "/swb", "broker", "-e", t->h.endpoint, NULL};
    pid_t pid = harness_exec(argv, err, BROKER_FDS);
    close(err);
    return pid;
}

static swb_peer_t *connect_peer(fdt_t *t)
{
    swb_peer_t *p = NULL;
    swb_peer_opts_t o =
        SWB_OPTS(swb_peer_opts_t, .endpoint = t->h.endpoint, .connect_timeout_ms = 1000);
    return swb_peer_new(&p, &o) == SWB_OK ? p : NULL;
}

/* A fresh client's view through STATS; -1 when no broker answers. */
static int64_t stat_of(fdt_t *t, const char *key)
{
    swb_peer_t *p = connect_peer(t);
    int64_t v = p ? harness_stat(p, key) : -1;
    swb_peer_destroy(&p);
    return v;
}

static int broker_alive(fdt_t *t)
{
    if (waitpid(t->broker, NULL, WNOHANG) == 0)
        return 1;
    t->broker = 0; /* reaped (or never ours): nothing for the teardown to kill */
    return 0;
}

static void read_all(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd);
}

static void test_descriptor_exhaustion_pauses_accepting_never_aborts(void **state)
{
    fdt_t *t = *state;
    t->broker = start_broker(t);
    assert_true(t->broker > 0);
    int64_t limit = -1;
    for (int i = 0; i < 50 && limit < 0; i++) /* until it serves */
        limit = stat_of(t, "fd_limit");
    assert_int_equal(limit, BROKER_FDS);
    t->early = connect_peer(t);
    assert_non_null(t->early);

    t->ctx = zmq_ctx_new();
    assert_non_null(t->ctx);
    zmq_ctx_set(t->ctx, ZMQ_MAX_SOCKETS, CONNS + 16);
    for (int i = 0; i < CONNS; i++) {
        t->socks[i] = zmq_socket(t->ctx, ZMQ_DEALER);
        assert_non_null(t->socks[i]);
        int zero = 0;
        zmq_setsockopt(t->socks[i], ZMQ_LINGER, &zero, sizeof zero);
        assert_int_equal(zmq_connect(t->socks[i], t->h.endpoint), 0);
        if (i % BURST == BURST - 1)
            usleep(200 * 1000); /* bursts, as clients arrive */
    }
    usleep(1000 * 1000); /* every connection retried at least once while refused */
    assert_true(broker_alive(t));
    /* Refusing new connections, and serving the one made before. */
    assert_int_equal(harness_stat(t->early, "accepting"), 0);
    assert_true(harness_stat(t->early, "connections_refused") > 0);

    close_conns(t);
    int64_t accepting = -1;
    for (int i = 0; i < 50 && accepting != 1; i++) {
        accepting = stat_of(t, "accepting");
        if (accepting != 1)
            usleep(100 * 1000);
    }
    assert_int_equal(accepting, 1);
    assert_true(stat_of(t, "accept_pauses") >= 1);
    assert_true(broker_alive(t));

    assert_int_equal(kill(t->broker, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(t->broker, &status, 0), t->broker);
    t->broker = 0;
    static char err[64 * 1024];
    read_all(t->err_path, err, sizeof err);
    fprintf(stderr, "--- broker stderr:\n%s", err);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_has(err, "refusing new connections");
    struct stat st;
    assert_int_equal(stat(t->h.endpoint + strlen("ipc://"), &st), -1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_descriptor_exhaustion_pauses_accepting_never_aborts,
                                        setup, teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
