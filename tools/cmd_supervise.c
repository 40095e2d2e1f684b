/*
 * cmd_supervise.c - `swb reload` and `swb scale`: ask the broker to replace a parent's workers
 * without downtime, or to change how many workers a spawn group has. By default they act on
 * the workers of `swb broker --workers`, whose parent is named "swb-broker".
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "switchboard.h"

#define DEFAULT_PARENT "swb-broker"

typedef struct {
    const char *endpoint, *parent;
} supervise_args_t;

/* reload and scale take the same options. */
static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(supervise_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint (default SWB_ENDPOINT or the per-user one)"},
    {'P', "parent", CLI_STRING_AT(supervise_args_t, parent), .arg = "NAME",
     .help = "whose workers (default " DEFAULT_PARENT ")"},
};

static const cli_spec_t reload_spec = {
    .name = "reload",
    .synopsis = "swb reload [--endpoint EP] [--parent NAME] [GROUP]",
    .about = "Replace the workers of a parent (all, or those of spawn group GROUP): each\n"
             "replacement starts first, then the old worker is drained and leaves.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

static const cli_spec_t scale_spec = {
    .name = "scale",
    .synopsis = "swb scale [--endpoint EP] [--parent NAME] GROUP N",
    .about = "Set the number of workers in spawn group GROUP (the spawn's name, or the\n"
             "plugin's): more are started like the first, extra ones drain and leave.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

int cmd_reload(int argc, char **argv)
{
    supervise_args_t a = {.parent = DEFAULT_PARENT};
    int first, rc = cli_opts_parse(&reload_spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (argc - first > 1)
        return cli_usage_error(&reload_spec, "unexpected argument '%s'", argv[first + 1]);
    const char *parent = a.parent, *group = first < argc ? argv[first] : NULL;
    swb_peer_t *p = NULL;
    if (cli_connect("reload", a.endpoint, 0, &p))
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
    supervise_args_t a = {.parent = DEFAULT_PARENT};
    int first, rc = cli_opts_parse(&scale_spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (argc - first != 2)
        return cli_usage_error(&scale_spec, "expected GROUP and N");
    const char *parent = a.parent, *group = argv[first];
    long n;
    if (cli_parse_long("scale", "worker count", argv[first + 1], 0, 256, &n))
        return 2;
    swb_peer_t *p = NULL;
    if (cli_connect("scale", a.endpoint, 0, &p))
        return 1;
    rc = swb_request_scale(p, parent, group, (uint32_t)n);
    swb_peer_destroy(&p);
    if (rc == SWB_E_UNKNOWN_PEER) {
        fprintf(stderr, "error: %s: %s has no workers in group '%s'\n", swb_errname(rc), parent,
                group);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "error: %s: %s\n", swb_errname(rc), swb_strerror(rc));
        return 1;
    }
    printf("%s: %ld worker%s\n", group, n, n == 1 ? "" : "s");
    return 0;
}
