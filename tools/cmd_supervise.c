/*
 * cmd_supervise.c - `swb reload` and `swb scale`: ask the broker to replace a parent's workers
 * without downtime, or to change how many workers a spawn group has. By default they act on
 * the workers of `swb broker --workers`, whose parent is named "swb-broker".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "switchboard.h"

#define DEFAULT_PARENT "swb-broker"

static void reload_usage(FILE *f)
{
    fprintf(f, "usage: swb reload [--endpoint EP] [--parent NAME] [GROUP]\n"
               "\n"
               "Replace the workers of a parent (all, or those of spawn group GROUP): each\n"
               "replacement starts first, then the old worker is drained and leaves.\n"
               "\n"
               "  -e, --endpoint EP  broker endpoint (default SWB_ENDPOINT or the per-user one)\n"
               "  -P, --parent NAME  whose workers (default " DEFAULT_PARENT ")\n");
}

static void scale_usage(FILE *f)
{
    fprintf(f, "usage: swb scale [--endpoint EP] [--parent NAME] GROUP N\n"
               "\n"
               "Set the number of workers in spawn group GROUP (the spawn's name, or the\n"
               "plugin's): more are started like the first, extra ones drain and leave.\n"
               "\n"
               "  -e, --endpoint EP  broker endpoint (default SWB_ENDPOINT or the per-user one)\n"
               "  -P, --parent NAME  whose workers (default " DEFAULT_PARENT ")\n");
}

static int parse(const char *cmd, void (*usage)(FILE *), int argc, char **argv,
                 const char **endpoint, const char **parent)
{
    static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                             {"parent", required_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+e:P:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            *endpoint = optarg;
            break;
        case 'P':
            *parent = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    (void)cmd;
    return -1;
}

static int connect_and(const char *cmd, const char *endpoint, swb_peer_t **p)
{
    swb_peer_opts_t po = {.endpoint = endpoint};
    int rc = swb_peer_new(p, &po);
    if (rc)
        fprintf(stderr, "swb %s: cannot connect to the broker: %s\n", cmd, swb_strerror(rc));
    return rc;
}

int cmd_reload(int argc, char **argv)
{
    const char *endpoint = NULL, *parent = DEFAULT_PARENT;
    int rc = parse("reload", reload_usage, argc, argv, &endpoint, &parent);
    if (rc >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage_error("reload", reload_usage, "unexpected argument '%s'",
                               argv[optind + 1]);
    const char *group = optind < argc ? argv[optind] : NULL;
    swb_peer_t *p = NULL;
    if (connect_and("reload", endpoint, &p))
        return 1;
    rc = swb_request_reload(p, parent, group);
    swb_peer_destroy(&p);
    if (rc) {
        fprintf(stderr, "error: %s: %s\n", swb_errname(rc), swb_strerror(rc));
        return 1;
    }
    printf("reload of %s's workers started\n", parent);
    return 0;
}

int cmd_scale(int argc, char **argv)
{
    const char *endpoint = NULL, *parent = DEFAULT_PARENT;
    int rc = parse("scale", scale_usage, argc, argv, &endpoint, &parent);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2)
        return cli_usage_error("scale", scale_usage, "expected GROUP and N");
    long n;
    if (cli_parse_long("scale", "worker count", argv[optind + 1], 0, 256, &n))
        return 2;
    swb_peer_t *p = NULL;
    if (connect_and("scale", endpoint, &p))
        return 1;
    rc = swb_request_scale(p, parent, argv[optind], (uint32_t)n);
    swb_peer_destroy(&p);
    if (rc == SWB_E_UNKNOWN_PEER) {
        fprintf(stderr, "error: %s: %s has no workers in group '%s'\n", swb_errname(rc), parent,
                argv[optind]);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "error: %s: %s\n", swb_errname(rc), swb_strerror(rc));
        return 1;
    }
    printf("%s: %ld worker%s\n", argv[optind], n, n == 1 ? "" : "s");
    return 0;
}
