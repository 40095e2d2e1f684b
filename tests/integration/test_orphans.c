/*
 * No orphans: a program that embeds the broker and has worker processes is SIGKILLed (no
 * cleanup code runs); its workers must die with it (PR_SET_PDEATHSIG), within seconds.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define N_WORKERS 2

static harness_t dir;
static int owner_pid = -1, worker_pids[N_WORKERS];

static int orphans_setup(void **state)
{
    memset(worker_pids, 0, sizeof worker_pids);
    return harness_dir(&dir);
}

static int orphans_teardown(void **state)
{
    harness_kill_reap(owner_pid);
    owner_pid = -1;
    /* Only if the test failed are they still there; they are not our children. */
    for (int i = 0; i < N_WORKERS; i++)
        if (worker_pids[i] > 0 && pid_alive(worker_pids[i]))
            kill(worker_pids[i], SIGKILL);
    harness_rmdir(&dir);
    return 0;
}

/* The forked program: broker, parent peer, two worker processes; pids to the pipe; wait. */
static void owner_main(int fd)
{
    harness_t h = dir;
    int pids[N_WORKERS] = {0};
    if (harness_broker(&h, 0) == SWB_OK && (h.parent = harness_client(&h, "owner"))) {
        swb_spawn_opts_t o = {.plugin = "echo", .mode = SWB_CHILD_PROCESS, .count = N_WORKERS};
        swb_child_t c[N_WORKERS];
        size_t n = 0;
        if (swb_spawn(h.parent, &o, c, N_WORKERS, &n) == SWB_OK && n == N_WORKERS)
            for (int i = 0; i < N_WORKERS; i++)
                pids[i] = c[i].pid;
    }
    if (write(fd, pids, sizeof pids) != (ssize_t)sizeof pids || !pids[0])
        _exit(1);
    for (;;)
        pause(); /* until SIGKILL: no destroy, no atexit */
}

static int all_gone(void *arg)
{
    for (int i = 0; i < N_WORKERS; i++)
        if (pid_alive(worker_pids[i]))
            return 0;
    return 1;
}

static void test_workers_die_when_their_broker_process_is_killed(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    /* No ZeroMQ context exists in this process yet, so the child starts clean. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        owner_main(fds[1]);
    }
    owner_pid = (int)pid;
    close(fds[1]);
    ssize_t r = read(fds[0], worker_pids, sizeof worker_pids);
    close(fds[0]);
    assert_int_equal(r, sizeof worker_pids);
    for (int i = 0; i < N_WORKERS; i++) {
        assert_true(worker_pids[i] > 0);
        assert_int_not_equal(worker_pids[i], owner_pid);
        assert_true(pid_alive(worker_pids[i]));
    }

    assert_int_equal(kill(owner_pid, SIGKILL), 0);
    assert_int_equal(waitpid(owner_pid, NULL, 0), owner_pid);
    owner_pid = -1;
    assert_true(wait_until(all_gone, NULL, 3000));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_workers_die_when_their_broker_process_is_killed,
                                    orphans_setup, orphans_teardown),
};

SWB_TEST_MAIN(tests)
