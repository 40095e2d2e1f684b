/*
 * cmd_broker.c - `swb broker`: run a broker daemon, optionally with a pool of workers.
 *
 * SIGINT/SIGTERM shut the broker down gracefully (swb_broker_shutdown, async-signal-safe):
 * accepted tasks finish, workers drain and leave, the socket file is removed, exit 0; a second
 * signal stops it at once. Without --workers the broker loop runs in this thread. With
 * --workers the broker runs in its own thread and this thread is the workers' parent peer
 * ("swb-broker"): it starts them with swb_spawn, reports their events, and on SIGHUP reloads
 * them without downtime. The signals are blocked before any thread exists, so only the
 * sigtimedwait here takes them; it waits in short turns between swb_peer_recv calls.
 */
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

#define WAIT_SLICE_MS 250

static swb_broker_t *volatile running;
static volatile sig_atomic_t signals_seen;
static int shutdown_ms = 10000;

static void on_signal(int sig)
{
    swb_broker_t *b = running;
    if (!b)
        return;
    if (signals_seen++)
        swb_broker_stop(b); /* the second one: now */
    else
        swb_broker_shutdown(b, shutdown_ms);
}

typedef struct {
    cli_list_t endpoints;
    long workers;
    const char *plugin, *config;
    int threads;
    long shutdown_ms;
    long max_memory_mb;
} broker_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_LIST_AT(broker_args_t, endpoints), .arg = "EP",
     .help = "bind EP (ipc://, tcp://, inproc://); repeatable;\n"
             "default: SWB_ENDPOINT or the per-user ipc socket"},
    {'w', "workers", CLI_LONG_AT(broker_args_t, workers, 1, 4096), .arg = "N",
     .what = "worker count", .help = "also start N workers running the plugin"},
    {'p', "plugin", CLI_STRING_AT(broker_args_t, plugin), .arg = "P",
     .help = "plugin name in the plugin folder, or a path to a .so"},
    {0, "config", CLI_STRING_AT(broker_args_t, config), .arg = "JSON",
     .help = "the workers' config (swb_ctx_config), as JSON"},
    {'t', "threads", CLI_FLAG_AT(broker_args_t, threads),
     .help = "run the workers as threads of this process, not processes"},
    {'s', "shutdown-timeout", CLI_LONG_AT(broker_args_t, shutdown_ms, 0, 3600000), .arg = "MS",
     .what = "shutdown timeout", .help = "how long tasks may take to finish (default 10000)"},
    {'m', "max-memory", CLI_LONG_AT(broker_args_t, max_memory_mb, 1, 1 << 22), .arg = "MB",
     .what = "memory bound",
     .help = "past MB of heap, new tasks get queue_full until it is back\n"
             "under 7/8 of it (default: no bound)"},
};

static const cli_spec_t spec = {
    .name = "broker",
    .synopsis = "swb broker [--endpoint EP]... [--workers N --plugin NAME|PATH [--threads]\n"
                "                  [--config JSON]]\n"
                "                  [--shutdown-timeout MS] [--max-memory MB]",
    .about = "Run a broker until SIGINT or SIGTERM, then shut down gracefully. A second\n"
             "signal stops at once: tasks still running are not answered by the broker, and\n"
             "their clients end them broker_lost once it is silent past its heartbeat\n"
             "liveness. With --workers, SIGHUP reloads the workers without downtime. Prints\n"
             "the endpoint it serves.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

static void print_serving(swb_broker_t *b, const char *const *eps, size_t n)
{
    const char *ep = swb_broker_endpoint(b);
    printf("swb broker: serving on %s", ep ? ep : swb_broker_inproc(b));
    for (size_t i = 0; i < n; i++)
        if (!ep || strcmp(eps[i], ep) != 0)
            printf(" %s", eps[i]);
    printf("\n");
    fflush(stdout); /* scripts wait for this line */
}

static int run_foreground(swb_broker_t *b)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    running = b;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGHUP, SIG_IGN); /* no workers of its own to reload */
    int rc = swb_broker_run(b);
    running = NULL;
    if (rc)
        fprintf(stderr, "swb broker: %s\n", swb_strerror(rc));
    return rc ? 1 : 0;
}

static void report_event(const swb_msg_t *m)
{
    if (m->type != SWB_MSG_EVENT)
        return;
    if (m->event == SWB_EVENT_EXIT && m->signal)
        fprintf(stderr, "swb broker: worker %s (pid %d) killed by signal %d\n", m->name, m->pid,
                m->signal);
    else if (m->event == SWB_EVENT_EXIT)
        fprintf(stderr, "swb broker: worker %s (pid %d) exited with code %d\n", m->name, m->pid,
                m->code);
    else if (m->event == SWB_EVENT_LOST)
        fprintf(stderr, "swb broker: worker %s lost\n", m->name);
    else if (m->event == SWB_EVENT_READY)
        fprintf(stderr, "swb broker: worker %s (pid %d) ready\n", m->name, m->pid);
    else if (m->event == SWB_EVENT_RESTART || m->event == SWB_EVENT_GAVE_UP ||
             m->event == SWB_EVENT_LIMIT || m->event == SWB_EVENT_RELOADED)
        fprintf(stderr, "swb broker: %s %s: %s\n",
                m->event == SWB_EVENT_RESTART   ? "restart"
                : m->event == SWB_EVENT_GAVE_UP ? "gave up"
                : m->event == SWB_EVENT_LIMIT   ? "limit"
                                                : "reloaded",
                m->name, m->text);
}

/* The parent side of the pool: spawn, then serve heartbeats and report exits until a
 * blocked SIGINT/SIGTERM is pending. */
static int run_pool(swb_broker_t *b, const sigset_t *sigs, const char *plugin, long count,
                    int threads, const char *config, size_t config_len)
{
    int rc = swb_broker_start(b);
    if (rc) {
        fprintf(stderr, "swb broker: cannot start: %s\n", swb_strerror(rc));
        return 1;
    }
    swb_peer_t *parent = NULL;
    swb_peer_opts_t po = {.broker = b, .name = "swb-broker"};
    rc = swb_peer_new(&parent, &po);
    if (rc) {
        fprintf(stderr, "swb broker: cannot connect the parent peer: %s\n", swb_strerror(rc));
        return 1;
    }
    swb_child_t *kids = calloc((size_t)count, sizeof *kids);
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(
        swb_spawn_opts_t, .plugin = plugin, .mode = threads ? SWB_CHILD_THREAD : SWB_CHILD_PROCESS,
        .count = (uint32_t)count, .config = config, .config_len = config_len);
    rc = kids ? swb_spawn(parent, &so, kids, (size_t)count, &n) : SWB_E_NOMEM;
    if (rc) {
        fprintf(stderr, "swb broker: cannot start workers: %s\n", swb_strerror(rc));
        free(kids);
        swb_peer_destroy(&parent);
        return 1;
    }
    fprintf(stderr, "swb broker: started %zu %s worker%s (%s):", n, threads ? "thread" : "process",
            n == 1 ? "" : "s", plugin);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", kids[i].name);
    fprintf(stderr, "\n");
    free(kids);

    swb_msg_t m = {0};
    const struct timespec no_wait = {0, 0};
    int exit_code = 0;
    for (;;) {
        rc = swb_peer_recv(parent, &m, WAIT_SLICE_MS);
        if (rc == 0)
            report_event(&m);
        else if (rc != SWB_E_TIMEOUT) {
            fprintf(stderr, "swb broker: parent peer: %s\n", swb_strerror(rc));
            exit_code = 1;
            break;
        }
        int sig = sigtimedwait(sigs, NULL, &no_wait);
        if (sig == SIGHUP) {
            fprintf(stderr, "swb broker: reloading workers\n");
            rc = swb_reload(parent, NULL, 60000);
            fprintf(stderr, "swb broker: reload %s\n", rc ? swb_strerror(rc) : "done");
        } else if (sig > 0) {
            break;
        }
    }
    swb_msg_close(&m);
    if (!exit_code) {
        /* Graceful: tasks finish, workers drain and leave; a second signal cuts it short. */
        swb_broker_shutdown(b, shutdown_ms);
        running = b;
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        signals_seen = 1;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
        swb_broker_wait(b);
        running = NULL;
    }
    swb_peer_destroy(&parent);
    return exit_code;
}

int cmd_broker(int argc, char **argv)
{
    broker_args_t a = {.shutdown_ms = 10000};
    int first, rc = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (first < argc)
        rc = cli_usage_error(&spec, "unexpected argument '%s'", argv[first]);
    else if (a.workers && !a.plugin)
        rc = cli_usage_error(&spec, "--workers needs --plugin");
    else if (!a.workers && (a.plugin || a.threads || a.config))
        rc = cli_usage_error(&spec, "--plugin, --threads and --config need --workers");
    char *config = NULL;
    size_t config_len = 0;
    if (rc == CLI_GO_ON && a.config) {
        char err[256];
        if (swb_json_to_msgpack(a.config, &config, &config_len, err, sizeof err))
            rc = cli_usage_error(&spec, "--config: %s", err);
    }
    if (rc != CLI_GO_ON) {
        cli_opts_free(&spec, &a);
        free(config);
        return rc;
    }
    shutdown_ms = (int)a.shutdown_ms;
    const char **eps = a.endpoints.items;
    size_t n_eps = a.endpoints.n;

    /* Block before swb_broker_new creates any thread: every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    if (a.workers)
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    /* Hundreds of worker threads need a descriptor or two each: take what the hard limit
     * allows (a library would not do this behind its host program's back; a daemon should). */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    swb_broker_t *b = NULL;
    swb_broker_opts_t bo =
        SWB_OPTS(swb_broker_opts_t, .endpoints = n_eps ? eps : NULL, .n_endpoints = n_eps,
                 .max_memory_mb = (uint32_t)a.max_memory_mb);
    rc = swb_broker_new(&b, &bo);
    if (rc) {
        fprintf(stderr, "swb broker: %s\n", swb_strerror(rc));
        cli_opts_free(&spec, &a);
        free(config);
        return 1;
    }
    print_serving(b, eps, n_eps);
    rc = a.workers ? run_pool(b, &sigs, a.plugin, a.workers, a.threads, config, config_len)
                   : run_foreground(b);
    swb_broker_destroy(&b);
    cli_opts_free(&spec, &a);
    free(config);
    return rc;
}
