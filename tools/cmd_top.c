/*
 * cmd_top.c - `swb top`: the broker's STATS as tables, redrawn every interval until
 * interrupted (or --count times), like top(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "switchboard.h"

typedef struct {
    const char *endpoint;
    long interval_ms, count;
} top_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(top_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint (default SWB_ENDPOINT or the per-user one)"},
    {'i', "interval", CLI_LONG_AT(top_args_t, interval_ms, 50, 3600000), .arg = "MS",
     .help = "refresh period (default 1000)"},
    {'n', "count", CLI_LONG_AT(top_args_t, count, 1, 1000000), .arg = "N",
     .help = "stop after N screens (default: run until interrupted)"},
};

static const cli_spec_t spec = {
    .name = "top",
    .synopsis = "swb top [--endpoint EP] [--interval MS] [--count N]",
    .about = "Show the broker's peers, services and counters, refreshed until Ctrl-C.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

int cmd_top(int argc, char **argv)
{
    top_args_t a = {.interval_ms = 1000};
    int first, rc = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (first < argc)
        return cli_usage_error(&spec, "unexpected argument '%s'", argv[first]);
    long interval = a.interval_ms, count = a.count;
    swb_peer_t *p = NULL;
    if (cli_connect("top", a.endpoint, 0, &p))
        return 1;
    int tty = isatty(STDOUT_FILENO);
    for (long i = 0; !count || i < count; i++) {
        void *body = NULL;
        size_t len = 0;
        rc = swb_peer_stats(p, &body, &len, 2000);
        if (rc) {
            fprintf(stderr, "swb top: %s\n", swb_strerror(rc));
            break;
        }
        if (tty)
            printf("\033[H\033[2J"); /* home and clear: redraw in place */
        time_t now = time(NULL);
        printf("swb top - %s", ctime(&now));
        stats_print_table(body, len);
        fflush(stdout);
        free(body);
        if (count && i + 1 >= count)
            break;
        swb_msg_t m = {0};
        swb_peer_recv(p, &m, (int)interval); /* also keeps the connection alive */
        swb_msg_close(&m);
    }
    swb_peer_destroy(&p);
    return rc ? 1 : 0;
}
