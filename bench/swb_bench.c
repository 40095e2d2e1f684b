/*
 * swb_bench.c - swb-bench: tasks through a real embedded Switchboard broker to `sum` workers,
 * and the same tasks through the raw ZeroMQ baseline (baseline.c), measured by the same code
 * in the same run so the ratio between them means something.
 *
 * With no arguments it runs the short suite: inproc and ipc, 1 and 256 tasks in flight, each
 * against the baseline. --scale measures dispatch cost at 1, 8, 64 and 512 thread workers.
 * Never a test: figures depend on the machine, so nothing here passes or fails a build.
 *
 * A shared or virtual machine swings by 2x from one run to the next, so each configuration
 * runs several rounds, Switchboard and the baseline back to back in each, and what is printed
 * is the median round; ratios are the median of the per-round ratios, with their range.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "switchboard.h"

#define MAX_RUNS   512
#define MAX_ROUNDS 25

typedef struct {
    int json;
    int baseline;
    int impl_only; /* 0 both as asked, 1 switchboard only, 2 baseline only */
    int scale;
    int transports[2];
    size_t n_transports;
    uint32_t inflights[2];
    size_t n_inflights;
    uint32_t workers, tasks, warmup, capacity, window, rounds;
    int tasks_set, warmup_set;
} opts_t;

/* One configuration's rounds: the median rows and the per-round ratios. */
typedef struct {
    bench_result_t s, b; /* medians */
    int has_s, has_b;
    double tput[3], p50[3]; /* ratio median, min, max */
    int has_ratio;
} summary_t;

static bench_result_t runs[MAX_RUNS];
static size_t n_runs;

static void usage(FILE *f)
{
    fprintf(f, "usage: swb-bench [options]\n"
               "  --transport inproc|ipc  thread workers over inproc, or process workers over ipc\n"
               "                          (default: both)\n"
               "  --workers N             sum workers (default 2)\n"
               "  --inflight K            tasks kept outstanding (default: 1 and 256)\n"
               "  --tasks N               measured tasks (default 10000 at K=1, 100000 otherwise)\n"
               "  --warmup N              tasks run first and not measured (default tasks/10)\n"
               "  --capacity C            Switchboard worker capacity (default: the plugin's)\n"
               "  --window W              tasks a worker may hold per slot (default: the\n"
               "                          broker's worker_window, 64)\n"
               "  --rounds R              rounds per configuration, medians printed\n"
               "                          (default 5; 3 with --scale, 1 with --impl)\n"
               "  --baseline              also run the raw ZeroMQ baseline and print ratios\n"
               "  --impl swb|baseline     run only one of the two (for profiling)\n"
               "  --scale                 dispatch cost at 1, 8, 64, 512 thread workers\n"
               "                          (with --baseline, the baseline's too)\n"
               "  --json                  machine-readable output\n"
               "With no options: both transports at K=1 and K=256, with the baseline.\n");
}

static uint32_t parse_u32(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v > 100000000ul) {
        fprintf(stderr, "swb-bench: bad %s '%s'\n", what, s);
        exit(2);
    }
    return (uint32_t)v;
}

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += strspn(v + 1, " \t") + 1;
                v[strcspn(v, "\n")] = '\0';
                snprintf(buf, cap, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_header(void)
{
    printf("%-12s %-9s %7s %8s %8s %10s %9s %9s %11s %12s %12s %6s\n", "impl", "transport",
           "workers", "inflight", "tasks", "tasks/s", "p50 us", "p99 us", "cpu us/task",
           "broker us/t", "workers us/t", "errors");
}

static void print_row(const bench_result_t *r)
{
    char broker[32];
    if (r->broker_us_per_task < 0)
        snprintf(broker, sizeof broker, "-");
    else
        snprintf(broker, sizeof broker, "%.2f", r->broker_us_per_task);
    printf("%-12s %-9s %7u %8u %8u %10.0f %9.1f %9.1f %11.2f %12s %12.2f %6u\n", r->impl,
           r->transport, r->workers, r->inflight, r->tasks, r->tasks_per_s, r->p50_us, r->p99_us,
           r->cpu_us_per_task, broker, r->worker_us_per_task, r->errors);
    fflush(stdout);
}

static void json_row(const bench_result_t *r, const char *group)
{
    printf("    {\"group\": ");
    json_str(group);
    printf(", \"impl\": ");
    json_str(r->impl);
    printf(", \"transport\": ");
    json_str(r->transport);
    printf(", \"workers\": %u, \"inflight\": %u, \"tasks\": %u, \"secs\": %.4f, "
           "\"tasks_per_s\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"cpu_us_per_task\": "
           "%.3f, \"broker_us_per_task\": ",
           r->workers, r->inflight, r->tasks, r->secs, r->tasks_per_s, r->p50_us, r->p99_us,
           r->cpu_us_per_task);
    if (r->broker_us_per_task < 0)
        printf("null");
    else
        printf("%.3f", r->broker_us_per_task);
    printf(", \"worker_us_per_task\": %.3f, \"errors\": %u}", r->worker_us_per_task, r->errors);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n) (sorts v). */
static void stats3(double *v, size_t n, double out[3])
{
    qsort(v, n, sizeof *v, cmp_double);
    out[0] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[1] = v[0];
    out[2] = v[n - 1];
}

/* The median of each figure over the rows of one impl among runs[first..last). */
static int median_row(size_t first, size_t last, const char *impl, bench_result_t *out)
{
    enum { N_FIG = 7 };
    double v[N_FIG][MAX_ROUNDS], m[3];
    size_t n = 0;
    for (size_t i = first; i < last && n < MAX_ROUNDS; i++) {
        const bench_result_t *r = &runs[i];
        if (strcmp(r->impl, impl) != 0)
            continue;
        if (!n)
            *out = *r;
        else
            out->errors += r->errors;
        double f[N_FIG] = {
            r->tasks_per_s,        r->p50_us, r->p99_us, r->cpu_us_per_task, r->broker_us_per_task,
            r->worker_us_per_task, r->secs};
        for (int k = 0; k < N_FIG; k++)
            v[k][n] = f[k];
        n++;
    }
    if (!n)
        return 0;
    double *dst[N_FIG] = {&out->tasks_per_s,
                          &out->p50_us,
                          &out->p99_us,
                          &out->cpu_us_per_task,
                          &out->broker_us_per_task,
                          &out->worker_us_per_task,
                          &out->secs};
    for (int k = 0; k < N_FIG; k++) {
        stats3(v[k], n, m);
        *dst[k] = m[0];
    }
    return 1;
}

/* Rows of runs[first..last) alternate switchboard, baseline per round. */
static void summarise(size_t first, size_t last, summary_t *sm)
{
    memset(sm, 0, sizeof *sm);
    sm->has_s = median_row(first, last, "switchboard", &sm->s);
    sm->has_b = median_row(first, last, "baseline", &sm->b);
    double t[MAX_ROUNDS], p[MAX_ROUNDS];
    size_t n = 0;
    for (size_t i = first; i + 1 < last && n < MAX_ROUNDS; i++)
        if (strcmp(runs[i].impl, "switchboard") == 0 && strcmp(runs[i + 1].impl, "baseline") == 0) {
            t[n] = runs[i].tasks_per_s / runs[i + 1].tasks_per_s;
            p[n] = runs[i].p50_us / runs[i + 1].p50_us;
            n++;
        }
    if (n) {
        stats3(t, n, sm->tput);
        stats3(p, n, sm->p50);
        sm->has_ratio = 1;
    }
}

/* CPU per task at 512 workers over 8 workers for Switchboard (baseline 0) or the baseline:
 * the broker thread's when both runs measured it, else the whole process's; -1 without both
 * rows. */
static double scale_cpu_ratio(const summary_t *sums, size_t n, int baseline, int *is_broker)
{
    const bench_result_t *at8 = NULL, *at512 = NULL;
    for (size_t i = 0; i < n; i++) {
        const bench_result_t *r = baseline ? &sums[i].b : &sums[i].s;
        if (!(baseline ? sums[i].has_b : sums[i].has_s))
            continue;
        if (r->workers == 8)
            at8 = r;
        if (r->workers == 512)
            at512 = r;
    }
    if (!at8 || !at512 || at8->cpu_us_per_task <= 0)
        return -1; /* nothing to divide by: no ratio rather than inf */
    *is_broker = at8->broker_us_per_task > 0 && at512->broker_us_per_task >= 0;
    return *is_broker ? at512->broker_us_per_task / at8->broker_us_per_task
                      : at512->cpu_us_per_task / at8->cpu_us_per_task;
}

static int run_one(int baseline, const bench_cfg_t *c)
{
    if (n_runs >= MAX_RUNS)
        return -1;
    bench_result_t *r = &runs[n_runs];
    int rc = baseline ? bench_run_baseline(c, r) : bench_run_switchboard(c, r);
    if (rc != 0) {
        fprintf(stderr, "swb-bench: %s %s workers=%u inflight=%u failed\n",
                baseline ? "baseline" : "switchboard", c->transport == BT_IPC ? "ipc" : "inproc",
                c->workers, c->inflight);
        return rc;
    }
    n_runs++;
    return 0;
}

/* All rounds of one configuration, each Switchboard then the baseline (as --impl and
 * --baseline ask), summarised into sm and printed unless --json. Returns 1 if a run failed. */
static int run_config(const opts_t *o, const bench_cfg_t *c, summary_t *sm)
{
    int failed = 0;
    size_t first = n_runs;
    for (uint32_t round = 0; round < o->rounds; round++)
        for (int bl = 0; bl <= (o->baseline || o->impl_only == 2); bl++) {
            if ((o->impl_only == 1 && bl) || (o->impl_only == 2 && !bl))
                continue;
            if (run_one(bl, c) != 0)
                failed = 1;
        }
    summarise(first, n_runs, sm);
    if (!o->json && sm->has_s)
        print_row(&sm->s);
    if (!o->json && sm->has_b)
        print_row(&sm->b);
    return failed;
}

static bench_cfg_t make_cfg(const opts_t *o, int transport, uint32_t workers, uint32_t inflight)
{
    bench_cfg_t c = {.transport = transport,
                     .workers = workers,
                     .inflight = inflight,
                     .capacity = o->capacity,
                     .window = o->window};
    c.tasks = o->tasks_set ? o->tasks : inflight <= 1 ? 10000 : 100000;
    c.warmup = o->warmup_set ? o->warmup : c.tasks / 10;
    return c;
}

int main(int argc, char **argv)
{
    /* --scale runs 512 worker threads, each with sockets in the broker's context. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (argc == 3 && strcmp(argv[1], "--baseline-worker") == 0)
        return bench_baseline_worker_main(argv[2]);

    opts_t o = {.workers = 2};
    int rounds_set = 0;
    static const struct option longs[] = {{"transport", required_argument, 0, 't'},
                                          {"workers", required_argument, 0, 'w'},
                                          {"inflight", required_argument, 0, 'k'},
                                          {"tasks", required_argument, 0, 'n'},
                                          {"warmup", required_argument, 0, 'W'},
                                          {"capacity", required_argument, 0, 'c'},
                                          {"window", required_argument, 0, 'x'},
                                          {"baseline", no_argument, 0, 'b'},
                                          {"scale", no_argument, 0, 's'},
                                          {"json", no_argument, 0, 'j'},
                                          {"help", no_argument, 0, 'h'},
                                          {"impl", required_argument, 0, 'i'},
                                          {"rounds", required_argument, 0, 'r'},
                                          {0, 0, 0, 0}};
    int ch, only_output_opts = 1;
    while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (ch != 'j')
            only_output_opts = 0;
        switch (ch) {
        case 't':
            if (strcmp(optarg, "inproc") == 0)
                o.transports[0] = BT_INPROC;
            else if (strcmp(optarg, "ipc") == 0)
                o.transports[0] = BT_IPC;
            else {
                fprintf(stderr, "swb-bench: transport is inproc or ipc\n");
                return 2;
            }
            o.n_transports = 1;
            break;
        case 'w':
            o.workers = parse_u32(optarg, "workers");
            if (o.workers < 1 || o.workers > BENCH_MAX_WORKERS) {
                fprintf(stderr, "swb-bench: workers is 1..%d\n", BENCH_MAX_WORKERS);
                return 2;
            }
            break;
        case 'k':
            o.inflights[0] = parse_u32(optarg, "inflight");
            if (o.inflights[0] < 1) {
                fprintf(stderr, "swb-bench: inflight is at least 1\n");
                return 2;
            }
            o.n_inflights = 1;
            break;
        case 'n':
            o.tasks = parse_u32(optarg, "tasks");
            o.tasks_set = 1;
            if (o.tasks < 1) {
                fprintf(stderr, "swb-bench: tasks is at least 1\n");
                return 2;
            }
            break;
        case 'W':
            o.warmup = parse_u32(optarg, "warmup");
            o.warmup_set = 1;
            break;
        case 'c':
            o.capacity = parse_u32(optarg, "capacity");
            break;
        case 'x':
            o.window = parse_u32(optarg, "window");
            break;
        case 'b':
            o.baseline = 1;
            break;
        case 'r':
            o.rounds = parse_u32(optarg, "rounds");
            rounds_set = 1;
            if (o.rounds < 1 || o.rounds > MAX_ROUNDS) {
                fprintf(stderr, "swb-bench: rounds is 1..%d\n", MAX_ROUNDS);
                return 2;
            }
            break;
        case 'i':
            if (strcmp(optarg, "swb") == 0 || strcmp(optarg, "switchboard") == 0)
                o.impl_only = 1;
            else if (strcmp(optarg, "baseline") == 0)
                o.impl_only = 2;
            else {
                fprintf(stderr, "swb-bench: impl is swb or baseline\n");
                return 2;
            }
            break;
        case 's':
            o.scale = 1;
            break;
        case 'j':
            o.json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (only_output_opts)
        o.baseline = 1; /* the default suite */
    if (!rounds_set)
        o.rounds = o.impl_only ? 1 : o.scale ? 3 : 5;
    if (!o.n_transports) {
        o.transports[0] = BT_INPROC;
        o.transports[1] = BT_IPC;
        o.n_transports = 2;
    }
    if (!o.n_inflights) {
        o.inflights[0] = 1;
        o.inflights[1] = 256;
        o.n_inflights = 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* 512 thread workers need a few thousand descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    char model[256];
    cpu_model(model, sizeof model);
    struct utsname un;
    uname(&un);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (!o.json)
        printf("machine: %ld CPUs, %s, Linux %s\n\n", ncpu, model, un.release);

    int failed = 0;
    summary_t sums[8];
    size_t n_sums = 0;
    if (!o.scale) {
        if (!o.json) {
            if (o.rounds > 1)
                printf("median of %u rounds; each round runs switchboard, then the baseline\n",
                       o.rounds);
            print_header();
        }
        for (size_t t = 0; t < o.n_transports; t++)
            for (size_t k = 0; k < o.n_inflights; k++) {
                bench_cfg_t c = make_cfg(&o, o.transports[t], o.workers, o.inflights[k]);
                failed |= run_config(&o, &c, &sums[n_sums++]);
            }
    } else {
        static const uint32_t sizes[] = {1, 8, 64, 512};
        uint32_t k = o.n_inflights == 1 ? o.inflights[0] : 256;
        if (!o.json) {
            if (o.rounds > 1)
                printf("median of %u rounds\n", o.rounds);
            print_header();
        }
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            bench_cfg_t c = make_cfg(&o, BT_INPROC, sizes[i], k);
            if (!o.tasks_set)
                c.tasks = 100000, c.warmup = o.warmup_set ? o.warmup : 10000;
            failed |= run_config(&o, &c, &sums[n_sums++]);
        }
    }

    /* Scale: broker CPU per task at 512 workers against 8, for each implementation. */
    int scale_cpu_is_broker = 0;
    double scale_ratio = o.scale ? scale_cpu_ratio(sums, n_sums, 0, &scale_cpu_is_broker) : -1;
    int base_cpu_is_broker = 0;
    double base_ratio = o.scale ? scale_cpu_ratio(sums, n_sums, 1, &base_cpu_is_broker) : -1;

    if (o.json) {
        printf("{\n  \"machine\": {\"nproc\": %ld, \"cpu\": ", ncpu);
        json_str(model);
        printf(", \"kernel\": ");
        json_str(un.release);
        printf("},\n  \"runs\": [\n");
        for (size_t i = 0; i < n_runs; i++) {
            json_row(&runs[i], o.scale ? "scale" : "suite");
            printf(i + 1 < n_runs ? ",\n" : "\n");
        }
        printf("  ],\n  \"rounds\": %u,\n  \"ratios\": [", o.rounds);
        size_t n_ratios = 0;
        for (size_t i = 0; i < n_sums; i++) {
            const summary_t *sm = &sums[i];
            if (!sm->has_ratio)
                continue;
            printf("%s\n    {\"transport\": \"%s\", \"workers\": %u, \"inflight\": %u, "
                   "\"throughput\": %.3f, "
                   "\"throughput_min\": %.3f, \"throughput_max\": %.3f, \"p50\": %.3f, "
                   "\"p50_min\": %.3f, \"p50_max\": %.3f}",
                   n_ratios++ ? "," : "", sm->s.transport, sm->s.workers, sm->s.inflight,
                   sm->tput[0], sm->tput[1], sm->tput[2], sm->p50[0], sm->p50[1], sm->p50[2]);
        }
        printf("%s]", n_ratios ? "\n  " : "");
        if (scale_ratio >= 0)
            printf(",\n  \"scale_cpu_512_over_8\": %.3f, \"scale_cpu_source\": \"%s\"", scale_ratio,
                   scale_cpu_is_broker ? "broker-thread" : "process");
        if (base_ratio >= 0)
            printf(",\n  \"baseline_scale_cpu_512_over_8\": %.3f, \"baseline_scale_cpu_source\": "
                   "\"%s\"",
                   base_ratio, base_cpu_is_broker ? "broker-thread" : "process");
        printf("\n}\n");
    } else {
        int header = 0;
        for (size_t i = 0; i < n_sums; i++) {
            const summary_t *sm = &sums[i];
            if (!sm->has_ratio)
                continue;
            if (!header++)
                printf("\nswitchboard / baseline    throughput (range)     p50 latency (range)%s\n",
                       o.scale ? ""
                               : "    targets: throughput >= 0.90 at K=256, p50 <= 1.15 at K=1");
            if (o.scale) { /* the targets above are for the default two workers */
                printf("  %-6s workers %-4u  %6.3f (%.2f-%.2f)    %6.3f (%.2f-%.2f)\n",
                       sm->s.transport, sm->s.workers, sm->tput[0], sm->tput[1], sm->tput[2],
                       sm->p50[0], sm->p50[1], sm->p50[2]);
                continue;
            }
            const char *verdict = "";
            if (sm->s.inflight >= 256)
                verdict = sm->tput[0] >= 0.9 ? "throughput met" : "throughput MISSED";
            else if (sm->s.inflight == 1)
                verdict = sm->p50[0] <= 1.15 ? "p50 met" : "p50 MISSED";
            printf("  %-6s inflight %-4u %6.3f (%.2f-%.2f)    %6.3f (%.2f-%.2f)    %s\n",
                   sm->s.transport, sm->s.inflight, sm->tput[0], sm->tput[1], sm->tput[2],
                   sm->p50[0], sm->p50[1], sm->p50[2], verdict);
        }
        if (scale_ratio >= 0)
            printf("\n%s CPU per task, 512 workers / 8 workers: %.2f (target <= 1.50: %s)\n",
                   scale_cpu_is_broker ? "broker thread" : "process", scale_ratio,
                   scale_ratio <= 1.5 ? "met" : "MISSED");
        if (base_ratio >= 0)
            printf("baseline %s CPU per task, 512 workers / 8 workers: %.2f (the same run)\n",
                   base_cpu_is_broker ? "broker thread" : "process", base_ratio);
    }
    return failed ? 1 : 0;
}
