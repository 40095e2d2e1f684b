/*
 * cmd_send.c - `swb send PEER JSON`: send one message to a peer and print its reply.
 *
 * A message needs no reply, so silence until the timeout is success. What comes back within
 * the timeout decides the outcome: a DELIVER from PEER is printed as JSON (exit 0), an ERROR
 * (unknown peer, unreachable, ...) is printed on stderr (exit 1). Anything else that arrives
 * meanwhile (messages from other peers, events) is not for us and is skipped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

typedef struct {
    const char *endpoint;
    long timeout_ms;
    int pretty;
} send_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(send_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint; default: SWB_ENDPOINT or the per-user\nipc socket"},
    {'t', "timeout", CLI_LONG_AT(send_args_t, timeout_ms, 0, 24L * 3600 * 1000), .arg = "MS",
     .help = "how long to wait for a reply; 0 does not wait"},
    {'P', "pretty", CLI_FLAG_AT(send_args_t, pretty), .help = "indent the reply"},
};

/* Options may follow the operands; a body starting with '-' (such as -5) goes after --. */
static const cli_spec_t spec = {
    .name = "send",
    .synopsis = "swb send [--endpoint EP] [--timeout MS] [--pretty] [--] PEER JSON",
    .about = "Send JSON (as msgpack) to the peer named PEER and wait up to MS milliseconds\n"
             "(default 2000) for a reply, which is printed as JSON. No reply is not an error.\n"
             "Exit 1 when the broker answers with an error (e.g. no such peer). A JSON body\n"
             "that starts with '-' goes after --.",
    CLI_OPTIONS(options),
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print a body as JSON on stdout; an empty body is a nil. */
static int print_body(const swb_msg_t *m, int pretty)
{
    char *json = NULL;
    int rc = m->len ? swb_msgpack_to_json(m->body, m->len, pretty, &json) : 0;
    if (rc) {
        fprintf(stderr, "swb send: reply from %s is not printable as JSON: %s\n", m->from,
                swb_strerror(rc));
        return 1;
    }
    printf("%s\n", json ? json : "null");
    free(json);
    return 0;
}

/* Wait for the reply; returns the exit code. */
static int await_reply(swb_peer_t *p, const char *peer, long timeout_ms, int pretty)
{
    swb_msg_t m = {0};
    int64_t deadline = now_ms() + timeout_ms;
    int exit_code = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        int rc = swb_peer_recv(p, &m, (int)left);
        if (rc == SWB_E_TIMEOUT)
            break;
        if (rc) {
            fprintf(stderr, "swb send: %s\n", swb_strerror(rc));
            exit_code = 1;
            break;
        }
        if (m.type == SWB_MSG_ERROR) {
            fprintf(stderr, "error: %s: %s\n", swb_errname(m.code),
                    m.text[0] ? m.text : swb_strerror(m.code));
            exit_code = 1;
            break;
        }
        if (m.type == SWB_MSG_DELIVER && strcmp(m.from, peer) == 0) {
            exit_code = print_body(&m, pretty);
            break;
        }
    }
    swb_msg_close(&m);
    return exit_code;
}

int cmd_send(int argc, char **argv)
{
    send_args_t a = {.timeout_ms = 2000};
    int first, parsed = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (parsed != CLI_GO_ON)
        return parsed;
    const char *endpoint = a.endpoint;
    long timeout_ms = a.timeout_ms;
    int pretty = a.pretty;
    if (argc - first != 2)
        return cli_usage_error(&spec, "expected PEER and JSON");
    const char *peer = argv[first], *json = argv[first + 1];
    if (!*peer || strlen(peer) > SWB_NAME_MAX)
        return cli_usage_error(&spec, "bad peer name '%s'", peer);

    char *body = NULL, err[256];
    size_t len = 0;
    int rc = swb_json_to_msgpack(json, &body, &len, err, sizeof err);
    if (rc) {
        fprintf(stderr, "swb send: bad JSON: %s\n", err);
        return 2;
    }
    swb_peer_t *p = NULL;
    if (cli_connect("send", endpoint, 0, &p)) {
        free(body);
        return 1;
    }
    rc = swb_peer_send(p, peer, body, len);
    free(body);
    int exit_code;
    if (rc) {
        fprintf(stderr, "error: %s: %s\n", swb_errname(rc), swb_strerror(rc));
        exit_code = 1;
    } else
        exit_code = await_reply(p, peer, timeout_ms, pretty);
    swb_peer_destroy(&p);
    return exit_code;
}
