/*
 * cmd_top.c - `swb top`: the broker's STATS as tables, redrawn every interval until
 * interrupted (or --count times), like top(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "switchboard.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: swb top [--endpoint EP] [--interval MS] [--count N]\n"
               "\n"
               "Show the broker's peers, services and counters, refreshed until Ctrl-C.\n"
               "\n"
               "  -e, --endpoint EP  broker endpoint (default SWB_ENDPOINT or the per-user one)\n"
               "  -i, --interval MS  refresh period (default 1000)\n"
               "  -n, --count N      stop after N screens (default: run until interrupted)\n");
}

int cmd_top(int argc, char **argv)
{
    static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                             {"interval", required_argument, NULL, 'i'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *endpoint = NULL;
    long interval = 1000, count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+e:i:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        case 'i':
            if (cli_parse_long("top", "interval", optarg, 50, 3600000, &interval))
                return 2;
            break;
        case 'n':
            if (cli_parse_long("top", "count", optarg, 1, 1000000, &count))
                return 2;
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
        return cli_usage_error("top", usage, "unexpected argument '%s'", argv[optind]);
    swb_peer_t *p = NULL;
    swb_peer_opts_t po = {.endpoint = endpoint};
    int rc = swb_peer_new(&p, &po);
    if (rc) {
        fprintf(stderr, "swb top: cannot connect to the broker: %s\n", swb_strerror(rc));
        return 1;
    }
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
