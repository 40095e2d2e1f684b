/*
 * cmd_demo.c - `swb demo`: run the example programs one after another and say how each went.
 *
 * The examples are ordinary programs installed beside `swb` (build/bin/ in a build tree), each
 * embedding its own private broker and exiting 0 only if what it shows happened, so the demo
 * needs no running broker and is also a quick check of a fresh build (`make demo`). Each runs
 * in a process group of its own with a time limit; on timeout the whole group is killed, and
 * worker processes die with their parent, so nothing is left behind.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DEMO_TIMEOUT_MS 60000

typedef struct {
    const char *name;
    const char *shows;
} demo_t;

static const demo_t demos[] = {
    {"parent_child", "a parent starts a child process, sends it \"start\" and gets the sum of "
                     "0..10000 back; then the child's exit event"},
    {"cluster_relay", "four workers (two threads, two processes) greet each other through the "
                      "broker; who heard whom"},
    {"parallel_sum", "Promise.all over a pool of three worker processes: three partial sums "
                     "at once, and their total"},
    {"load_balance", "100 tasks on a fast and a slow worker: the broker gives most to the fast "
                     "one (counts checked against STATS)"},
    {"supervised", "a crashing worker is restarted by the supervisor, then both workers are "
                   "reloaded under a steady stream of tasks, none failing"},
};

#define N_DEMOS (sizeof demos / sizeof demos[0])

static void list_demos(FILE *f)
{
    for (size_t i = 0; i < N_DEMOS; i++)
        fprintf(f, "  %s\n", demos[i].name);
}

/* No options but -h: the operands name examples, in any order with it. */
static const cli_spec_t spec = {
    .name = "demo",
    .synopsis = "swb demo [NAME...]",
    .about = "Run the example programs (found beside swb) one after another, print their\n"
             "output and a summary; exit 1 if any failed. Names pick some of them:",
    .more = list_demos,
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The folder holding the running executable, into dir. */
static int exe_dir(char *dir, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
    if (n <= 0)
        return -1;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* Run path with the output going to ours; returns its exit status as text in `how` and 0 when
 * it exited 0. */
static int run_one(const char *path, char *how, size_t cap)
{
    if (access(path, X_OK) != 0) {
        snprintf(how, cap, "failed (%s: %s)", path, strerror(errno));
        return 1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(how, cap, "failed (fork: %s)", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so a timeout can end it and anything it started */
        execl(path, path, (char *)NULL);
        fprintf(stderr, "swb demo: exec %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so the group exists before either side goes on */
    int64_t deadline = now_ms() + DEMO_TIMEOUT_MS;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(how, cap, "failed (waitpid: %s)", strerror(errno));
            return 1;
        }
        if (now_ms() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(how, cap, "failed (no end after %d s: killed)", DEMO_TIMEOUT_MS / 1000);
            return 1;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        snprintf(how, cap, "ok");
        return 0;
    }
    if (WIFEXITED(status))
        snprintf(how, cap, "failed (exit code %d)", WEXITSTATUS(status));
    else
        snprintf(how, cap, "failed (killed by signal %d)", WTERMSIG(status));
    return 1;
}

static const demo_t *find(const char *name)
{
    for (size_t i = 0; i < N_DEMOS; i++)
        if (strcmp(demos[i].name, name) == 0)
            return &demos[i];
    return NULL;
}

int cmd_demo(int argc, char **argv)
{
    int first, rc = cli_opts_parse(&spec, argc, argv, NULL, &first);
    if (rc != CLI_GO_ON)
        return rc;
    const demo_t *chosen[N_DEMOS];
    size_t n = 0;
    for (int i = first; i < argc; i++) {
        const demo_t *d = find(argv[i]);
        if (!d)
            return cli_usage_error(&spec, "no example named '%s'", argv[i]);
        if (n < N_DEMOS)
            chosen[n++] = d;
    }
    if (n == 0)
        for (; n < N_DEMOS; n++)
            chosen[n] = &demos[n];

    char dir[PATH_MAX];
    if (exe_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, "swb demo: cannot find the folder of this program\n");
        return 1;
    }
    char how[N_DEMOS][160];
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", dir, chosen[i]->name);
        printf("%s== %s: %s\n\n", i ? "\n" : "", chosen[i]->name, chosen[i]->shows);
        failed |= run_one(path, how[i], sizeof how[i]);
    }
    printf("\n== summary\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-14s %s\n", chosen[i]->name, how[i]);
    return failed ? 1 : 0;
}
