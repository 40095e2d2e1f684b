/*
 * cli_input.c - where a command's JSON body comes from: the argument itself, a file
 * (@PATH), or standard input (-), like curl's -d @file and -d @-. Bounded, so a wrong file
 * cannot fill memory; the broker would refuse more than its max message size anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define INPUT_MAX (16u << 20)

static char *read_all(FILE *f, const char *cmd, const char *what)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            if (cap >= INPUT_MAX) {
                fprintf(stderr, "swb %s: %s is over %u bytes\n", cmd, what, INPUT_MAX);
                free(buf);
                return NULL;
            }
            char *more = realloc(buf, cap * 2);
            if (!more)
                free(buf);
            buf = more;
            cap *= 2;
        }
    }
    if (!buf) {
        fprintf(stderr, "swb %s: out of memory reading %s\n", cmd, what);
        return NULL;
    }
    if (ferror(f)) {
        fprintf(stderr, "swb %s: reading %s: %s\n", cmd, what, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

char *cli_json_arg(const char *cmd, const char *arg)
{
    if (strcmp(arg, "-") == 0)
        return read_all(stdin, cmd, "standard input");
    if (arg[0] != '@')
        return strdup(arg);
    FILE *f = fopen(arg + 1, "re");
    if (!f) {
        fprintf(stderr, "swb %s: %s: %s\n", cmd, arg + 1, strerror(errno));
        return NULL;
    }
    char *text = read_all(f, cmd, arg + 1);
    fclose(f);
    return text;
}
