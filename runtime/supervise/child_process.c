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
 * waitpid(-1), so an embedding program's own children are left alone, and signalled through
 * the pidfd, so a pid the embedding program reaped and the kernel reused is never hit. exec
 * failures come back through a close-on-exec pipe, so SPAWN fails at once with the reason.
 * The worker starts clean: no descriptor of the embedding program (close-on-exec for all but
 * 0-2) and every signal at its default disposition (an ignored SIGINT or SIGTERM would
 * outlive exec otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
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
    struct rlimit nofile;
    int max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536
                     ? (int)nofile.rlim_cur
                     : 65536; /* for the fallback below, read before fork */
    pid_t ppid = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: async-signal-safe calls only. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                signal(sig, SIG_DFL);
        /* Close-on-exec rather than closed: the error pipe must live until exec. */
        if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
            for (int fd = 3; fd < max_fd; fd++)
                fcntl(fd, F_SETFD, FD_CLOEXEC);
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

/* Reap it once it has ended (waiting for that when `block`), through the pidfd when there is
 * one (a reused pid is never waited for). 1 with *code or *sig set, 0 not yet, -1 when it is
 * not ours to reap any more (the embedding program reaped it). */
static int reap_proc(const proc_t *pr, int block, int *code, int *sig)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int flags = WEXITED | (block ? 0 : WNOHANG), r;
    do {
        r = pr->pidfd >= 0 ? waitid(P_PIDFD, (id_t)pr->pidfd, &si, flags)
                           : waitid(P_PID, (id_t)pr->pid, &si, flags);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -1;
    if (si.si_pid == 0)
        return 0;
    if (si.si_code == CLD_EXITED)
        *code = si.si_status;
    else
        *sig = si.si_status;
    return 1;
}

static int reap(void *state, child_info_t *info)
{
    int r = reap_proc(state, 0, &info->code, &info->signal);
    if (r < 0)
        info->code = -1;
    return r != 0;
}

/* Through the pidfd when there is one: a pid can be reaped by the embedding program and
 * reused by the kernel, a pidfd cannot. */
static int pid_signal(const proc_t *pr, int sig)
{
    if (pr->pidfd >= 0)
        return (int)syscall(SYS_pidfd_send_signal, pr->pidfd, sig, NULL, 0);
    return kill(pr->pid, sig);
}

static int send_signal(void *state, const child_info_t *info, int sig)
{
    (void)info;
    return pid_signal(state, sig) == 0 ? SWB_OK : SWB_E_SYS;
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
    int code, sig;
    pid_signal(pr, SIGKILL);
    reap_proc(pr, 1, &code, &sig);
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
