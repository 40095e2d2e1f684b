/*
 * swb_testkit.h: a plugin under test runs as a thread and as a process under a private broker,
 * answers through the kit, and stopping leaves nothing: no worker process, and its own socket
 * directory is gone.
 * A plugin that does not exist fails the start with nothing left behind.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"
#include "swb_testkit.h"

static void the_kit_runs_sum(int mode)
{
    swb_testkit_t *k = NULL;
    assert_int_equal(swb_testkit_start(&k, "sum", mode), SWB_OK);
    /* ipc://<its own directory>/broker.sock */
    char dir[256];
    const char *ep = swb_testkit_endpoint(k);
    assert_non_null(ep);
    assert_int_equal(strncmp(ep, "ipc://", 6), 0);
    snprintf(dir, sizeof dir, "%s", ep + 6);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_string_equal(swb_testkit_service(k), "sum");
    int pid = swb_testkit_worker(k)->pid;
    assert_true(mode == SWB_CHILD_THREAD ? pid == getpid() : pid != getpid() && pid_alive(pid));
    size_t len;
    void *body = pack_map_int2(&len, "a", 40, "b", 2);
    swb_msg_t r = {0};
    int rc = swb_testkit_call(k, body, len, 5000, &r);
    int64_t sum = 0;
    int got = rc == SWB_OK ? unpack_map_int(r.body, r.len, "sum", &sum) : -1;
    swb_msg_close(&r);
    free(body);
    swb_testkit_stop(&k);
    assert_null(k);
    assert_int_equal(rc, SWB_OK);
    assert_int_equal(got, 0);
    assert_int_equal(sum, 42);
    if (mode == SWB_CHILD_PROCESS)
        assert_false(pid_alive(pid));
    assert_int_equal(stat(dir, &st), -1); /* its socket directory is gone */
    assert_int_equal(errno, ENOENT);
}

static void test_the_kit_runs_a_plugin_as_a_thread(void **state)
{
    (void)state;
    the_kit_runs_sum(SWB_CHILD_THREAD);
}

static void test_the_kit_runs_a_plugin_as_a_process_and_leaves_nothing(void **state)
{
    (void)state;
    the_kit_runs_sum(SWB_CHILD_PROCESS);
}

static void test_a_missing_plugin_fails_the_start(void **state)
{
    (void)state;
    swb_testkit_t *k = (swb_testkit_t *)1;
    assert_int_equal(swb_testkit_start(&k, "/nonexistent/plugin.so", SWB_CHILD_THREAD),
                     SWB_E_PLUGIN);
    assert_null(k);
    swb_testkit_stop(&k); /* NULL-safe */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_kit_runs_a_plugin_as_a_thread),
        cmocka_unit_test(test_the_kit_runs_a_plugin_as_a_process_and_leaves_nothing),
        cmocka_unit_test(test_a_missing_plugin_fails_the_start),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
