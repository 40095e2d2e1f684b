/*
 * cli.h - what the `swb` commands share: the command table entry, each command's entry
 * point, and small argument helpers. A command is `int cmd_x(int argc, char **argv)` with
 * argv[0] the command name; it returns the exit code (0 ok, 1 failed, 2 bad usage).
 */
#ifndef SWB_CLI_H
#define SWB_CLI_H

#include <stdint.h>
#include <stdio.h>

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

/* The options `send` and `call` share: -e/--endpoint, -t/--timeout MS, -P/--pretty, -h. */
typedef struct {
    const char *endpoint;
    long timeout_ms; /* set to the command's default before parsing */
    int pretty;
} cli_io_opts_t;
/* Parse them; returns -1 to go on (operands start at optind), else the exit code. */
int cli_parse_io_opts(const char *cmd, void (*usage)(FILE *), int argc, char **argv,
                      cli_io_opts_t *o, long min_timeout);

/* Print a STATS body (msgpack map) as tables on stdout (cmd_stats.c). */
int stats_print_table(const void *body, size_t len);

/* Parse a whole decimal integer in [min, max]; 0, or -1 after printing "swb CMD: bad WHAT". */
int cli_parse_long(const char *cmd, const char *what, const char *s, long min, long max, long *out);

/* Print "swb CMD: msg" to stderr, then the command's usage, and return 2. */
int cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
