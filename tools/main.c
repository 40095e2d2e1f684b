/*
 * main.c - the `swb` command line: finds the command in the table and hands it the rest of
 * the arguments. Adding a command is one line in `commands` plus its cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "switchboard.h"

static const cli_command_t commands[] = {
    {"broker", cmd_broker, "run a broker, optionally with a pool of workers"},
    {"worker", cmd_worker, "run a worker plugin in the foreground"},
    {"send", cmd_send, "send a JSON message to a peer and print its reply"},
    {"stats", cmd_stats, "show the broker's peers and counters"},
    {"call", cmd_call, "run a task on a service and print its result as JSON"},
    {"top", cmd_top, "show the broker's stats, refreshed every second"},
    {"reload", cmd_reload, "replace a parent's workers without downtime"},
    {"scale", cmd_scale, "set how many workers a spawn group has"},
    {"bench", cmd_bench, "benchmark the broker against raw ZeroMQ (see bench/README.md)"},
    {"demo", cmd_demo, "run the example programs and say how each went"},
    {"test", cmd_test, "run a plugin through cases, as a thread and as a process"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: swb COMMAND [OPTIONS]\n       swb COMMAND --help\n       swb --version\n"
               "\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nThe broker endpoint defaults to SWB_ENDPOINT, else the per-user socket\n"
               "ipc://$XDG_RUNTIME_DIR/switchboard/broker.sock. Logs: SWB_LOG=error|warn|info|"
               "debug.\n");
}

static const cli_command_t *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("swb %s\n", SWB_VERSION_STRING);
        return 0;
    }
    if (strcmp(arg, "help") == 0) { /* `swb help CMD` is `swb CMD --help` */
        const cli_command_t *c = argc > 2 ? find(argv[2]) : NULL;
        if (!c) {
            usage(argc > 2 ? stderr : stdout);
            return argc > 2 ? 2 : 0;
        }
        static char help[] = "--help";
        char *sub[] = {argv[2], help, NULL};
        return c->run(2, sub);
    }
    const cli_command_t *c = find(arg);
    if (!c) {
        fprintf(stderr, "swb: unknown command '%s'\n", arg);
        usage(stderr);
        return 2;
    }
    char prog[64]; /* getopt names the program in its messages: "swb send: ..." */
    snprintf(prog, sizeof prog, "swb %s", c->name);
    argv[1] = prog;
    return c->run(argc - 1, argv + 1);
}
