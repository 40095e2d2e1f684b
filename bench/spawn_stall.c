/*
 * spawn_stall.c - how long starting N worker processes holds up the thread that starts them,
 * from a process with a heap of H MiB: fork + wait for exec through a close-on-exec pipe
 * (how the broker started workers before) against posix_spawn (how it does now), in the same
 * run. The program started is swb-worker --help, so the figures include the real binary's
 * exec and its dynamic loading competing for the CPUs.
 *
 *   swb-spawn-stall [N [HEAP_MB]]        defaults: 64 children, 1024 MiB
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int quiet_actions(posix_spawn_file_actions_t *fa)
{
    posix_spawn_file_actions_init(fa);
    return posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
}

/* fork, then block until exec has happened (the pipe closes) or failed (errno comes back). */
static int fork_exec(char *const argv[])
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execve(argv[0], argv, environ);
        int e = errno;
        ssize_t w = write(ep[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(ep[1]);
    int e = 0;
    ssize_t r = read(ep[0], &e, sizeof e);
    close(ep[0]);
    return pid < 0 || r > 0 ? -1 : 0;
}

static int spawn(char *const argv[], const posix_spawn_file_actions_t *fa)
{
    pid_t pid;
    return posix_spawn(&pid, argv[0], fa, NULL, argv, environ) == 0 ? 0 : -1;
}

static void reap_all(void)
{
    while (wait(NULL) > 0) {
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 64;
    size_t heap_mb = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    if (n <= 0 || n > 4096) {
        fprintf(stderr, "usage: swb-spawn-stall [N [HEAP_MB]]\n");
        return 2;
    }
    char exe[PATH_MAX];
    snprintf(exe, sizeof exe, "%s", SWB_WORKER_PATH);
    char *child[] = {exe, "--help", NULL};

    char *heap =
        mmap(NULL, heap_mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(heap, 1, heap_mb << 20); /* this process's memory, page tables and all */

    posix_spawn_file_actions_t fa;
    quiet_actions(&fa);
    int failed = 0;
    double t0 = now_ms();
    for (int i = 0; i < n; i++)
        failed += fork_exec(child) != 0;
    double forked = now_ms() - t0;
    reap_all();
    t0 = now_ms();
    for (int i = 0; i < n; i++)
        failed += spawn(child, &fa) != 0;
    double spawned = now_ms() - t0;
    reap_all();
    posix_spawn_file_actions_destroy(&fa);
    if (failed) {
        fprintf(stderr, "%d starts of %s failed\n", failed, exe);
        return 1;
    }
    printf("%d worker processes from a %zu MiB heap: fork+wait-for-exec %.0f ms (%.2f ms each), "
           "posix_spawn %.0f ms (%.2f ms each): %.1fx\n",
           n, heap_mb, forked, forked / n, spawned, spawned / n, forked / spawned);
    return 0;
}
