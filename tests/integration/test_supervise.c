/*
 * Supervision through a real broker: restart after a crash with backoff, giving up on a crash
 * loop, heartbeat loss, hung tasks, memory limits, graceful shutdown with tasks in flight,
 * zero-downtime reload and scaling under load.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define TP(name) SWB_TEST_PLUGIN_DIR "/" name ".so"

static int setup_fast(void **state)
{
    swb_broker_opts_t o = {.restart_backoff_min_ms = 50,
                           .restart_backoff_max_ms = 400,
                           .max_restarts = 3,
                           .restart_period_ms = 10000,
                           .hung_grace_ms = 300,
                           .no_worker_grace_ms = 1000};
    return harness_setup_with(state, &o);
}

/* The same backoff, with room for many restarts: for a case that must act between two of
 * them, on a machine that may be slow to let it. */
static int setup_patient(void **state)
{
    swb_broker_opts_t o = {.restart_backoff_min_ms = 50,
                           .restart_backoff_max_ms = 400,
                           .max_restarts = 50,
                           .restart_period_ms = 60000};
    return harness_setup_with(state, &o);
}

static pid_t daemon_pid; /* a `swb broker` started by a test, ended whatever happens */

static int teardown_fast(void **state)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGKILL); /* its workers follow it (PR_SET_PDEATHSIG) */
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = 0;
    }
    return harness_teardown(state);
}

#define SWB_ST(name) cmocka_unit_test_setup_teardown(name, setup_fast, teardown_fast)

/* Wait for EVENT `ev` about `name` (any child when NULL); other messages are dropped. */
static int wait_event(swb_peer_t *p, int ev, const char *name, swb_msg_t *m, int timeout_ms)
{
    int64_t left = timeout_ms;
    while (left > 0) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = recv_type(p, m, SWB_MSG_EVENT, (int)left, NULL);
        if (rc != SWB_OK)
            return rc;
        if (m->event == ev && (!name || !strcmp(m->name, name)))
            return SWB_OK;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        left -= (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    }
    return SWB_E_TIMEOUT;
}

static swb_child_t spawn1(harness_t *h, const char *plugin, const swb_spawn_opts_t *extra)
{
    swb_spawn_opts_t o = extra ? *extra : (swb_spawn_opts_t){0};
    o.plugin = plugin;
    swb_child_t c = {0};
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    return c;
}

static void test_killed_worker_is_restarted_and_serves_again(void **state)
{
    harness_t *h = *state;
    swb_child_t c = spawn1(h, "sum", NULL);
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_EXIT, c.name, &m, 5000), SWB_OK);
    assert_int_equal(m.signal, SIGKILL);
    assert_int_equal(wait_event(h->parent, SWB_EVENT_RESTART, c.name, &m, 5000), SWB_OK);
    assert_non_null(strstr(m.text, "restarting in"));
    assert_int_equal(wait_event(h->parent, SWB_EVENT_READY, c.name, &m, 5000), SWB_OK);
    assert_int_not_equal(m.pid, c.pid); /* a new process under the same name */
    assert_true(pid_alive(m.pid));
    swb_msg_close(&m);
    harness_call_sum_ok(h->parent, 5000);
}

static void test_crash_loop_is_given_up_after_the_intensity_limit(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.name = "crashy-loop"};
    swb_child_t c = spawn1(h, TP("crashy"), &o);
    int restarts = 0;
    swb_msg_t m = {0};
    for (;;) {
        assert_int_equal(recv_type(h->parent, &m, SWB_MSG_EVENT, 10000, NULL), SWB_OK);
        if (strcmp(m.name, c.name) != 0)
            continue;
        if (m.event == SWB_EVENT_RESTART)
            restarts++;
        if (m.event == SWB_EVENT_GAVE_UP)
            break;
    }
    assert_int_equal(restarts, 3); /* max_restarts of this broker */
    assert_non_null(strstr(m.text, "given up"));
    swb_msg_close(&m);
    /* Nothing is left running under that name. */
    assert_int_equal(swb_kill(h->parent, c.name, SIGKILL), SWB_E_UNKNOWN_PEER);
}

static void copy_file(const char *from, const char *to);

/* A child that has served is restarted while its restarts fail before HELLO (its plugin file
 * is broken meanwhile), and comes back when they can succeed: one bad moment does not shrink
 * its group for good. (A child that never got as far as HELLO is given up at once: above.) */
static void test_a_child_that_worked_is_restarted_when_a_restart_fails(void **state)
{
    harness_t *h = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/sum-copy.so", h->dir);
    copy_file(SWB_PLUGIN_DIR "/sum.so", path);
    swb_spawn_opts_t o = {.name = "worked"};
    swb_child_t c = spawn1(h, path, &o);

    /* Replaced, not rewritten: the running worker keeps its mapping of the old file. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s.bad", path);
    int fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a plugin", 12), 12);
    close(fd);
    assert_int_equal(rename(bad, path), 0);
    assert_int_equal(kill(c.pid, SIGKILL), 0);

    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_RESTART, c.name, &m, 5000), SWB_OK);
    /* The restart fails before HELLO; it is restarted again, not given up. */
    int restarts = 1;
    while (restarts < 2) {
        assert_int_equal(recv_type(h->parent, &m, SWB_MSG_EVENT, 5000, NULL), SWB_OK);
        if (strcmp(m.name, c.name) != 0)
            continue;
        if (m.event == SWB_EVENT_GAVE_UP)
            fail_msg("given up after a failed restart: %s", m.text);
        restarts += m.event == SWB_EVENT_RESTART;
    }
    copy_file(SWB_PLUGIN_DIR "/sum.so", path);
    assert_int_equal(wait_event(h->parent, SWB_EVENT_READY, c.name, &m, 5000), SWB_OK);
    swb_msg_close(&m);
    harness_call_sum_ok(h->parent, 5000);
}

/* A plugin whose init refuses to start is given up at once, with a text that says so, as a
 * thread and as a process: restarting it would only refuse again. */
static void init_refusal_is_given_up_not_restarted(harness_t *h, int mode)
{
    swb_spawn_opts_t o =
        SWB_OPTS(swb_spawn_opts_t, .plugin = TP("initfail"), .name = "refuser", .mode = mode);
    swb_child_t c = {0};
    size_t n = 0;
    swb_spawn(h->parent, &o, &c, 1, &n); /* ready or not, depending on when init ran */
    swb_msg_t m = {0};
    int restarts = 0, exit_code = -1;
    for (;;) {
        assert_int_equal(recv_type(h->parent, &m, SWB_MSG_EVENT, 5000, NULL), SWB_OK);
        if (strcmp(m.name, "refuser") != 0)
            continue;
        restarts += m.event == SWB_EVENT_RESTART;
        if (m.event == SWB_EVENT_EXIT)
            exit_code = m.code;
        if (m.event == SWB_EVENT_GAVE_UP)
            break;
    }
    assert_int_equal(restarts, 0);
    assert_int_equal(exit_code, 78);
    assert_non_null(strstr(m.text, "failed to start"));
    swb_msg_close(&m);
}

static void test_a_plugin_whose_init_refuses_is_given_up_as_a_process(void **state)
{
    init_refusal_is_given_up_not_restarted(*state, SWB_CHILD_PROCESS);
}

static void test_a_plugin_whose_init_refuses_is_given_up_as_a_thread(void **state)
{
    init_refusal_is_given_up_not_restarted(*state, SWB_CHILD_THREAD);
}

static void test_poison_task_fails_after_its_retries(void **state)
{
    harness_t *h = *state;
    spawn1(h, TP("crashy"), NULL); /* crashes only on tasks */
    swb_msg_t r = {0};
    assert_int_equal(swb_call(h->parent, "crashy", NULL, 0, 20000, &r), SWB_E_WORKER_LOST);
    assert_non_null(strstr(r.text, "attempts"));
    swb_msg_close(&r);
}

static void test_stopped_worker_is_replaced_and_its_task_retried(void **state)
{
    harness_t *h = *state;
    swb_child_t c = spawn1(h, "sleep", NULL);
    size_t len;
    void *body = pack_map_int(&len, "ms", 300);
    uint64_t id;
    assert_int_equal(swb_submit(h->parent, "sleep", body, len, NULL, &id), SWB_OK);
    free(body);
    /* Let it start the task, then freeze it. */
    void *st = NULL;
    size_t stlen;
    assert_int_equal(swb_peer_stats(h->parent, &st, &stlen, 2000), SWB_OK);
    free(st);
    assert_int_equal(kill(c.pid, SIGSTOP), 0);
    swb_msg_t r = {0};
    assert_int_equal(swb_wait(h->parent, id, &r, 10000), SWB_OK);
    assert_int_equal(r.attempt, 2); /* run again by the replacement */
    swb_msg_close(&r);
    assert_false(pid_alive(c.pid));
}

static void test_task_past_its_deadline_gets_the_hung_worker_replaced(void **state)
{
    harness_t *h = *state;
    swb_child_t c = spawn1(h, TP("hang"), NULL);
    swb_msg_t r = {0};
    assert_int_equal(swb_call(h->parent, "hang", NULL, 0, 200, &r), SWB_E_DEADLINE);
    assert_int_equal(wait_event(h->parent, SWB_EVENT_LIMIT, c.name, &r, 5000), SWB_OK);
    assert_non_null(strstr(r.text, "deadline"));
    assert_int_equal(wait_event(h->parent, SWB_EVENT_EXIT, c.name, &r, 5000), SWB_OK);
    assert_int_equal(r.signal, SIGKILL);
    assert_int_equal(wait_event(h->parent, SWB_EVENT_READY, c.name, &r, 5000), SWB_OK);
    assert_int_not_equal(r.pid, c.pid);
    swb_msg_close(&r);
}

static void test_memory_limit_triggers_a_restart(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.mem_limit_mb = 64};
    swb_child_t c = spawn1(h, TP("hog"), &o);
    size_t len;
    void *body = pack_map_int(&len, "mb", 200);
    uint64_t id;
    assert_int_equal(swb_submit(h->parent, "hog", body, len, NULL, &id), SWB_OK);
    free(body);
    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_LIMIT, c.name, &m, 10000), SWB_OK);
    assert_non_null(strstr(m.text, "memory"));
    assert_int_equal(wait_event(h->parent, SWB_EVENT_RESTART, c.name, &m, 5000), SWB_OK);
    swb_msg_close(&m);
}

static void test_graceful_shutdown_finishes_tasks_and_leaves_nothing(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.count = 2};
    swb_child_t kids[2];
    size_t n = 0;
    o.plugin = "sleep";
    assert_int_equal(swb_spawn(h->parent, &o, kids, 2, &n), SWB_OK);
    uint64_t ids[2];
    for (int i = 0; i < 2; i++) {
        size_t len;
        void *body = pack_map_int(&len, "ms", 300);
        assert_int_equal(swb_submit(h->parent, "sleep", body, len, NULL, &ids[i]), SWB_OK);
        free(body);
    }
    void *st = NULL;
    size_t stlen;
    assert_int_equal(swb_peer_stats(h->parent, &st, &stlen, 2000), SWB_OK); /* both started */
    free(st);
    assert_int_equal(swb_broker_shutdown(h->broker, 5000), SWB_OK);
    /* New work is refused at once, while the accepted tasks still run (once they are done
     * and the children gone, the broker ends and would not answer at all). */
    swb_msg_t r = {0};
    assert_int_equal(swb_call(h->parent, "sleep", NULL, 0, 2000, &r), SWB_E_SHUTTING_DOWN);
    /* Accepted work finished. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(swb_wait(h->parent, ids[i], &r, 5000), SWB_OK);
    swb_msg_close(&r);
    swb_peer_destroy(&h->parent);
    assert_int_equal(swb_broker_wait(h->broker), SWB_OK);
    for (int i = 0; i < 2; i++)
        assert_false(pid_alive(kids[i].pid));
    swb_broker_destroy(&h->broker);
    char path[300];
    snprintf(path, sizeof path, "%s/broker.sock", h->dir);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0); /* the socket file is gone */
}

/* Pids of the peers STATS lists with kind "process". */
static int worker_pids(swb_peer_t *p, int *pids, int cap)
{
    void *st = NULL;
    size_t len;
    if (swb_peer_stats(p, &st, &len, 2000) != SWB_OK)
        return -1;
    int n = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, st, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        msgpack_object_map *m = &u.data.via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            if (m->ptr[i].key.via.str.size != 5 || memcmp(m->ptr[i].key.via.str.ptr, "peers", 5))
                continue;
            msgpack_object_array *a = &m->ptr[i].val.via.array;
            for (uint32_t j = 0; j < a->size && n < cap; j++) {
                msgpack_sbuffer sb;
                msgpack_sbuffer_init(&sb);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                msgpack_pack_object(&pk, a->ptr[j]);
                int64_t pid;
                if (memmem(sb.data, sb.size, "process", 7) &&
                    unpack_map_int(sb.data, sb.size, "pid", &pid) == 0)
                    pids[n++] = (int)pid;
                msgpack_sbuffer_destroy(&sb);
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    free(st);
    return n;
}

static void test_sigterm_to_swb_broker_finishes_tasks_and_cleans_up(void **state)
{
    harness_t *h = *state;
    /* This test runs its own `swb broker` daemon; the harness's broker stays idle. */
    char ep[300], sock[300];
    snprintf(sock, sizeof sock, "%s/daemon.sock", h->dir);
    snprintf(ep, sizeof ep, "ipc://%s", sock);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(SWB_BIN_DIR "/swb", "swb", "broker", "--endpoint", ep, "--workers", "2", "--plugin",
              "sleep", (char *)NULL);
        _exit(127);
    }
    daemon_pid = pid;
    swb_peer_t *c = NULL;
    swb_peer_opts_t po = {.endpoint = ep, .connect_timeout_ms = 10000};
    assert_int_equal(swb_peer_new(&c, &po), SWB_OK);
    int pids[2], n = 0;
    for (int tries = 0; tries < 200 && n < 2; tries++) {
        n = worker_pids(c, pids, 2);
        if (n < 2) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    assert_int_equal(n, 2);
    uint64_t ids[2];
    for (int i = 0; i < 2; i++) {
        size_t len;
        void *body = pack_map_int(&len, "ms", 400);
        assert_int_equal(swb_submit(c, "sleep", body, len, NULL, &ids[i]), SWB_OK);
        free(body);
    }
    void *st = NULL;
    size_t stlen;
    assert_int_equal(swb_peer_stats(c, &st, &stlen, 2000), SWB_OK); /* both are running */
    free(st);
    assert_int_equal(kill(pid, SIGTERM), 0);
    swb_msg_t r = {0};
    for (int i = 0; i < 2; i++)
        assert_int_equal(swb_wait(c, ids[i], &r, 5000), SWB_OK);
    swb_msg_close(&r);
    swb_peer_destroy(&c);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    daemon_pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    for (int i = 0; i < 2; i++)
        assert_false(pid_alive(pids[i]));
    struct stat sb;
    assert_int_not_equal(stat(sock, &sb), 0);
}

typedef struct {
    harness_t *h;
    int n, ok, failed;
} load_t;

/* A steady stream of tasks from a second client, 16 in flight, until n have ended. */
static void *load_main(void *arg)
{
    load_t *l = arg;
    swb_peer_t *c = harness_client(l->h, "load");
    if (!c)
        return NULL;
    size_t len;
    void *body = pack_map_int2(&len, "a", 1, "b", 2);
    int sent = 0, ended = 0;
    swb_msg_t r = {0};
    while (ended < l->n) {
        while (sent < l->n && sent - ended < 16 &&
               swb_submit(c, "sum", body, len, NULL, NULL) == SWB_OK)
            sent++;
        int rc = swb_wait_any(c, &r, 10000);
        if (rc == SWB_E_TIMEOUT)
            break;
        ended++;
        if (rc == SWB_OK)
            l->ok++;
        else
            l->failed++;
    }
    swb_msg_close(&r);
    free(body);
    swb_peer_destroy(&c);
    return NULL;
}

static void test_reload_under_load_fails_no_task(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.plugin = "sum", .count = 2, .name = "calc"};
    swb_child_t kids[2];
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, kids, 2, &n), SWB_OK);
    load_t l = {.h = h, .n = 3000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, load_main, &l), 0);
    assert_int_equal(swb_reload(h->parent, NULL, 10000), SWB_OK);
    pthread_join(t, NULL);
    assert_int_equal(l.ok, l.n);
    assert_int_equal(l.failed, 0);
    /* The old workers are gone, replaced by new ones. */
    for (int i = 0; i < 2; i++)
        assert_false(pid_alive(kids[i].pid));
    harness_call_sum_ok(h->parent, 5000);
}

static void copy_file(const char *from, const char *to)
{
    /* Into a temporary name, then renamed: how a build replaces a plugin. */
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s.new", to);
    FILE *in = fopen(from, "rb"), *out = fopen(tmp, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rename(tmp, to), 0);
}

/* The build that answers a call, and (when `worker` is given) the worker that ran it. */
static int64_t version_of_worker(swb_peer_t *p, char *worker, size_t cap)
{
    swb_msg_t r = {0};
    assert_int_equal(swb_call(p, "versioned", NULL, 0, 5000, &r), SWB_OK);
    int64_t v = -1;
    assert_int_equal(unpack_map_int(r.body, r.len, "version", &v), 0);
    if (worker)
        assert_int_equal(unpack_map_str(r.body, r.len, "worker", worker, cap), 0);
    swb_msg_close(&r);
    return v;
}

static int64_t version_of(swb_peer_t *p)
{
    return version_of_worker(p, NULL, 0);
}

static void reload_picks_up_a_new_build(harness_t *h, int mode)
{
    char path[300];
    snprintf(path, sizeof path, "%s/plugin-%d.so", h->dir, mode);
    copy_file(TP("versioned"), path);
    swb_spawn_opts_t o = {.mode = mode, .count = 2};
    swb_child_t kids[2];
    size_t n = 0;
    o.plugin = path;
    assert_int_equal(swb_spawn(h->parent, &o, kids, 2, &n), SWB_OK);
    assert_int_equal(version_of(h->parent), 1);
    copy_file(TP("versioned2"), path);
    assert_int_equal(swb_reload(h->parent, NULL, 10000), SWB_OK);
    /* Both replacements run the new build: calls one at a time go to the one that joined
     * first; once it has left, to the other. */
    char first[SWB_NAME_MAX + 1], second[SWB_NAME_MAX + 1];
    assert_int_equal(version_of_worker(h->parent, first, sizeof first), 2);
    assert_int_equal(swb_disconnect(h->parent, first), SWB_OK);
    int code = -1, sig = -1;
    assert_int_equal(swb_wait_exit(h->parent, first, &code, &sig, 10000), SWB_OK);
    assert_int_equal(version_of_worker(h->parent, second, sizeof second), 2);
    assert_string_not_equal(first, second);
}

static void test_reload_loads_a_new_build_in_worker_threads(void **state)
{
    reload_picks_up_a_new_build(*state, SWB_CHILD_THREAD);
}

static void test_reload_loads_a_new_build_in_worker_processes(void **state)
{
    reload_picks_up_a_new_build(*state, SWB_CHILD_PROCESS);
}

static void test_cpu_limit_ends_a_runaway_worker(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.cpu_limit_s = 1, .no_restart = 1};
    swb_child_t c = spawn1(h, TP("spin"), &o);
    uint64_t id;
    assert_int_equal(swb_submit(h->parent, "spin", NULL, 0, NULL, &id), SWB_OK);
    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_EXIT, c.name, &m, 10000), SWB_OK);
    assert_true(m.signal == SIGXCPU || m.signal == SIGKILL);
    /* No worker is left for the task: it ends, exactly once, with an error. */
    assert_true(swb_wait(h->parent, id, &m, 10000) < 0);
    swb_msg_close(&m);
}

static uint64_t submit_busy(harness_t *h, int ms, uint32_t deadline)
{
    size_t len;
    void *body = pack_map_int(&len, "ms", ms);
    swb_task_opts_t o = {.deadline_ms = deadline};
    uint64_t id;
    assert_int_equal(swb_submit(h->parent, "busy", body, len, &o, &id), SWB_OK);
    free(body);
    return id;
}

/* A task much longer than the heartbeat liveness (200 ms x 3), that never looks up: the worker
 * is busy, not lost, and neither side may give up on the other. */
static void long_task_keeps_its_worker(harness_t *h, int mode)
{
    swb_spawn_opts_t o = {.mode = mode};
    swb_child_t c = spawn1(h, TP("busy"), &o);
    uint64_t id = submit_busy(h, 1500, 0);
    swb_msg_t r = {0};
    assert_int_equal(swb_wait(h->parent, id, &r, 10000), SWB_OK);
    assert_int_equal(r.attempt, 1);
    /* Served again by the same worker: it neither left nor was restarted. */
    id = submit_busy(h, 1, 0);
    assert_int_equal(swb_wait(h->parent, id, &r, 5000), SWB_OK);
    assert_int_equal(r.attempt, 1);
    while (swb_peer_recv(h->parent, &r, 0) == SWB_OK)
        assert_false(r.type == SWB_MSG_EVENT && !strcmp(r.name, c.name) &&
                     (r.event == SWB_EVENT_EXIT || r.event == SWB_EVENT_LOST));
    swb_msg_close(&r);
}

static void test_long_task_in_a_worker_process_is_not_taken_for_silence(void **state)
{
    long_task_keeps_its_worker(*state, SWB_CHILD_PROCESS);
}

static void test_long_task_in_a_worker_thread_is_not_taken_for_silence(void **state)
{
    long_task_keeps_its_worker(*state, SWB_CHILD_THREAD);
}

static void test_deadline_of_a_task_waiting_at_a_busy_worker_kills_nothing(void **state)
{
    harness_t *h = *state;
    swb_child_t c = spawn1(h, TP("busy"), NULL);
    uint64_t a = submit_busy(h, 1200, 0); /* runs: no deadline */
    uint64_t b = submit_busy(h, 10, 200); /* waits behind it at the worker (the window) */
    swb_msg_t r = {0};
    assert_int_equal(swb_wait(h->parent, b, &r, 5000), SWB_E_DEADLINE);
    assert_int_equal(swb_wait(h->parent, a, &r, 5000), SWB_OK);
    assert_int_equal(r.attempt, 1); /* its worker was not killed under it */
    while (swb_peer_recv(h->parent, &r, 0) == SWB_OK)
        assert_false(r.type == SWB_MSG_EVENT && !strcmp(r.name, c.name) &&
                     (r.event == SWB_EVENT_LIMIT || r.event == SWB_EVENT_EXIT));
    swb_msg_close(&r);
}

static void test_disconnect_hands_waiting_tasks_to_another_worker(void **state)
{
    harness_t *h = *state;
    /* sleep looks at should_stop: a task run while its worker is leaving would be cancelled. */
    swb_spawn_opts_t o = {.plugin = "sleep", .count = 2, .name = "pair"};
    swb_child_t kids[2];
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, kids, 2, &n), SWB_OK);
    enum { N = 40 };
    uint64_t ids[N];
    for (int i = 0; i < N; i++) {
        size_t len;
        void *body = pack_map_int(&len, "ms", 20);
        assert_int_equal(swb_submit(h->parent, "sleep", body, len, NULL, &ids[i]), SWB_OK);
        free(body);
    }
    assert_int_equal(swb_disconnect(h->parent, kids[0].name), SWB_OK);
    swb_msg_t r = {0};
    for (int i = 0; i < N; i++)
        assert_int_equal(swb_wait(h->parent, ids[i], &r, 10000), SWB_OK); /* none cancelled */
    swb_msg_close(&r);
}

static int64_t stat_workers(harness_t *h)
{
    void *st = NULL;
    size_t len;
    if (swb_peer_stats(h->parent, &st, &len, 2000) != SWB_OK)
        return -1;
    int64_t n = -1;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, st, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        msgpack_object_map *m = &u.data.via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            if (m->ptr[i].key.via.str.size == 8 &&
                !memcmp(m->ptr[i].key.via.str.ptr, "services", 8)) {
                msgpack_object_array *a = &m->ptr[i].val.via.array;
                for (uint32_t j = 0; j < a->size; j++) {
                    msgpack_sbuffer sb;
                    msgpack_sbuffer_init(&sb);
                    msgpack_packer pk;
                    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                    msgpack_pack_object(&pk, a->ptr[j]);
                    int64_t w;
                    if (unpack_map_int(sb.data, sb.size, "workers", &w) == 0)
                        n = w;
                    msgpack_sbuffer_destroy(&sb);
                }
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    free(st);
    return n;
}

static harness_t *scale_h;
static int64_t scale_want;
static int workers_are(void *arg)
{
    (void)arg;
    return stat_workers(scale_h) == scale_want;
}

static void test_scale_up_and_down_under_load(void **state)
{
    harness_t *h = *state;
    swb_spawn_opts_t o = {.plugin = "sum", .count = 1, .name = "calc"};
    swb_child_t kid;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &kid, 1, &n), SWB_OK);
    load_t l = {.h = h, .n = 3000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, load_main, &l), 0);
    scale_h = h;
    assert_int_equal(swb_scale(h->parent, "calc", 3), SWB_OK);
    scale_want = 3;
    assert_true(wait_until(workers_are, NULL, 5000));
    assert_int_equal(swb_scale(h->parent, "calc", 1), SWB_OK);
    scale_want = 1;
    assert_true(wait_until(workers_are, NULL, 5000));
    pthread_join(t, NULL);
    assert_int_equal(l.failed, 0);
    assert_int_equal(l.ok, l.n);
    assert_int_equal(swb_scale(h->parent, "nosuchgroup", 2), SWB_E_UNKNOWN_PEER);
}

static const struct CMUnitTest tests[] = {
    SWB_ST(test_killed_worker_is_restarted_and_serves_again),
    SWB_ST(test_crash_loop_is_given_up_after_the_intensity_limit),
    cmocka_unit_test_setup_teardown(test_a_child_that_worked_is_restarted_when_a_restart_fails,
                                    setup_patient, teardown_fast),
    SWB_ST(test_a_plugin_whose_init_refuses_is_given_up_as_a_process),
    SWB_ST(test_a_plugin_whose_init_refuses_is_given_up_as_a_thread),
    SWB_ST(test_poison_task_fails_after_its_retries),
    SWB_ST(test_stopped_worker_is_replaced_and_its_task_retried),
    SWB_ST(test_task_past_its_deadline_gets_the_hung_worker_replaced),
    SWB_ST(test_memory_limit_triggers_a_restart),
    SWB_ST(test_graceful_shutdown_finishes_tasks_and_leaves_nothing),
    SWB_ST(test_sigterm_to_swb_broker_finishes_tasks_and_cleans_up),
    SWB_ST(test_reload_under_load_fails_no_task),
    SWB_ST(test_scale_up_and_down_under_load),
    SWB_ST(test_reload_loads_a_new_build_in_worker_threads),
    SWB_ST(test_reload_loads_a_new_build_in_worker_processes),
    SWB_ST(test_cpu_limit_ends_a_runaway_worker),
    SWB_ST(test_long_task_in_a_worker_process_is_not_taken_for_silence),
    SWB_ST(test_long_task_in_a_worker_thread_is_not_taken_for_silence),
    SWB_ST(test_deadline_of_a_task_waiting_at_a_busy_worker_kills_nothing),
    SWB_ST(test_disconnect_hands_waiting_tasks_to_another_worker),
};

SWB_TEST_MAIN(tests)
