/*
 * supervisor.c - the broker's children: their records, restarts and limits.
 *
 * Layer: supervise; uses: common; called by: broker. How a child is started and reaped is its
 * kind's child_ops_t: processes here (child_process.c), threads from the layer above.
 *
 * A child that exits abnormally (a signal, or a non-zero code) and was not asked to leave is
 * started again under the same name after a backoff that doubles up to a ceiling; more than
 * max_restarts within restart_period and it is given up (OTP's restart intensity), so a crash
 * loop cannot spin for ever.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child_ops.h"
#include "supervisor.h"
#include "swbi.h"

#define RESTART_RING 32

typedef struct {
    child_info_t info;
    const child_ops_t *ops;
    void *ops_ctx;
    void *state; /* the ops' own, from start until reaped */
    char plugin[PATH_MAX];
    uint32_t capacity;
    int no_restart;
    int was_ready; /* some start of it said HELLO: it can work, so a crash is restarted */
    uint32_t mem_limit_mb, cpu_limit_s;
    void *config; /* malloc'd copy, so every start of this child gets the same; NULL: none */
    size_t config_len;
    int64_t started_ms, restart_at_ms;
    uint32_t backoff_ms;
    int64_t restart_times[RESTART_RING];
    uint32_t n_restart_times;
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
    uint64_t gen; /* bumped whenever the set of descriptors to watch may have changed */
    int64_t next_mem_check;
    uint64_t restarts;
};

/* Every hook but rss_mb (child_ops.h). */
static int ops_complete(const child_ops_t *o)
{
    return o->start && o->exit_fd && o->reap && o->signal && o->finish && o->release;
}

int supervisor_new(supervisor_t **out, const supervisor_opts_t *opts)
{
    if (opts->thread_ops && !ops_complete(opts->thread_ops))
        return SWB_E_INVALID;
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

static void release_state(supervisor_t *s, child_rec_t *c)
{
    if (!c->state)
        return;
    if (c->ops->exit_fd(c->state) >= 0)
        s->gen++; /* one descriptor fewer to watch */
    c->ops->release(c->state);
    c->state = NULL;
}

static int start(supervisor_t *s, child_rec_t *c)
{
    c->info.ready = 0;
    child_start_t how = {.name = c->info.name,
                         .parent = c->info.parent,
                         .plugin = c->plugin,
                         .plugin_dir = s->plugin_dir,
                         .inproc = s->inproc,
                         .endpoint = s->endpoint,
                         .zmq_ctx = s->o.zmq_ctx,
                         .worker_exe = s->worker_exe,
                         .capacity = c->capacity,
                         .cpu_limit_s = c->cpu_limit_s,
                         .wake_fd = s->o.wake_fd,
                         .config = c->config,
                         .config_len = c->config_len};
    int rc = c->ops->start(c->ops_ctx, &how, &c->info, &c->state);
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
    if (req->mode == SWB_SPAWN_THREAD) {
        c->ops = s->o.thread_ops;
        c->ops_ctx = s->o.thread_ctx;
    } else {
        c->ops = &child_process_ops;
    }
    if (!c->ops) {
        swb_log(SWB_LOG_WARN, "spawn %s: thread children need the worker host, not linked",
                req->name);
        free(c);
        return SWB_E_SPAWN;
    }
    snprintf(c->info.name, sizeof c->info.name, "%s", req->name);
    snprintf(c->info.parent, sizeof c->info.parent, "%s", req->parent ? req->parent : "");
    snprintf(c->info.group, sizeof c->info.group, "%s", req->group ? req->group : req->name);
    c->info.mode = req->mode;
    c->capacity = req->capacity;
    c->no_restart = req->no_restart;
    c->mem_limit_mb = req->mem_limit_mb;
    c->cpu_limit_s = req->cpu_limit_s;
    c->backoff_ms = s->o.backoff_min_ms;
    if (req->config && req->config_len) {
        if (!(c->config = malloc(req->config_len))) {
            free(c);
            return SWB_E_NOMEM;
        }
        memcpy(c->config, req->config, req->config_len);
        c->config_len = req->config_len;
    }
    int rc = swb_plugin_resolve(req->plugin, s->plugin_dir, c->plugin, sizeof c->plugin);
    if (rc == SWB_OK)
        rc = start(s, c);
    if (rc == SWB_OK && add_kid(s, c) != 0)
        rc = SWB_E_NOMEM; /* unreachable in practice: the kid runs on unsupervised */
    if (rc != SWB_OK) {
        free(c->config);
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
                       .cpu_limit_s = o->cpu_limit_s,
                       .config = o->config,
                       .config_len = o->config_len};
    return supervisor_spawn(s, &req, info);
}

void supervisor_ready(supervisor_t *s, const char *name, int pid)
{
    child_rec_t *c = find_kid(s, name);
    /* A thread child's pid is this process's, as its inproc HELLO says. */
    if (c && c->info.running && c->info.pid == pid)
        c->info.ready = c->was_ready = 1;
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
    return c->ops->signal(c->state, &c->info, sig);
}

uint64_t supervisor_gen(const supervisor_t *s)
{
    return s->gen;
}

int supervisor_poll_items(supervisor_t *s, zmq_pollitem_t *items, int max)
{
    int n = 0;
    for (int i = 0; i < s->n && n < max; i++) {
        child_rec_t *c = s->kids[i];
        int fd = c->info.running ? c->ops->exit_fd(c->state) : -1;
        if (fd >= 0)
            items[n++] = (zmq_pollitem_t){.socket = NULL, .fd = fd, .events = ZMQ_POLLIN};
    }
    return n;
}

/* Whether child c has ended; fills code/signal. Never blocks. */
static int ended(child_rec_t *c)
{
    return c->info.running && c->ops->reap(c->state, &c->info);
}

static void free_kid(child_rec_t *c)
{
    if (c->state)
        c->ops->release(c->state);
    free(c->config);
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
    release_state(s, c);
    if (fn)
        fn(arg, SWB_EV_EXIT, &c->info, NULL);
    int abnormal = c->info.signal != 0 || c->info.code != 0;
    if (!abnormal || c->info.retiring || c->no_restart || s->closed)
        return 1;
    char text[160];
    if (c->info.signal == 0 && c->info.code == SWBI_EXIT_INIT) {
        /* The plugin's init said no: starting it again would say no again. */
        snprintf(text, sizeof text,
                 "failed to start: the plugin's init refused (see the worker's log); not "
                 "restarted");
        swb_log(SWB_LOG_WARN, "child %s %s", c->info.name, text);
        if (fn)
            fn(arg, SWB_EV_GAVE_UP, &c->info, text);
        return 1;
    }
    if (!c->info.ready && !c->was_ready) {
        /* It never got as far as HELLO: restarting would only repeat the failure. A child
         * that worked before and died during a restart is restarted again (within the
         * restart limit), or one bad moment would shrink its group for good. */
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
        if (!c->info.running || !c->ops->rss_mb || !c->mem_limit_mb)
            continue;
        uint64_t mb = c->ops->rss_mb(c->state, &c->info);
        if (mb > c->mem_limit_mb) {
            char text[128];
            snprintf(text, sizeof text, "memory limit: rss %llu MiB over %u MiB",
                     (unsigned long long)mb, c->mem_limit_mb);
            if (fn)
                fn(arg, SWB_EV_LIMIT, &c->info, text);
            /* Its exit is a crash: restarted with backoff. */
            c->ops->signal(c->state, &c->info, SIGKILL);
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
        if (c->info.running)
            c->ops->signal(c->state, &c->info, SIGTERM);
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
        if (!c->info.running || c->ops->finish(c->state, &c->info, 2000) == 0) {
            free_kid(c);
        } else {
            /* It cannot be ended (a thread stuck in a plugin): its record and state are left
             * allocated rather than freed under it. */
            swb_log(SWB_LOG_ERROR, "worker %s %s did not stop", c->ops->what, c->info.name);
            stuck++;
        }
    }
    free(s->kids);
    free(s);
    *self_p = NULL;
    return stuck;
}
