/*
 * The example programs, `swb demo` and `swb call`, run as a user runs them: each is a real
 * executable from the build, started with fork/exec, given a time limit (its whole process
 * group is killed past it) and judged by its exit code and the key lines of its output. The
 * examples check themselves and exit non-zero when what they show did not happen, so exit 0
 * plus the lines is the test.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define RUN_TIMEOUT_MS 60000

/* Run argv (argv[0] a path) with stdout and stderr captured, within RUN_TIMEOUT_MS. */
static void run(run_t *r, char *const argv[])
{
    int po[2], pe[2];
    assert_int_equal(pipe(po), 0);
    assert_int_equal(pipe(pe), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0); /* a group of its own, so a timeout ends everything it started */
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(po[1]);
        close(pe[1]);
        setenv("SWB_PLUGIN_DIR", SWB_PLUGIN_DIR, 1);
        setenv("SWB_WORKER_EXE", SWB_BIN_DIR "/swb-worker", 1);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(po[1]);
    close(pe[1]);
    harness_collect(r, pid, po[0], pe[0], RUN_TIMEOUT_MS);
    if (r->status != 0) /* show why in the test log */
        fprintf(stderr, "--- %s exited %d%s\n--- stdout:\n%s--- stderr:\n%s", argv[0], r->status,
                r->timed_out ? " (timed out, killed)" : "", r->out, r->err);
    assert_false(r->timed_out);
}

static void run_example(run_t *r, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SWB_BIN_DIR, name);
    char *const argv[] = {path, NULL};
    run(r, argv);
}

static void test_parent_child_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    run_example(r, "parent_child");
    assert_int_equal(r->status, 0);
    assert_has(r->out, "child says: sum of 0..10000 = 50005000");
    assert_has(r->out, "exited: code 0, signal 0");
    assert_has(r->out, "parent_child: ok");
    free(r);
}

static void test_cluster_relay_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    run_example(r, "cluster_relay");
    assert_int_equal(r->status, 0);
    assert_has(r->out, "started process-1 (process, pid");
    assert_has(r->out, "12 of 12 greetings arrived");
    assert_has(r->out, "cluster_relay: ok");
    free(r);
}

static void test_parallel_sum_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    run_example(r, "parallel_sum");
    assert_int_equal(r->status, 0);
    assert_has(r->out, " 5000050000   by worker-");
    assert_has(r->out, "15000050000   by worker-");
    assert_has(r->out, "25000050000   by worker-");
    assert_has(r->out, "total                = 45000150000");
    assert_has(r->out, "parallel_sum: ok");
    free(r);
}

static void test_load_balance_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    run_example(r, "load_balance");
    assert_int_equal(r->status, 0);
    assert_has(r->out, "submitted 100 tasks at once");
    assert_has(r->out, "(STATS done: ");
    assert_has(r->out, "load_balance: ok");
    free(r);
}

static void test_supervised_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    run_example(r, "supervised");
    assert_int_equal(r->status, 0);
    assert_has(r->out, "event restart");
    assert_has(r->out, "worker-0 is back as pid");
    assert_has(r->out, "reload: done; tasks: 2000 ok, 0 failed");
    free(r);
}

static void test_swb_demo_runs_every_example(void **state)
{
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    char *const argv[] = {SWB_BIN_DIR "/swb", "demo", NULL};
    run(r, argv);
    assert_int_equal(r->status, 0);
    assert_has(r->out, "== summary");
    assert_has(r->out, "  parent_child   ok");
    assert_has(r->out, "  cluster_relay  ok");
    assert_has(r->out, "  parallel_sum   ok");
    assert_has(r->out, "  load_balance   ok");
    assert_has(r->out, "  supervised     ok");
    free(r);
}

/* A process worker serving "sum" on the harness broker. */
static void spawn_sum(harness_t *h)
{
    swb_spawn_opts_t o = {.plugin = "sum", .mode = SWB_CHILD_PROCESS};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
}

static void test_swb_call_prints_the_result(void **state)
{
    harness_t *h = *state;
    spawn_sum(h);
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    char *const argv[] = {SWB_BIN_DIR "/swb",  "call", "--endpoint", h->endpoint, "sum",
                          "{\"a\":1,\"b\":2}", NULL};
    run(r, argv);
    assert_int_equal(r->status, 0);
    assert_string_equal(r->out, "{\"sum\":3}\n");
    free(r);
}

static void test_swb_call_unknown_service_exits_1(void **state)
{
    harness_t *h = *state;
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    char *const argv[] = {SWB_BIN_DIR "/swb", "call", "--endpoint", h->endpoint,
                          "no-such",          "{}",   NULL};
    run(r, argv);
    assert_int_equal(r->status, 1);
    assert_string_equal(r->out, "");
    assert_has(r->err, "error: no_such_service: ");
    free(r);
}

static void test_swb_call_task_error_exits_1(void **state)
{
    harness_t *h = *state;
    spawn_sum(h);
    run_t *r = malloc(sizeof *r);
    assert_non_null(r);
    char *const argv[] = {SWB_BIN_DIR "/swb", "call", "--endpoint", h->endpoint, "sum",
                          "\"not a map\"",    NULL};
    run(r, argv);
    assert_int_equal(r->status, 1);
    assert_has(r->err, "error: invalid_argument: ");
    free(r);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parent_child_example), cmocka_unit_test(test_cluster_relay_example),
    cmocka_unit_test(test_parallel_sum_example), cmocka_unit_test(test_load_balance_example),
    cmocka_unit_test(test_supervised_example),   cmocka_unit_test(test_swb_demo_runs_every_example),
    SWB_IT(test_swb_call_prints_the_result),     SWB_IT(test_swb_call_unknown_service_exits_1),
    SWB_IT(test_swb_call_task_error_exits_1),
};

SWB_TEST_MAIN(tests)
