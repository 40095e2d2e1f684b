/*
 * thread_child.c - worker threads: the worker host's loop in a thread of the broker's process,
 * on inproc (child_ops_t for SWB_SPAWN_THREAD, handed to the supervisor by swb_broker_new).
 *
 * Layer: embed (top); uses: host, supervise, common; called by: the supervisor through
 * thread_child_ops, on the broker's loop thread.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child_ops.h"
#include "embed_int.h"
#include "swbi.h"

typedef struct {
    pthread_t thread;
    int done; /* atomic: the host loop returned */
    int exit_code;
    int stop;      /* atomic: told to stop */
    int killed_by; /* the signal it was "sent", reported as what ended it */
    int wake_fd;
    swb_host_opts_t host; /* points into the strings below */
    char name[SWB_NAME_MAX + 1], parent[SWB_NAME_MAX + 1];
    char plugin[PATH_MAX], plugin_dir[PATH_MAX], endpoint[256];
    void *config; /* a copy: the host reads it for the thread's whole life, which may outlast
                     the supervisor's record (a thread that does not stop) */
} thread_t;

static void *thread_entry(void *arg)
{
    thread_t *t = arg;
    pthread_setname_np(pthread_self(), "swb-worker"); /* not the broker's name, for top -H */
    t->exit_code = swb_host_run(&t->host);
    __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
    /* Wake the broker so the exit is reported now, not at its next tick. */
    if (t->wake_fd >= 0) {
        ssize_t w = write(t->wake_fd, "c", 1);
        (void)w; /* a full pipe already wakes the loop */
    }
    return NULL;
}

static int start(void *ctx, const child_start_t *how, child_info_t *info, void **state)
{
    (void)ctx;
    thread_t *t = calloc(1, sizeof *t);
    if (!t)
        return SWB_E_NOMEM;
    snprintf(t->name, sizeof t->name, "%s", how->name);
    snprintf(t->parent, sizeof t->parent, "%s", how->parent ? how->parent : "");
    snprintf(t->plugin, sizeof t->plugin, "%s", how->plugin);
    snprintf(t->plugin_dir, sizeof t->plugin_dir, "%s", how->plugin_dir);
    snprintf(t->endpoint, sizeof t->endpoint, "%s", how->inproc);
    t->wake_fd = how->wake_fd;
    if (how->config_len) {
        if (!(t->config = malloc(how->config_len))) {
            free(t);
            return SWB_E_NOMEM;
        }
        memcpy(t->config, how->config, how->config_len);
    }
    t->host = SWB_OPTS(swb_host_opts_t, .plugin = t->plugin, .plugin_dir = t->plugin_dir,
                       .endpoint = t->endpoint, .zmq_ctx = how->zmq_ctx, .name = t->name,
                       .parent = t->parent, .kind = SWB_PEER_THREAD, .capacity = how->capacity,
                       .stop = &t->stop, .config = t->config, .config_len = how->config_len);
    /* Worker threads take no signals: the embedding program's handlers stay in its threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->thread, NULL, thread_entry, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(t->config);
        free(t);
        return SWB_E_SPAWN;
    }
    info->pid = (int)getpid();
    *state = t;
    return SWB_OK;
}

static int exit_fd(void *state)
{
    (void)state;
    return -1; /* the wake pipe says when a thread ends */
}

static int reap(void *state, child_info_t *info)
{
    thread_t *t = state;
    if (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
        return 0;
    pthread_join(t->thread, NULL);
    info->code = t->exit_code;
    info->signal = t->killed_by;
    return 1;
}

static int tell_stop(void *state, const child_info_t *info, int sig)
{
    (void)info;
    thread_t *t = state;
    t->killed_by = sig;
    __atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
    return SWB_OK;
}

static int finish(void *state, const child_info_t *info, int wait_ms)
{
    (void)info;
    thread_t *t = state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(t->thread, NULL, &ts) == 0 ? 0 : -1;
}

static void release(void *state)
{
    thread_t *t = state;
    free(t->config);
    free(t);
}

const child_ops_t thread_child_ops = {
    .what = "thread",
    .start = start,
    .exit_fd = exit_fd,
    .reap = reap,
    .signal = tell_stop,
    .rss_mb = NULL, /* a thread's memory is the whole process's */
    .finish = finish,
    .release = release,
};
