/*
 * cmd_send.c - `swb send PEER JSON`: send one message to a peer, to every worker of a
 * service (--group), or to all (--all), and print the replies.
 *
 * A message needs no reply, so silence until the timeout is success. To one peer: a DELIVER
 * from PEER is printed as JSON (exit 0), an ERROR (unknown peer, unreachable, ...) on stderr
 * (exit 1). To a group or all: every reply until the timeout, a line each, "NAME JSON"; an
 * ERROR for any receiver is printed and makes the exit code 1. Anything else that arrives
 * meanwhile (events, messages not addressed to us) is skipped.
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
    int group, all;
} send_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(send_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint; default: SWB_ENDPOINT or the per-user\nipc socket"},
    {'t', "timeout", CLI_LONG_AT(send_args_t, timeout_ms, 0, 24L * 3600 * 1000), .arg = "MS",
     .help = "how long to wait for a reply; 0 does not wait"},
    {'P', "pretty", CLI_FLAG_AT(send_args_t, pretty), .help = "indent the reply"},
    {'g', "group", CLI_FLAG_AT(send_args_t, group),
     .help = "PEER names a service: send to every worker serving it"},
    {'a', "all", CLI_FLAG_AT(send_args_t, all), .help = "send to every peer (no PEER)"},
};

/* Options may follow the operands; a body starting with '-' (such as -5) goes after --. */
static const cli_spec_t spec = {
    .name = "send",
    .synopsis = "swb send [--endpoint EP] [--timeout MS] [--pretty] [--group] [--] PEER JSON\n"
                "       swb send --all [--endpoint EP] [--timeout MS] [--pretty] [--] JSON",
    .about = "Send JSON (as msgpack) to the peer named PEER (with --group: to every worker\n"
             "serving the service PEER; with --all: to every peer) and wait up to MS\n"
             "milliseconds (default 2000) for replies, printed as JSON (for a group or all,\n"
             "one line per reply: NAME JSON). No reply is not an error. Exit 1 when the\n"
             "broker answers with an error (e.g. no such peer). JSON may be @FILE (read from\n"
             "FILE) or - (standard input); a body that starts with '-' goes after --.",
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

/* Wait for the reply (to one peer: its first; else: all until the timeout); returns the exit
 * code. */
static int await_reply(swb_peer_t *p, const char *peer, int many, long timeout_ms, int pretty)
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
            fprintf(stderr, "error: %s: %s%s%s\n", swb_errname(m.code),
                    m.text[0] ? m.text : swb_strerror(m.code), m.name[0] ? ": " : "", m.name);
            exit_code = 1;
            if (!many)
                break;
            continue;
        }
        if (m.type == SWB_MSG_DELIVER && many) {
            printf("%s ", m.from);
            exit_code |= print_body(&m, pretty);
            fflush(stdout);
            continue;
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
    if (a.all && a.group)
        return cli_usage_error(&spec, "--all and --group exclude each other");
    if (argc - first != (a.all ? 1 : 2))
        return cli_usage_error(&spec, a.all ? "expected JSON" : "expected PEER and JSON");
    const char *peer = a.all ? "" : argv[first], *json = argv[argc - 1];
    if (!a.all && (!*peer || strlen(peer) > SWB_NAME_MAX))
        return cli_usage_error(&spec, "bad %s name '%s'", a.group ? "service" : "peer", peer);

    char *text = cli_json_arg("send", json);
    if (!text)
        return 2;
    char *body = NULL, err[256];
    size_t len = 0;
    int rc = swb_json_to_msgpack(text, &body, &len, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "swb send: bad JSON: %s\n", err);
        return 2;
    }
    swb_peer_t *p = NULL;
    if (cli_connect("send", endpoint, 0, &p)) {
        free(body);
        return 1;
    }
    rc = a.all     ? swb_peer_broadcast(p, body, len)
         : a.group ? swb_peer_send_group(p, peer, body, len)
                   : swb_peer_send(p, peer, body, len);
    free(body);
    int exit_code;
    if (rc) {
        fprintf(stderr, "error: %s: %s\n", swb_errname(rc), swb_strerror(rc));
        exit_code = 1;
    } else
        exit_code = await_reply(p, peer, a.all || a.group, timeout_ms, pretty);
    swb_peer_destroy(&p);
    return exit_code;
}
