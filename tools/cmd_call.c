/*
 * cmd_call.c - `swb call SERVICE [JSON]`: run one task on a service and print its result.
 *
 * The JSON body (null when omitted) goes to the broker as msgpack with the timeout as the
 * task's deadline, so the broker, which knows whether the task is queued, running or lost,
 * decides how it ends. The result body is printed as JSON on stdout (exit 0); any error, the
 * task's own or the broker's, is printed as `error: <wire name>: <text>` on stderr (exit 1),
 * the same form as `swb send`, so scripts can match on the stable wire name.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

typedef struct {
    const char *endpoint;
    long timeout_ms;
    int pretty;
} call_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(call_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint; default: SWB_ENDPOINT or the per-user\nipc socket"},
    {'t', "timeout", CLI_LONG_AT(call_args_t, timeout_ms, 1, 24L * 3600 * 1000), .arg = "MS",
     .help = "the task's deadline (default 10000)"},
    {'P', "pretty", CLI_FLAG_AT(call_args_t, pretty), .help = "indent the result"},
};

/* Options may follow the operands; a body starting with '-' (such as -5) goes after --. */
static const cli_spec_t spec = {
    .name = "call",
    .synopsis = "swb call [--endpoint EP] [--timeout MS] [--pretty] [--] SERVICE [JSON]",
    .about = "Run one task on SERVICE with JSON (as msgpack; null when omitted) as its input\n"
             "and print the result as JSON. On error print 'error: NAME: TEXT' on stderr\n"
             "and exit 1 (NAME is the wire name, e.g. no_such_service, deadline). A JSON\n"
             "body that starts with '-' goes after --. JSON may be @FILE (read from FILE)\n"
             "or - (read from standard input).",
    CLI_OPTIONS(options),
};

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
    call_args_t a = {.timeout_ms = 10000};
    int first, parsed = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (parsed != CLI_GO_ON)
        return parsed;
    const char *endpoint = a.endpoint;
    long timeout_ms = a.timeout_ms;
    int pretty = a.pretty;
    int nargs = argc - first;
    if (nargs < 1 || nargs > 2)
        return cli_usage_error(&spec, "expected SERVICE and an optional JSON body");
    const char *service = argv[first], *json = nargs == 2 ? argv[first + 1] : "null";
    if (!*service || strlen(service) > SWB_NAME_MAX)
        return cli_usage_error(&spec, "bad service name '%s'", service);

    char *text = cli_json_arg("call", json);
    if (!text)
        return 2;
    char *body = NULL, err[256];
    size_t len = 0;
    int rc = swb_json_to_msgpack(text, &body, &len, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "swb call: bad JSON: %s\n", err);
        return 2;
    }
    swb_peer_t *p = NULL;
    /* Waiting longer for the broker to answer HELLO than for the task would be odd. */
    if (cli_connect("call", endpoint, timeout_ms < 5000 ? (int)timeout_ms : 5000, &p)) {
        free(body);
        return 1;
    }
    int exit_code = call(p, service, body, len, timeout_ms, pretty);
    free(body);
    swb_peer_destroy(&p);
    return exit_code;
}
