/*
 * cli.h - what the `swb` commands share: the command table entry, each command's entry
 * point, and the option parser (cli_opts.h). A command is `int cmd_x(int argc, char **argv)`
 * with argv[0] the command name; it returns the exit code (0 ok, 1 failed, 2 bad usage).
 */
#ifndef SWB_CLI_H
#define SWB_CLI_H

#include <stddef.h>

#include "cli_opts.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command_t;

int cmd_broker(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_scale(int argc, char **argv);
int cmd_test(int argc, char **argv);

/* Join the broker at `endpoint` (NULL: the default one) for command `cmd`, waiting at most
 * timeout_ms (0: 5 s) for its WELCOME. On failure say why on stderr, naming the endpoint, and
 * return 1. An ipc socket file that nobody listens on fails at once, not after the wait
 * (cli_connect.c). */
struct swb_peer;
int cli_connect(const char *cmd, const char *endpoint, int timeout_ms, struct swb_peer **p);

/* A JSON body argument as text (malloc'd): the argument itself, the contents of file PATH for
 * "@PATH", or standard input for "-" (cli_input.c). NULL, said on stderr, when unreadable. */
char *cli_json_arg(const char *cmd, const char *arg);

/* Print a STATS body (msgpack map) as tables on stdout (cmd_stats.c). */
int stats_print_table(const void *body, size_t len);

#endif
