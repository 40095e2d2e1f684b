/*
 * cmd_call.c - `swb call SERVICE [JSON]`: run one task on a service and print its result.
 *
 * The JSON body (null when omitted) goes to the broker as msgpack with the timeout as the
 * task's deadline, so the broker, which knows whether the task is queued, running or lost,
 * decides how it ends. The result body is printed as JSON on stdout (exit 0); any error, the
 * task's own or the broker's, is printed as `error: <wire name>: <text>` on stderr (exit 1),
 * the same form as `swb send`, so scripts can match on the stable wire name.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: swb call [--endpoint EP] [--timeout MS] [--pretty] [--] SERVICE [JSON]\n"
               "\n"
               "Run one task on SERVICE with JSON (as msgpack; null when omitted) as its input\n"
               "and print the result as JSON. On error print 'error: NAME: TEXT' on stderr\n"
               "and exit 1 (NAME is the wire name, e.g. no_such_service, deadline). A JSON\n"
               "body that starts with '-' goes after --.\n"
               "\n"
               "  -e, --endpoint EP   broker endpoint; default: SWB_ENDPOINT or the per-user\n"
               "                      ipc socket\n"
               "  -t, --timeout MS    the task's deadline (default 10000)\n"
               "  -P, --pretty        indent the result\n"
               "  -h, --help          this text\n");
}

static int print_error(int code, const char *text)
{
    fprintf(stderr, "error: %s: %s\n", swb_errname(code),
            text && *text ? text : swb_strerror(code));
    return 1;
}

/* Call and print; returns the exit code. */
static int call(swb_peer_t *p, const char *service, const char *body, size_t len, long timeout_ms,
                int pretty)
{
    swb_msg_t m = {0};
    int rc = swb_call(p, service, body, len, (int)timeout_ms, &m);
    int exit_code = 0;
    if (rc != SWB_OK) {
        exit_code =
            print_error(rc, m.type == SWB_MSG_RESULT || m.type == SWB_MSG_ERROR ? m.text : NULL);
    } else {
        char *json = NULL;
        rc = m.len ? swb_msgpack_to_json(m.body, m.len, pretty, &json) : 0;
        if (rc) {
            fprintf(stderr, "swb call: result is not printable as JSON: %s\n", swb_strerror(rc));
            exit_code = 1;
        } else
            printf("%s\n", json ? json : "null");
        free(json);
    }
    swb_msg_close(&m);
    return exit_code;
}

int cmd_call(int argc, char **argv)
{
    cli_io_opts_t io = {.timeout_ms = 10000};
    int parsed = cli_parse_io_opts("call", usage, argc, argv, &io, 1);
    if (parsed >= 0)
        return parsed;
    const char *endpoint = io.endpoint;
    long timeout_ms = io.timeout_ms;
    int pretty = io.pretty;
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 2)
        return cli_usage_error("call", usage, "expected SERVICE and an optional JSON body");
    const char *service = argv[optind], *json = nargs == 2 ? argv[optind + 1] : "null";
    if (!*service || strlen(service) > SWB_NAME_MAX)
        return cli_usage_error("call", usage, "bad service name '%s'", service);

    char *body = NULL, err[256];
    size_t len = 0;
    int rc = swb_json_to_msgpack(json, &body, &len, err, sizeof err);
    if (rc) {
        fprintf(stderr, "swb call: bad JSON: %s\n", err);
        return 2;
    }
    swb_peer_t *p = NULL;
    /* Waiting longer for the broker to answer HELLO than for the task would be odd. */
    swb_peer_opts_t po = {.endpoint = endpoint,
                          .connect_timeout_ms = timeout_ms < 5000 ? (int)timeout_ms : 5000};
    rc = swb_peer_new(&p, &po);
    if (rc) {
        fprintf(stderr, "swb call: cannot connect to the broker: %s\n", swb_strerror(rc));
        free(body);
        return 1;
    }
    int exit_code = call(p, service, body, len, timeout_ms, pretty);
    free(body);
    swb_peer_destroy(&p);
    return exit_code;
}
