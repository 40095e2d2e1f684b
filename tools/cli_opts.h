/*
 * cli_opts.h - the one option parser of the `swb` commands.
 *
 * A command describes its options in a static const table of cli_opt_t and itself in a
 * cli_spec_t (name, synopsis, what it does); cli_opts_parse reads argv against it into the
 * command's own options struct, handles -h/--help, and reports a bad option the same way for
 * every command: "swb CMD: message" on stderr, then the usage, exit code 2. The usage is
 * generated from the same table, so the options a command takes and the ones its --help lists
 * cannot drift apart.
 *
 *     typedef struct { const char *endpoint; long timeout; int json; } stats_args_t;
 *     static const cli_opt_t options[] = {
 *         {'e', "endpoint", CLI_STRING_AT(stats_args_t, endpoint), .arg = "EP", .help = "..."},
 *         {'t', "timeout", CLI_LONG_AT(stats_args_t, timeout, 1, 3600000), .arg = "MS",
 *          .help = "..."},
 *         {'j', "json", CLI_FLAG_AT(stats_args_t, json), .help = "..."},
 *     };
 *     static const cli_spec_t spec = {.name = "stats", .synopsis = "swb stats [--json] ...",
 *                                     .about = "Print ...", CLI_OPTIONS(options), .in_order = 1};
 *     stats_args_t a = {.timeout = 2000};    (the defaults)
 *     int first, rc = cli_opts_parse(&spec, argc, argv, &a, &first);
 *     if (rc != CLI_GO_ON)
 *         return rc;                          (argv[first..argc-1] are the operands)
 */
#ifndef SWB_CLI_OPTS_H
#define SWB_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

/* What an option's value is, which also says whether it takes an argument (all but a flag
 * do) and the type of the field it is stored in. */
typedef enum {
    CLI_FLAG,   /* int, set to 1 */
    CLI_STRING, /* const char *, the argument itself (borrowed from argv); the last one wins */
    CLI_LONG,   /* long, a whole decimal in [min, max] (cli_parse_long) */
    CLI_LIST,   /* cli_list_t, every argument given, in order */
} cli_kind_t;

/* The arguments of a repeatable option, borrowed from argv; `items` is the parser's, freed by
 * cli_opts_free. Starts empty ({0}). */
typedef struct {
    const char **items;
    size_t n;
} cli_list_t;

typedef struct {
    char short_name;       /* 'e' for -e; 0 for a long form only */
    const char *long_name; /* "endpoint" for --endpoint; required */
    cli_kind_t kind;
    size_t offset;    /* where the value goes in the command's options struct */
    long min, max;    /* CLI_LONG: the bounds, inclusive */
    const char *arg;  /* the argument's name in the usage ("MS"); NULL for a flag */
    const char *what; /* CLI_LONG: the value's name in "bad WHAT"; NULL: the long name */
    const char *help; /* one line, or several separated by '\n' */
} cli_opt_t;

/* The offset of field F of struct T, which must have type C: a field of the wrong type for
 * the option's kind fails to compile instead of being overwritten at run time. */
#define CLI_FIELD(T, F, C) _Generic(((T *)0)->F, C : offsetof(T, F))

/* The kind and destination of an option, as designated initializers of a cli_opt_t. */
#define CLI_FLAG_AT(T, F)   .kind = CLI_FLAG, .offset = CLI_FIELD(T, F, int)
#define CLI_STRING_AT(T, F) .kind = CLI_STRING, .offset = CLI_FIELD(T, F, const char *)
#define CLI_LIST_AT(T, F)   .kind = CLI_LIST, .offset = CLI_FIELD(T, F, cli_list_t)
#define CLI_LONG_AT(T, F, MIN, MAX)                                                                \
    .kind = CLI_LONG, .offset = CLI_FIELD(T, F, long), .min = (MIN), .max = (MAX)

/* Most options a command may have, so the parser needs no allocation for its getopt tables. */
#define CLI_MAX_OPTS 32

typedef struct {
    const char *name;     /* "broker": messages say "swb broker: ..." */
    const char *synopsis; /* the usage line(s) after "usage: ", e.g. "swb top [--count N]" */
    const char *about;    /* what the command does, printed after the synopsis; may be NULL */
    const cli_opt_t *opts;
    size_t n_opts; /* at most CLI_MAX_OPTS; -h/--help is added, not listed */
    /* Options end at the first operand (getopt's '+'); otherwise they may also follow the
     * operands, and an operand that starts with '-' goes after "--". */
    int in_order;
    void (*more)(FILE *f); /* prints more after `about` (e.g. a list of names); may be NULL */
} cli_spec_t;

#define CLI_OPTIONS(table) .opts = (table), .n_opts = sizeof(table) / sizeof((table)[0])

/* cli_opts_parse's "no exit code yet": the command goes on with its operands. */
#define CLI_GO_ON (-1)

/* Parse the options of argv[1..argc-1] (argv[0] names the program in getopt's messages: main
 * sets it to "swb CMD") into the struct at `out`, whose fields hold the defaults. argv may be
 * permuted, as getopt_long does. Returns CLI_GO_ON with *first set to the index of the first
 * operand; or the exit code: 0 after printing the usage on stdout for -h/--help, 2 after a bad
 * option (message and usage on stderr), 1 when out of memory. On an exit code the lists in
 * `out` are already freed. `out` may be NULL for a command without options. */
int cli_opts_parse(const cli_spec_t *spec, int argc, char **argv, void *out, int *first);

/* Free the lists cli_opts_parse filled in `out` and empty them; tolerates empty ones. */
void cli_opts_free(const cli_spec_t *spec, void *out);

/* Print the command's usage: synopsis, about, the options from the table. */
void cli_opts_usage(const cli_spec_t *spec, FILE *f);

/* Print "swb CMD: msg" to stderr, then the command's usage, and return 2. */
int cli_usage_error(const cli_spec_t *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a whole decimal integer in [min, max]; 0, or -1 after printing "swb CMD: bad WHAT". */
int cli_parse_long(const char *cmd, const char *what, const char *s, long min, long max, long *out);

#endif
