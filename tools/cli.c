/*
 * cli.c - argument helpers shared by the `swb` commands, so that every command reports a
 * bad option the same way (message, usage on stderr, exit code 2).
 */
#include "cli.h"

#include <errno.h>
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
