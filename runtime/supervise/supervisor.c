/*
 * supervisor.c - children of the broker: worker processes (fork/exec of swb-worker) and
 * worker threads (the host loop on inproc in this process).
 *
 * Everything a forked child needs (argv, environment) is built before fork, because between
 * fork and exec a multithreaded process may only call async-signal-safe functions; the child
 * touches nothing of ZeroMQ. Children get PR_SET_PDEATHSIG so they die with the broker thread
 * that forked them: never an orphan. Exits are seen through a pidfd per process (polled with
 * the broker's sockets, so an exit event is immediate) and reaped per pid, never with
 * waitpid(-1), so an embedding program's own children are left alone. exec failures come back
 * through a close-on-exec pipe, so SPAWN fails at once with the reason.
 *
 * A child that exits abnormally (a signal, or a non-zero code) and was not asked to leave is
 * started again under the same name after a backoff that doubles up to a ceiling; more than
 * max_restarts within restart_period and it is given up (OTP's restart intensity), so a crash
 * loop cannot spin for ever.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"
#include "swbi.h"

extern char **environ;

#define RESTART_RING 32

typedef struct {
    child_info_t info;
    int pidfd;
    char plugin[PATH_MAX];
    uint32_t capacity;
    int no_restart;
    uint32_t mem_limit_mb, cpu_limit_s;
    int64_t started_ms, restart_at_ms;
    uint32_t backoff_ms;
    int64_t restart_times[RESTART_RING];
    uint32_t n_restart_times;
    /* thread children */
    pthread_t thread;
    int done; /* atomic: the host loop returned */
    int exit_code;
    int stop; /* atomic: told to stop */
    int killed_by;
    swb_host_opts_t host;
    char endpoint[256];
} child_rec_t;

struct supervisor {
    supervisor_opts_t o;
    char inproc[256];
    char endpoint[256];
    char worker_exe[PATH_MAX];
    char plugin_dir[PATH_MAX];
    child_rec_t **kids;
    int n, cap;
    int closed;
    uint64_t gen; /* bumped whenever the set of pidfds to watch may have changed */
    int64_t next_mem_check;
    uint64_t restarts;
};

int supervisor_new(supervisor_t **out, const supervisor_opts_t *opts)
{
    supervisor_t *s = calloc(1, sizeof *s);
    if (!s)
        return SWB_E_NOMEM;
    s->o = *opts;
    if (!s->o.backoff_min_ms)
        s->o.backoff_min_ms = 100;
    if (!s->o.backoff_max_ms)
        s->o.backoff_max_ms = 10000;
    if (!s->o.max_restarts)
        s->o.max_restarts = 5;
    if (!s->o.restart_period_ms)
        s->o.restart_period_ms = 10000;
    if (!s->o.max_children)
        s->o.max_children = 1024;
    snprintf(s->inproc, sizeof s->inproc, "%s", opts->inproc);
    snprintf(s->endpoint, sizeof s->endpoint, "%s", opts->endpoint ? opts->endpoint : "");
    snprintf(s->worker_exe, sizeof s->worker_exe, "%s", opts->worker_exe ? opts->worker_exe : "");
    snprintf(s->plugin_dir, sizeof s->plugin_dir, "%s", opts->plugin_dir);
    *out = s;
    return SWB_OK;
}

static int add_kid(supervisor_t *s, child_rec_t *c)
{
    if (s->n == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 16;
        child_rec_t **k = realloc(s->kids, (size_t)ncap * sizeof *k);
        if (!k)
            return -1;
        s->kids = k;
        s->cap = ncap;
    }
    s->kids[s->n++] = c;
    s->gen++;
    return 0;
}

static child_rec_t *find_kid(supervisor_t *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->kids[i]->info.name, name) == 0)
            return s->kids[i];
    return NULL;
}

int supervisor_has(supervisor_t *s, const char *name)
{
    return find_kid(s, name) != NULL;
}

const child_info_t *supervisor_find(supervisor_t *s, const char *name)
{
    child_rec_t *c = find_kid(s, name);
    return c ? &c->info : NULL;
}

int supervisor_count(const supervisor_t *s)
{
    return s->n;
}

typedef struct {
    child_rec_t *c;
    int wake_fd;
} thread_arg_t;

static void *thread_entry(void *arg)
{
    thread_arg_t ta = *(thread_arg_t *)arg;
    free(arg);
    pthread_setname_np(pthread_self(), "swb-worker"); /* not the broker's name, for top -H */
    ta.c->exit_code = swb_host_run(&ta.c->host);
    __atomic_store_n(&ta.c->done, 1, __ATOMIC_RELEASE);
    /* Wake the broker so the exit is reported now, not at its next tick. */
    if (ta.wake_fd >= 0) {
        ssize_t w = write(ta.wake_fd, "c", 1);
        (void)w; /* a full pipe already wakes the loop */
    }
    return NULL;
}

static int spawn_thread(supervisor_t *s, child_rec_t *c)
{
    snprintf(c->endpoint, sizeof c->endpoint, "%s", s->inproc);
    c->host.plugin = c->plugin;
    c->host.plugin_dir = s->plugin_dir;
    c->host.endpoint = c->endpoint;
    c->host.zmq_ctx = s->o.zmq_ctx;
    c->host.name = c->info.name;
    c->host.parent = c->info.parent;
    c->host.kind = SWB_PEER_THREAD;
    c->host.capacity = c->capacity;
    c->done = 0;
    c->stop = 0;
    c->killed_by = 0;
    c->host.stop = &c->stop;
    thread_arg_t *ta = malloc(sizeof *ta);
    if (!ta)
        return SWB_E_NOMEM;
    ta->c = c;
    ta->wake_fd = s->o.wake_fd;
    /* Worker threads take no signals: the embedding program's handlers stay in its threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, NULL, thread_entry, ta);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(ta);
        return SWB_E_SPAWN;
    }
    c->info.pid = (int)getpid();
    return SWB_OK;
}

static int env_override(const char *entry)
{
    static const char *ours[] = {"SWB_ENDPOINT=", "SWB_PLUGIN=",     "SWB_NAME=", "SWB_PARENT=",
                                 "SWB_CAPACITY=", "SWB_PLUGIN_DIR=", "SWB_KIND="};
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        if (strncmp(entry, ours[i], strlen(ours[i])) == 0)
            return 1;
    return 0;
}

static int spawn_process(supervisor_t *s, child_rec_t *c)
{
    if (!s->endpoint[0]) {
        swb_log(SWB_LOG_WARN, "spawn %s: the broker has no ipc or tcp endpoint", c->info.name);
        return SWB_E_SPAWN;
    }
    if (!s->worker_exe[0] || access(s->worker_exe, X_OK) != 0) {
        swb_log(SWB_LOG_WARN, "spawn %s: worker executable '%s' not found", c->info.name,
                s->worker_exe);
        return SWB_E_SPAWN;
    }
    size_t n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 8, sizeof *envp);
    char extra[6][PATH_MAX + 32];
    if (!envp)
        return SWB_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (!env_override(environ[i]))
            envp[k++] = environ[i];
    snprintf(extra[0], sizeof extra[0], "SWB_ENDPOINT=%s", s->endpoint);
    snprintf(extra[1], sizeof extra[1], "SWB_PLUGIN=%s", c->plugin);
    snprintf(extra[2], sizeof extra[2], "SWB_NAME=%s", c->info.name);
    snprintf(extra[3], sizeof extra[3], "SWB_PARENT=%s", c->info.parent);
    snprintf(extra[4], sizeof extra[4], "SWB_PLUGIN_DIR=%s", s->plugin_dir);
    snprintf(extra[5], sizeof extra[5], "SWB_CAPACITY=%u", c->capacity);
    /* Capacity 0 means "the plugin's own": leave the variable out. */
    for (int i = 0; i < (c->capacity ? 6 : 5); i++)
        envp[k++] = extra[i];
    struct rlimit cpu = {c->cpu_limit_s, c->cpu_limit_s + 1};
    envp[k] = NULL;
    char *argv[] = {s->worker_exe, NULL};

    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        free(envp);
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
        execve(s->worker_exe, argv, envp);
        int e = errno;
        ssize_t w = write(errpipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(errpipe[1]);
    free(envp);
    if (pid < 0) {
        close(errpipe[0]);
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
        swb_log(SWB_LOG_WARN, "spawn %s: exec %s: %s", c->info.name, s->worker_exe, strerror(e));
        return SWB_E_SPAWN;
    }
    c->info.pid = (int)pid;
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return SWB_OK;
}

static int start(supervisor_t *s, child_rec_t *c)
{
    c->pidfd = -1;
    c->info.ready = 0;
    int rc = c->info.mode == SWB_SPAWN_THREAD ? spawn_thread(s, c) : spawn_process(s, c);
    if (rc == SWB_OK) {
        c->info.running = 1;
        c->started_ms = swbi_now_ms();
        s->gen++;
    }
    return rc;
}

int supervisor_spawn(supervisor_t *s, const spawn_req_t *req, child_info_t *info)
{
    if ((uint32_t)s->n >= s->o.max_children)
        return SWB_E_TOO_MANY_PEERS;
    child_rec_t *c = calloc(1, sizeof *c);
    if (!c)
        return SWB_E_NOMEM;
    c->pidfd = -1;
    snprintf(c->info.name, sizeof c->info.name, "%s", req->name);
    snprintf(c->info.parent, sizeof c->info.parent, "%s", req->parent ? req->parent : "");
    snprintf(c->info.group, sizeof c->info.group, "%s", req->group ? req->group : req->name);
    c->info.mode = req->mode;
    c->capacity = req->capacity;
    c->no_restart = req->no_restart;
    c->mem_limit_mb = req->mem_limit_mb;
    c->cpu_limit_s = req->cpu_limit_s;
    c->backoff_ms = s->o.backoff_min_ms;
    int rc = swb_plugin_resolve(req->plugin, s->plugin_dir, c->plugin, sizeof c->plugin);
    if (rc == SWB_OK)
        rc = start(s, c);
    if (rc == SWB_OK && add_kid(s, c) != 0)
        rc = SWB_E_NOMEM; /* unreachable in practice: the kid runs on unsupervised */
    if (rc != SWB_OK) {
        free(c);
        return rc;
    }
    *info = c->info;
    return SWB_OK;
}

int supervisor_spawn_like(supervisor_t *s, const char *like, const char *name, child_info_t *info)
{
    child_rec_t *o = find_kid(s, like);
    if (!o)
        return SWB_E_UNKNOWN_PEER;
    spawn_req_t req = {.parent = o->info.parent,
                       .plugin = o->plugin,
                       .name = name,
                       .group = o->info.group,
                       .mode = o->info.mode,
                       .capacity = o->capacity,
                       .no_restart = o->no_restart,
                       .mem_limit_mb = o->mem_limit_mb,
                       .cpu_limit_s = o->cpu_limit_s};
    return supervisor_spawn(s, &req, info);
}

void supervisor_ready(supervisor_t *s, const char *name, int pid)
{
    child_rec_t *c = find_kid(s, name);
    if (c && c->info.running && (c->info.pid == pid || c->info.mode == SWB_SPAWN_THREAD))
        c->info.ready = 1;
}

void supervisor_unretire(supervisor_t *s, const char *name)
{
    child_rec_t *c = find_kid(s, name);
    if (c)
        c->info.retiring = 0;
}

void supervisor_retire(supervisor_t *s, const char *name)
{
    child_rec_t *c = find_kid(s, name);
    if (c)
        c->info.retiring = 1;
}

int supervisor_list(supervisor_t *s, const char *parent, const char *group,
                    const child_info_t **out, int cap)
{
    int n = 0;
    for (int i = 0; i < s->n && n < cap; i++) {
        child_rec_t *c = s->kids[i];
        if (parent && strcmp(c->info.parent, parent) != 0)
            continue;
        if (group && strcmp(c->info.group, group) != 0)
            continue;
        out[n++] = &c->info;
    }
    return n;
}

uint64_t supervisor_restarts(const supervisor_t *s)
{
    return s->restarts;
}

void supervisor_close(supervisor_t *s)
{
    s->closed = 1;
}

int supervisor_kill(supervisor_t *s, const char *name, int sig, int restart)
{
    child_rec_t *c = find_kid(s, name);
    if (!c)
        return SWB_E_UNKNOWN_PEER;
    if (!restart)
        c->info.retiring = 1;
    if (!c->info.running)
        return SWB_OK; /* waiting to restart: retiring it is enough */
    if (c->info.mode == SWB_SPAWN_THREAD) {
        c->killed_by = sig;
        __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
        return SWB_OK;
    }
    if (kill(c->info.pid, sig) != 0)
        return SWB_E_SYS;
    return SWB_OK;
}

uint64_t supervisor_gen(const supervisor_t *s)
{
    return s->gen;
}

int supervisor_poll_items(supervisor_t *s, zmq_pollitem_t *items, int max)
{
    int n = 0;
    for (int i = 0; i < s->n && n < max; i++) {
        if (s->kids[i]->info.running && s->kids[i]->pidfd >= 0) {
            items[n] =
                (zmq_pollitem_t){.socket = NULL, .fd = s->kids[i]->pidfd, .events = ZMQ_POLLIN};
            n++;
        }
    }
    return n;
}

/* Whether child c has ended; fills code/signal. Never blocks. */
static int ended(child_rec_t *c)
{
    if (!c->info.running)
        return 0;
    if (c->info.mode == SWB_SPAWN_THREAD) {
        if (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
            return 0;
        pthread_join(c->thread, NULL);
        c->info.code = c->exit_code;
        c->info.signal = c->killed_by;
        return 1;
    }
    int st;
    pid_t r = waitpid(c->info.pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return 0;
    if (r < 0) { /* someone else reaped it (waitpid(-1) in the embedding program) */
        c->info.code = -1;
        return 1;
    }
    if (WIFEXITED(st))
        c->info.code = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        c->info.signal = WTERMSIG(st);
    return 1;
}

static void free_kid(child_rec_t *c)
{
    if (c->pidfd >= 0)
        close(c->pidfd);
    free(c);
}

/* Forget the ring entries older than the period; returns how many restarts remain in it. */
static uint32_t recent_restarts(supervisor_t *s, child_rec_t *c, int64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->n_restart_times && i < RESTART_RING; i++)
        if (now - c->restart_times[i] < (int64_t)s->o.restart_period_ms)
            c->restart_times[n++] = c->restart_times[i];
    c->n_restart_times = n;
    return n;
}

/* c has ended: restart it later, or let it go. Returns 1 when the record must be freed. */
static int after_exit(supervisor_t *s, child_rec_t *c, int64_t now, sup_event_fn fn, void *arg)
{
    c->info.running = 0;
    if (c->pidfd >= 0) {
        close(c->pidfd);
        c->pidfd = -1;
        s->gen++;
    }
    if (fn)
        fn(arg, SWB_EV_EXIT, &c->info, NULL);
    int abnormal = c->info.signal != 0 || c->info.code != 0;
    if (!abnormal || c->info.retiring || c->no_restart || s->closed)
        return 1;
    char text[160];
    if (!c->info.ready) {
        /* It never got as far as HELLO: restarting would only repeat the failure. */
        snprintf(text, sizeof text, "given up: exited (%s %d) before it was ready",
                 c->info.signal ? "signal" : "code",
                 c->info.signal ? c->info.signal : c->info.code);
        if (fn)
            fn(arg, SWB_EV_GAVE_UP, &c->info, text);
        return 1;
    }
    if (recent_restarts(s, c, now) >= s->o.max_restarts) {
        snprintf(text, sizeof text, "given up: %u restarts within %u ms", s->o.max_restarts,
                 s->o.restart_period_ms);
        swb_log(SWB_LOG_WARN, "child %s %s", c->info.name, text);
        if (fn)
            fn(arg, SWB_EV_GAVE_UP, &c->info, text);
        return 1;
    }
    /* A child that ran well for a whole period starts the backoff over. */
    if (now - c->started_ms > (int64_t)s->o.restart_period_ms)
        c->backoff_ms = s->o.backoff_min_ms;
    c->restart_at_ms = now + c->backoff_ms;
    snprintf(text, sizeof text, "restarting in %u ms (%s %d)", c->backoff_ms,
             c->info.signal ? "signal" : "exit code",
             c->info.signal ? c->info.signal : c->info.code);
    if (fn)
        fn(arg, SWB_EV_RESTART, &c->info, text);
    c->backoff_ms =
        c->backoff_ms * 2 > s->o.backoff_max_ms ? s->o.backoff_max_ms : c->backoff_ms * 2;
    c->restart_times[c->n_restart_times++ % RESTART_RING] = now;
    return 0;
}

static uint64_t rss_mb(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
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

static void remove_kid(supervisor_t *s, int i)
{
    child_rec_t *c = s->kids[i];
    s->kids[i] = s->kids[--s->n];
    free_kid(c);
    s->gen++;
}

void supervisor_tick(supervisor_t *s, int64_t now, sup_event_fn fn, void *arg)
{
    for (int i = 0; i < s->n;) {
        child_rec_t *c = s->kids[i];
        if (ended(c) && after_exit(s, c, now, fn, arg)) {
            remove_kid(s, i);
            continue;
        }
        if (!c->info.running && (c->info.retiring || s->closed)) {
            remove_kid(s, i); /* was waiting to restart; not any more */
            continue;
        }
        if (!c->info.running && now >= c->restart_at_ms) {
            c->info.code = c->info.signal = 0;
            int rc = start(s, c);
            if (rc == SWB_OK) {
                c->info.restarts++;
                s->restarts++;
                if (fn)
                    fn(arg, SWB_EV_STARTED, &c->info, "restarted");
            } else {
                /* A failed start counts as another crash, with its backoff; not as a child
                 * that died before it was ready (which is given up at once). */
                c->info.code = 127;
                c->info.pid = 0;
                c->info.ready = 1;
                c->info.running = 1;
                if (after_exit(s, c, now, fn, arg)) {
                    remove_kid(s, i);
                    continue;
                }
            }
        }
        i++;
    }
    if (now < s->next_mem_check)
        return;
    s->next_mem_check = now + 250;
    for (int i = 0; i < s->n; i++) {
        child_rec_t *c = s->kids[i];
        if (!c->info.running || c->info.mode != SWB_SPAWN_PROCESS || !c->mem_limit_mb)
            continue;
        uint64_t mb = rss_mb(c->info.pid);
        if (mb > c->mem_limit_mb) {
            char text[128];
            snprintf(text, sizeof text, "memory limit: rss %llu MiB over %u MiB",
                     (unsigned long long)mb, c->mem_limit_mb);
            if (fn)
                fn(arg, SWB_EV_LIMIT, &c->info, text);
            kill(c->info.pid, SIGKILL); /* its exit is a crash: restarted with backoff */
        }
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int supervisor_destroy(supervisor_t **self_p, int grace_ms)
{
    if (!self_p || !*self_p)
        return 0;
    int stuck = 0;
    supervisor_t *s = *self_p;
    for (int i = 0; i < s->n; i++) {
        child_rec_t *c = s->kids[i];
        if (!c->info.running)
            continue;
        if (c->info.mode == SWB_SPAWN_THREAD)
            __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
        else
            kill(c->info.pid, SIGTERM);
    }
    int64_t deadline = swbi_now_ms() + grace_ms;
    s->closed = 1;
    while (s->n && swbi_now_ms() < deadline) {
        supervisor_tick(s, swbi_now_ms(), NULL, NULL);
        if (s->n)
            sleep_ms(5);
    }
    for (int i = 0; i < s->n; i++) {
        child_rec_t *c = s->kids[i];
        if (!c->info.running) {
            free_kid(c);
        } else if (c->info.mode == SWB_SPAWN_THREAD) {
            /* A thread cannot be killed; one stuck in a plugin is left running and its record
             * kept alive (leaked) rather than freed under it. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 2;
            if (pthread_timedjoin_np(c->thread, NULL, &ts) == 0)
                free_kid(c);
            else {
                swb_log(SWB_LOG_ERROR, "worker thread %s did not stop", c->info.name);
                stuck++;
            }
        } else {
            kill(c->info.pid, SIGKILL);
            waitpid(c->info.pid, NULL, 0);
            free_kid(c);
        }
    }
    free(s->kids);
    free(s);
    *self_p = NULL;
    return stuck;
}
