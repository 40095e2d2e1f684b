/*
 * What a worker process inherits from the program that embeds the broker: none of its file
 * descriptors (it might hold sockets or files the worker must not keep open) and none of its
 * ignored signals (a program that ignores SIGHUP or SIGUSR1 would otherwise pass that on to
 * workers, which then cannot be signalled the usual way).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

static swb_child_t spawn_echo_process(harness_t *h)
{
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t o = SWB_OPTS(swb_spawn_opts_t, .plugin = "echo", .mode = SWB_CHILD_PROCESS);
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
    return c;
}

/* How many of pid's descriptors are open on `path`. */
static int fds_on(int pid, const char *path)
{
    char dir[64], link[96], target[512];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, path) == 0;
        }
    }
    closedir(d);
    return n;
}

static void test_a_process_child_inherits_no_descriptor_of_its_parent(void **state)
{
    harness_t *h = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/held-by-the-parent", h->dir);
    int fd = open(path, O_CREAT | O_RDWR, 0600); /* no O_CLOEXEC, on purpose */
    assert_true(fd >= 0);
    assert_int_equal(fds_on((int)getpid(), path), 1);
    swb_child_t c = spawn_echo_process(h);
    harness_echo_ok(h->parent, c.name, "ready"); /* it runs, past exec */
    int leaked = fds_on(c.pid, path);
    close(fd);
    unlink(path);
    assert_int_equal(leaked, 0);
}

/* Whether pid ignores sig, from the SigIgn mask in /proc/<pid>/status. */
static int ignores(int pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned long long mask = 0;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "SigIgn: %llx", &mask) == 1) {
            found = 1;
            break;
        }
    fclose(f);
    assert_true(found);
    return (int)((mask >> (sig - 1)) & 1);
}

static void test_a_process_child_starts_with_default_signal_dispositions(void **state)
{
    harness_t *h = *state;
    /* Two signals swb-worker sets no handler for (its own SIGTERM and SIGINT handlers would
     * replace an inherited SIG_IGN anyway). */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_hup, old_usr1;
    sigaction(SIGHUP, &ign, &old_hup);
    sigaction(SIGUSR1, &ign, &old_usr1);
    assert_true(ignores((int)getpid(), SIGUSR1));
    swb_child_t c = spawn_echo_process(h);
    harness_echo_ok(h->parent, c.name, "ready");
    int usr1 = ignores(c.pid, SIGUSR1), hup = ignores(c.pid, SIGHUP);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGUSR1, &old_usr1, NULL);
    assert_false(usr1);
    assert_false(hup);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_IT(test_a_process_child_inherits_no_descriptor_of_its_parent),
        SWB_IT(test_a_process_child_starts_with_default_signal_dispositions),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
