/*
 * cli_opts.c - the option parser every `swb` command shares: getopt_long underneath, driven
 * by the command's table, so that every command spells, checks and reports its options the
 * same way (message, usage on stderr, exit code 2) and its --help is made from the same table.
 *
 * getopt_long's own tables (the optstring and the struct option array) are built on the
 * stack from the command's table on each call; getopt prints its own messages for an unknown
 * option or a missing argument, naming the program by argv[0], which main sets to "swb CMD".
 */
#include "cli_opts.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Options without a short letter get getopt values past any char's. */
#define LONG_ONLY_BASE 256

/* Labels ("-e, --endpoint EP") longer than this do not set the column of the help texts. */
#define LABEL_WIDE 20

static const cli_opt_t help_opt = {'h', "help", CLI_FLAG, .help = "this text"};

int cli_parse_long(const char *cmd, const char *what, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        fprintf(stderr, "swb %s: bad %s '%s' (expected %ld..%ld)\n", cmd, what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* "-e, --endpoint EP" into buf; returns its length. */
static size_t label(const cli_opt_t *o, char *buf, size_t cap)
{
    int n;
    if (o->short_name)
        n = snprintf(buf, cap, "-%c, --%s", o->short_name, o->long_name);
    else
        n = snprintf(buf, cap, "    --%s", o->long_name);
    if (o->kind != CLI_FLAG && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " %s", o->arg ? o->arg : "ARG");
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* One option's line(s): the label, then the help at column `col`, each of its lines. */
static void print_opt(FILE *f, const cli_opt_t *o, size_t col)
{
    char buf[128];
    size_t n = label(o, buf, sizeof buf);
    fprintf(f, "  %s%*s", buf, n + 2 > col ? 2 : (int)(col - n), "");
    for (const char *h = o->help ? o->help : ""; *h; h++) {
        fputc(*h, f);
        if (*h == '\n' && h[1])
            fprintf(f, "  %*s", (int)col, "");
    }
    fputc('\n', f);
}

void cli_opts_usage(const cli_spec_t *spec, FILE *f)
{
    fprintf(f, "usage: %s\n", spec->synopsis);
    if (spec->about)
        fprintf(f, "\n%s\n", spec->about);
    if (spec->more)
        spec->more(f);
    /* The help starts two blanks after the longest label, unless that one would push it far
     * right: a label longer than LABEL_WIDE has its help two blanks after it instead. */
    char buf[128];
    size_t col = label(&help_opt, buf, sizeof buf);
    for (size_t i = 0; i < spec->n_opts; i++) {
        size_t n = label(&spec->opts[i], buf, sizeof buf);
        col = n > col && n <= LABEL_WIDE ? n : col;
    }
    col += 2;
    fputc('\n', f);
    for (size_t i = 0; i < spec->n_opts; i++)
        print_opt(f, &spec->opts[i], col);
    print_opt(f, &help_opt, col);
}

int cli_usage_error(const cli_spec_t *spec, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "swb %s: ", spec->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_opts_usage(spec, stderr);
    return 2;
}

void cli_opts_free(const cli_spec_t *spec, void *out)
{
    for (size_t i = 0; i < spec->n_opts; i++) {
        if (spec->opts[i].kind != CLI_LIST)
            continue;
        cli_list_t *l = (cli_list_t *)((char *)out + spec->opts[i].offset);
        free(l->items);
        *l = (cli_list_t){0};
    }
}

/* The value getopt_long returns for option i. */
static int opt_val(const cli_spec_t *spec, size_t i)
{
    char s = spec->opts[i].short_name;
    return s ? (unsigned char)s : LONG_ONLY_BASE + (int)i;
}

/* Store one option's value; returns 0, or the exit code (2 bad value, 1 out of memory). */
static int store(const cli_spec_t *spec, const cli_opt_t *o, const char *arg, void *out)
{
    void *at = (char *)out + o->offset;
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)at = 1;
        return 0;
    case CLI_STRING:
        *(const char **)at = arg;
        return 0;
    case CLI_LONG:
        return cli_parse_long(spec->name, o->what ? o->what : o->long_name, arg, o->min, o->max,
                              (long *)at)
                   ? 2
                   : 0;
    case CLI_LIST: {
        cli_list_t *l = at;
        const char **items = realloc(l->items, (l->n + 1) * sizeof *items);
        if (!items) {
            fprintf(stderr, "swb %s: out of memory\n", spec->name);
            return 1;
        }
        items[l->n++] = arg;
        l->items = items;
        return 0;
    }
    }
    assert(!"unknown option kind");
    return 2;
}

int cli_opts_parse(const cli_spec_t *spec, int argc, char **argv, void *out, int *first)
{
    /* '+', a letter and ':' per option, 'h', NUL */
    char shorts[1 + 2 * CLI_MAX_OPTS + 2];
    struct option longs[CLI_MAX_OPTS + 2];
    size_t k = 0, n = spec->n_opts;
    assert(n <= CLI_MAX_OPTS);
    if (spec->in_order)
        shorts[k++] = '+';
    for (size_t i = 0; i < n; i++) {
        const cli_opt_t *o = &spec->opts[i];
        int has_arg = o->kind != CLI_FLAG;
        assert(o->long_name && strcmp(o->long_name, "help") != 0);
        assert(!o->short_name || !strchr("h?:+-", o->short_name));
        longs[i] = (struct option){o->long_name, has_arg ? required_argument : no_argument, NULL,
                                   opt_val(spec, i)};
        if (o->short_name) {
            shorts[k++] = o->short_name;
            if (has_arg)
                shorts[k++] = ':';
        }
    }
    longs[n] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n + 1] = (struct option){NULL, 0, NULL, 0};
    shorts[k++] = 'h';
    shorts[k] = '\0';

    optind = 0; /* a fresh scan: glibc also forgets where it was in a previous argv */
    int c;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        size_t i = 0;
        while (i < n && opt_val(spec, i) != c)
            i++;
        int rc;
        if (c == 'h') {
            cli_opts_usage(spec, stdout);
            rc = 0;
        } else if (i == n) { /* '?': getopt has said what was wrong */
            cli_opts_usage(spec, stderr);
            rc = 2;
        } else if ((rc = store(spec, &spec->opts[i], optarg, out)) == 0) {
            continue;
        } else if (rc == 2) {
            cli_opts_usage(spec, stderr);
        }
        cli_opts_free(spec, out);
        return rc;
    }
    *first = optind;
    return CLI_GO_ON;
}
