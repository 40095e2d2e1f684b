/*
 * cmd_worker.c - `swb worker`: host one plugin in the foreground, as swb-worker does, for a
 * worker started by hand (on this host or, with a tcp:// endpoint, on another). SIGINT and
 * SIGTERM set the host's stop flag; the host leaves with BYE.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "switchboard.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: swb worker --plugin NAME|PATH [--endpoint EP] [--name N] [--capacity N]\n"
               "\n"
               "Run a worker plugin connected to a broker until the broker says BYE or SIGINT\n"
               "or SIGTERM arrives.\n"
               "\n"
               "  -e, --endpoint EP   broker endpoint; default: SWB_ENDPOINT or the per-user\n"
               "                      ipc socket. A tcp:// endpoint makes this a remote worker.\n"
               "  -p, --plugin P      plugin name in the plugin folder, or a path to a .so\n"
               "  -n, --name N        worker name (default: the broker picks one)\n"
               "  -c, --capacity N    tasks at once (default: the plugin's)\n"
               "  -h, --help          this text\n");
}

int cmd_worker(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"plugin", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},     {"capacity", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    swb_host_opts_t opts = {.kind = SWB_PEER_PROCESS};
    long capacity = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+e:p:n:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            opts.endpoint = optarg;
            break;
        case 'p':
            opts.plugin = optarg;
            break;
        case 'n':
            opts.name = optarg;
            break;
        case 'c':
            if (cli_parse_long("worker", "capacity", optarg, 1, 1000000, &capacity))
                return 2;
            opts.capacity = (uint32_t)capacity;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return cli_usage_error("worker", usage, "unexpected argument '%s'", argv[optind]);
    if (!opts.plugin)
        return cli_usage_error("worker", usage, "--plugin is required");

    char defep[512];
    if (!opts.endpoint) {
        int rc = swb_default_endpoint(defep, sizeof defep);
        if (rc) {
            fprintf(stderr, "swb worker: no endpoint: %s\n", swb_strerror(rc));
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

    int rc = swb_host_run(&opts);
    return rc < 0 || rc > 255 ? 1 : rc;
}
