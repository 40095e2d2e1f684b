/*
 * main.c - swb-worker: the executable that hosts one plugin as a worker process.
 *
 * The supervisor starts it with SWB_ENDPOINT, SWB_PLUGIN, SWB_NAME, SWB_PARENT,
 * SWB_CAPACITY and SWB_CONFIG (hex of the plugin's msgpack config) in the environment; a person
 * starts it with the same settings as options (options win). Everything else is swb_host_run's job;
 * this file only turns arguments into swb_host_opts_t and SIGTERM/SIGINT into the host's stop flag
 * (and SWB_PPID into PR_SET_PDEATHSIG).
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "switchboard.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: swb-worker --endpoint EP --plugin NAME|PATH [--name N] [--parent P]\n"
               "                  [--capacity N] [--kind process|remote]\n"
               "\n"
               "Load a worker plugin, connect to the broker at EP and serve tasks and messages\n"
               "until the broker says BYE or SIGTERM/SIGINT arrives.\n"
               "\n"
               "  -e, --endpoint EP    broker endpoint (env SWB_ENDPOINT; default: the default\n"
               "                       broker socket)\n"
               "  -p, --plugin P       plugin name in the plugin folder, or a path to a .so\n"
               "                       (env SWB_PLUGIN)\n"
               "  -n, --name N         worker name (env SWB_NAME; default: the broker picks)\n"
               "      --parent P       parent peer's name (env SWB_PARENT)\n"
               "  -c, --capacity N     tasks at once (env SWB_CAPACITY; default: the plugin's)\n"
               "      --kind K         process or remote (default: remote for a tcp://\n"
               "                       endpoint, else process)\n"
               "  -h, --help           this text\n"
               "\n"
               "The plugin's config (swb_ctx_config) comes from env SWB_CONFIG: hex of one\n"
               "msgpack value.\n");
}

static const char *env_or(const char *value, const char *env)
{
    if (value)
        return value;
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}

static int parse_capacity(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v == 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Started by a supervisor: die with the broker thread that spawned us (the thread, not the
 * process, is what PR_SET_PDEATHSIG watches), and leave now if it is already gone. Not
 * passed on to anything the plugin starts. */
static void follow_parent(void)
{
    const char *v = getenv("SWB_PPID");
    if (!v)
        return;
    long ppid = strtol(v, NULL, 10);
    unsetenv("SWB_PPID");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ppid > 0 && getppid() != (pid_t)ppid)
        _exit(127);
}

/* SWB_CONFIG: the plugin's config as hex of its msgpack (an environment variable holds no
 * NUL). Read once and removed, so nothing the plugin starts inherits it. *out is malloc'd;
 * returns -1 on bad hex. */
static int take_config(unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    const char *v = getenv("SWB_CONFIG");
    if (!v || !*v)
        return 0;
    size_t n = strlen(v);
    if (n % 2 || n / 2 > SWB_CONFIG_MAX)
        return -1;
    unsigned char *b = malloc(n / 2);
    if (!b)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        if (!isxdigit((unsigned char)v[2 * i]) || !isxdigit((unsigned char)v[2 * i + 1]) ||
            sscanf(v + 2 * i, "%2x", &byte) != 1) {
            free(b);
            return -1;
        }
        b[i] = (unsigned char)byte;
    }
    unsetenv("SWB_CONFIG");
    *out = b;
    *len = n / 2;
    return 0;
}

int main(int argc, char **argv)
{
    follow_parent();
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"plugin", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},     {"parent", required_argument, NULL, 'P'},
        {"capacity", required_argument, NULL, 'c'}, {"kind", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *endpoint = NULL, *plugin = NULL, *name = NULL, *parent = NULL;
    const char *capacity = NULL, *kind = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+e:p:n:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        case 'p':
            plugin = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'P':
            parent = optarg;
            break;
        case 'c':
            capacity = optarg;
            break;
        case 'k':
            kind = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "swb-worker: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    swb_host_opts_t opts = SWB_OPTS(swb_host_opts_t, .kind = 0);
    opts.plugin = env_or(plugin, "SWB_PLUGIN");
    opts.name = env_or(name, "SWB_NAME");
    opts.parent = env_or(parent, "SWB_PARENT");
    capacity = env_or(capacity, "SWB_CAPACITY");
    if (!opts.plugin) {
        fprintf(stderr, "swb-worker: no plugin (--plugin or SWB_PLUGIN)\n");
        usage(stderr);
        return 2;
    }
    if (capacity && parse_capacity(capacity, &opts.capacity)) {
        fprintf(stderr, "swb-worker: bad capacity '%s'\n", capacity);
        return 2;
    }
    /* swb_default_endpoint reads SWB_ENDPOINT itself, then falls back to the default socket. */
    char defep[512];
    opts.endpoint = endpoint;
    if (!opts.endpoint) {
        int rc = swb_default_endpoint(defep, sizeof defep);
        if (rc) {
            fprintf(stderr, "swb-worker: no endpoint: %s\n", swb_strerror(rc));
            return 1;
        }
        opts.endpoint = defep;
    }
    if (!kind)
        kind = strncmp(opts.endpoint, "tcp://", 6) == 0 ? "remote" : "process";
    if (strcmp(kind, "process") == 0)
        opts.kind = SWB_PEER_PROCESS;
    else if (strcmp(kind, "remote") == 0)
        opts.kind = SWB_PEER_REMOTE;
    else {
        fprintf(stderr, "swb-worker: bad kind '%s' (process or remote)\n", kind);
        return 2;
    }

    unsigned char *config = NULL;
    if (take_config(&config, &opts.config_len)) {
        fprintf(stderr, "swb-worker: SWB_CONFIG is not hex of at most %d bytes\n", SWB_CONFIG_MAX);
        return 2;
    }
    opts.config = config;

    /* No SA_RESTART: a blocking call returns EINTR and the host sees the flag at once. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A blocked mask survives exec: whoever started us may have blocked these to sigwait. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_UNBLOCK, &sigs, NULL);
    _Static_assert(sizeof(sig_atomic_t) == sizeof(int), "stop flag is a volatile int");
    opts.stop = (volatile int *)&stop_flag;

    int rc = swb_host_run(&opts);
    free(config);
    return rc < 0 || rc > 255 ? 1 : rc;
}
