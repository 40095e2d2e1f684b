/*
 * cli.c - argument helpers shared by the `swb` commands, so that every command reports a
 * bad option the same way (message, usage on stderr, exit code 2).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>

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

int cli_usage_error(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "swb %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}

int cli_parse_io_opts(const char *cmd, void (*usage)(FILE *), int argc, char **argv,
                      cli_io_opts_t *o, long min_timeout)
{
    static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"pretty", no_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    /* Options may follow the operands; a body starting with '-' (such as -5) goes after --. */
    while ((c = getopt_long(argc, argv, "e:t:Ph", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            o->endpoint = optarg;
            break;
        case 't':
            if (cli_parse_long(cmd, "timeout", optarg, min_timeout, 24L * 3600 * 1000,
                               &o->timeout_ms))
                return 2;
            break;
        case 'P':
            o->pretty = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}
