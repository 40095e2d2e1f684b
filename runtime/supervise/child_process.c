/*
 * child_process.c - worker processes: posix_spawn of swb-worker (child_ops_t for
 * SWB_SPAWN_PROCESS).
 *
 * Layer: supervise; uses: common; called by: supervisor.c through child_process_ops.
 *
 * posix_spawn, not fork: glibc's is a vfork-style clone that shares the address space until
 * exec, so a SPAWN costs the broker loop one exec whatever the size of the embedding
 * program's heap (fork copied its page tables: seconds for a 2 GiB process, during which no
 * peer was served), and an exec failure comes back as its return value. The worker starts
 * clean: no descriptor of the embedding program (closefrom 3) and every signal at its default
 * disposition and unblocked (an ignored SIGINT or SIGTERM would outlive exec otherwise).
 * Workers ask for PR_SET_PDEATHSIG themselves (SWB_PPID), so they die with the broker thread
 * that spawned them: never an orphan. Exits are seen through a pidfd per process (polled with
 * the broker's sockets, so an exit event is immediate) and reaped per pid, never with
 * waitpid(-1), so an embedding program's own children are left alone, and signalled through
 * the pidfd, so a pid the embedding program reaped and the kernel reused is never hit.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    static const char *ours[] = {
        "SWB_ENDPOINT=",   "SWB_PLUGIN=", "SWB_NAME=", "SWB_PARENT=", "SWB_CAPACITY=",
        "SWB_PLUGIN_DIR=", "SWB_KIND=",   "SWB_PPID=", "SWB_CONFIG="};
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        if (strncmp(entry, ours[i], strlen(ours[i])) == 0)
            return 1;
    return 0;
}

/* "SWB_CONFIG=<hex>", malloc'd: an environment variable holds no NUL, so the msgpack goes as
 * hex (SWB_CONFIG_MAX keeps it under Linux's 128 KiB per variable). */
static char *config_env(const void *config, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    static const char prefix[] = "SWB_CONFIG=";
    char *e = malloc(sizeof prefix + 2 * len);
    if (!e)
        return NULL;
    memcpy(e, prefix, sizeof prefix - 1);
    char *o = e + sizeof prefix - 1;
    const unsigned char *c = config;
    for (size_t i = 0; i < len; i++) {
        *o++ = digits[c[i] >> 4];
        *o++ = digits[c[i] & 15];
    }
    *o = '\0';
    return e;
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
    char **envp = calloc(n_env + 10, sizeof *envp);
    char extra[7][PATH_MAX + 32];
    char *config = how->config_len ? config_env(how->config, how->config_len) : NULL;
    if (!envp || (how->config_len && !config)) {
        free(envp);
        free(config);
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
    /* The worker asks for SIGKILL on its parent thread's death itself (posix_spawn cannot),
     * and leaves at once if that parent is already gone. */
    snprintf(extra[5], sizeof extra[5], "SWB_PPID=%d", (int)getpid());
    snprintf(extra[6], sizeof extra[6], "SWB_CAPACITY=%u", how->capacity);
    /* Capacity 0 means "the plugin's own": leave the variable out. */
    for (int i = 0; i < (how->capacity ? 7 : 6); i++)
        envp[k++] = extra[i];
    if (config)
        envp[k++] = config;
    struct rlimit cpu = {how->cpu_limit_s, how->cpu_limit_s + 1};
    envp[k] = NULL;
    char *argv[] = {(char *)exe, NULL};

    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    /* Each step checked: a worker started without closefrom would hold the embedding
     * program's descriptors (its lock files among them). */
    int e = posix_spawnattr_init(&attr);
    if (e == 0 && (e = posix_spawn_file_actions_init(&fa)) != 0)
        posix_spawnattr_destroy(&attr);
    if (e != 0) {
        free(envp);
        free(config);
        free(pr);
        return SWB_E_NOMEM;
    }
    if (!(e = posix_spawnattr_setsigmask(&attr, &none)) &&
        !(e = posix_spawnattr_setsigdefault(&attr, &all)) &&
        !(e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
        e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid = 0;
    const char *what = "preparing";
    if (e == 0) {
        what = "starting";
        e = posix_spawn(&pid, exe, &fa, &attr, argv, envp);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    free(config);
    if (e != 0) {
        swb_log(SWB_LOG_WARN, "spawn %s: %s %s: %s", how->name, what, exe, strerror(e));
        free(pr);
        return e == ENOMEM ? SWB_E_NOMEM : SWB_E_SPAWN;
    }
    /* Not reaped yet, so the pid is still this child's. */
    pr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    /* SIGXCPU past it counts as a crash. */
    if (cpu.rlim_cur && prlimit(pid, RLIMIT_CPU, &cpu, NULL) != 0)
        swb_log(SWB_LOG_WARN, "spawn %s: cpu limit: %s", how->name, strerror(errno));
    pr->pid = (int)pid;
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
