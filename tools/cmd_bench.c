/*
 * cmd_bench.c - `swb bench`: runs swb-bench (beside this executable) with the same
 * arguments. The benchmark is its own program so that its baseline workers can be started as
 * `swb-bench --baseline-worker` processes; see bench/README.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cmd_bench(int argc, char **argv)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    if (n <= 0) {
        fprintf(stderr, "swb bench: cannot find my own executable: %s\n", strerror(errno));
        return 1;
    }
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "swb-bench");
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "swb bench: cannot run %s: %s\n", path, strerror(errno));
    return 1;
}
