/*
 * child_process.c - worker processes: fork/exec of swb-worker (child_ops_t for
 * SWB_SPAWN_PROCESS).
 *
 * Layer: supervise; uses: common; called by: supervisor.c through child_process_ops.
 *
 * Everything a forked child needs (argv, environment) is built before fork, because between
 * fork and exec a multithreaded process may only call async-signal-safe functions; the child
 * touches nothing of ZeroMQ. Children get PR_SET_PDEATHSIG so they die with the broker thread
 * that forked them: never an orphan. Exits are seen through a pidfd per process (polled with
 * the broker's sockets, so an exit event is immediate) and reaped per pid, never with
 * waitpid(-1), so an embedding program's own children are left alone. exec failures come back
 * through a close-on-exec pipe, so SPAWN fails at once with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_ops.h"
#include "swbi.h"

extern char **environ;

typedef struct {
    int pid;
    int pidfd;
} proc_t;

static int env_override(const char *entry)
{
    static const char *ours[] = {"SWB_ENDPOINT=", "SWB_PLUGIN=",     "SWB_NAME=", "SWB_PARENT=",
                                 "SWB_CAPACITY=", "SWB_PLUGIN_DIR=", "SWB_KIND="};
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        if (strncmp(entry, ours[i], strlen(ours[i])) == 0)
            return 1;
    return 0;
}

static int start(void *ctx, const child_start_t *how, child_info_t *info, void **state)
{
    (void)ctx;
    const char *exe = how->worker_exe ? how->worker_exe : "";
    if (!how->endpoint || !how->endpoint[0]) {
        swb_log(SWB_LOG_WARN, "spawn %s: the broker has no ipc or tcp endpoint", how->name);
        return SWB_E_SPAWN;
    }
    if (!exe[0] || access(exe, X_OK) != 0) {
        swb_log(SWB_LOG_WARN, "spawn %s: worker executable '%s' not found", how->name, exe);
        return SWB_E_SPAWN;
    }
    proc_t *pr = malloc(sizeof *pr);
    if (!pr)
        return SWB_E_NOMEM;
    size_t n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 8, sizeof *envp);
    char extra[6][PATH_MAX + 32];
    if (!envp) {
        free(pr);
        return SWB_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (!env_override(environ[i]))
            envp[k++] = environ[i];
    snprintf(extra[0], sizeof extra[0], "SWB_ENDPOINT=%s", how->endpoint);
    snprintf(extra[1], sizeof extra[1], "SWB_PLUGIN=%s", how->plugin);
    snprintf(extra[2], sizeof extra[2], "SWB_NAME=%s", how->name);
    snprintf(extra[3], sizeof extra[3], "SWB_PARENT=%s", how->parent ? how->parent : "");
    snprintf(extra[4], sizeof extra[4], "SWB_PLUGIN_DIR=%s", how->plugin_dir);
    snprintf(extra[5], sizeof extra[5], "SWB_CAPACITY=%u", how->capacity);
    /* Capacity 0 means "the plugin's own": leave the variable out. */
    for (int i = 0; i < (how->capacity ? 6 : 5); i++)
        envp[k++] = extra[i];
    struct rlimit cpu = {how->cpu_limit_s, how->cpu_limit_s + 1};
    envp[k] = NULL;
    char *argv[] = {(char *)exe, NULL};

    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        free(envp);
        free(pr);
        return SWB_E_SYS;
    }
    pid_t ppid = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: async-signal-safe calls only. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != ppid)
            _exit(127); /* the broker died before the prctl */
        if (cpu.rlim_cur)
            setrlimit(RLIMIT_CPU, &cpu); /* SIGXCPU past it: counts as a crash */
        execve(exe, argv, envp);
        int e = errno;
        ssize_t w = write(errpipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(errpipe[1]);
    free(envp);
    if (pid < 0) {
        close(errpipe[0]);
        free(pr);
        return SWB_E_SYS;
    }
    int e = 0;
    ssize_t r;
    do {
        r = read(errpipe[0], &e, sizeof e);
    } while (r < 0 && errno == EINTR);
    close(errpipe[0]);
    if (r == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        swb_log(SWB_LOG_WARN, "spawn %s: exec %s: %s", how->name, exe, strerror(e));
        free(pr);
        return SWB_E_SPAWN;
    }
    pr->pid = (int)pid;
    pr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    info->pid = (int)pid;
    *state = pr;
    return SWB_OK;
}

static int exit_fd(void *state)
{
    return ((proc_t *)state)->pidfd;
}

static int reap(void *state, child_info_t *info)
{
    proc_t *pr = state;
    int st;
    pid_t r = waitpid(pr->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return 0;
    if (r < 0) { /* someone else reaped it (waitpid(-1) in the embedding program) */
        info->code = -1;
        return 1;
    }
    if (WIFEXITED(st))
        info->code = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        info->signal = WTERMSIG(st);
    return 1;
}

static int send_signal(void *state, const child_info_t *info, int sig)
{
    (void)info;
    return kill(((proc_t *)state)->pid, sig) == 0 ? SWB_OK : SWB_E_SYS;
}

static uint64_t rss_mb(void *state, const child_info_t *info)
{
    (void)info;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", ((proc_t *)state)->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) >> 20;
}

static int finish(void *state, const child_info_t *info, int wait_ms)
{
    (void)info;
    (void)wait_ms; /* SIGKILL cannot be refused: the wait is short */
    proc_t *pr = state;
    kill(pr->pid, SIGKILL);
    waitpid(pr->pid, NULL, 0);
    return 0;
}

static void release(void *state)
{
    proc_t *pr = state;
    if (pr && pr->pidfd >= 0)
        close(pr->pidfd);
    free(pr);
}

const child_ops_t child_process_ops = {
    .what = "process",
    .start = start,
    .exit_fd = exit_fd,
    .reap = reap,
    .signal = send_signal,
    .rss_mb = rss_mb,
    .finish = finish,
    .release = release,
};
