/*
 * cmd_worker.c - `swb worker`: host one plugin in the foreground, as swb-worker does, for a
 * worker started by hand (on this host or, with a tcp:// endpoint, on another). SIGINT and
 * SIGTERM set the host's stop flag; the host leaves with BYE.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = 1;
}

typedef struct {
    const char *endpoint, *plugin, *name, *config;
    long capacity;
} worker_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(worker_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint; default: SWB_ENDPOINT or the per-user\n"
             "ipc socket. A tcp:// endpoint makes this a remote worker."},
    {'p', "plugin", CLI_STRING_AT(worker_args_t, plugin), .arg = "P",
     .help = "plugin name in the plugin folder, or a path to a .so"},
    {'n', "name", CLI_STRING_AT(worker_args_t, name), .arg = "N",
     .help = "worker name (default: the broker picks one)"},
    {'c', "capacity", CLI_LONG_AT(worker_args_t, capacity, 1, 1000000), .arg = "N",
     .help = "tasks at once (default: the plugin's)"},
    {0, "config", CLI_STRING_AT(worker_args_t, config), .arg = "JSON",
     .help = "the plugin's config (swb_ctx_config), as JSON; default: nil"},
};

static const cli_spec_t spec = {
    .name = "worker",
    .synopsis = "swb worker --plugin NAME|PATH [--endpoint EP] [--name N] [--capacity N]\n"
                "                  [--config JSON]",
    .about = "Run a worker plugin connected to a broker until the broker says BYE or SIGINT\n"
             "or SIGTERM arrives.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

int cmd_worker(int argc, char **argv)
{
    worker_args_t a = {0};
    int first, rc = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (first < argc)
        return cli_usage_error(&spec, "unexpected argument '%s'", argv[first]);
    if (!a.plugin)
        return cli_usage_error(&spec, "--plugin is required");
    /* SWB_OPTS: config is past the first layout, which a zero size stands for. */
    swb_host_opts_t opts =
        SWB_OPTS(swb_host_opts_t, .kind = SWB_PEER_PROCESS, .endpoint = a.endpoint,
                 .plugin = a.plugin, .name = a.name, .capacity = (uint32_t)a.capacity);
    char *config = NULL;
    if (a.config) {
        char err[256];
        rc = swb_json_to_msgpack(a.config, &config, &opts.config_len, err, sizeof err);
        if (rc)
            return cli_usage_error(&spec, "--config: %s", err);
        opts.config = config;
    }

    char defep[512];
    if (!opts.endpoint) {
        rc = swb_default_endpoint(defep, sizeof defep);
        if (rc) {
            fprintf(stderr, "swb worker: no endpoint: %s\n", swb_strerror(rc));
            free(config);
            return 1;
        }
        opts.endpoint = defep;
    }
    if (strncmp(opts.endpoint, "tcp://", 6) == 0)
        opts.kind = SWB_PEER_REMOTE;

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    _Static_assert(sizeof(sig_atomic_t) == sizeof(int), "stop flag is a volatile int");
    opts.stop = (volatile int *)&stop_flag;

    rc = swb_host_run(&opts);
    free(config);
    return rc < 0 || rc > 255 ? 1 : rc;
}
