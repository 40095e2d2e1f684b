/*
 * bench_util.c - clocks, CPU readers and latency statistics for swb-bench.
 *
 * CPU comes from getrusage for this process and from /proc/<pid>/task/<tid>/schedstat (run
 * time in nanoseconds) for worker processes and single threads: /proc/<pid>/stat counts in
 * clock ticks (10 ms here), too coarse for runs of a second.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

uint64_t bench_self_cpu_ns(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return tv_ns(&self.ru_utime) + tv_ns(&self.ru_stime) + tv_ns(&kids.ru_utime) +
           tv_ns(&kids.ru_stime);
}

static uint64_t schedstat_ns(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
    fclose(f);
    return ns;
}

uint64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    uint64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[96];
        snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
        sum += schedstat_ns(p);
    }
    closedir(d);
    return sum;
}

uint64_t bench_thread_cpu_ns(pid_t tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    return schedstat_ns(path);
}

pid_t bench_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

size_t bench_list_threads(pid_t *out, size_t cap)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap)
        if (e->d_name[0] != '.')
            out[n++] = (pid_t)atoi(e->d_name);
    closedir(d);
    return n;
}

void bench_thread_name(pid_t tid, char *buf, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)cap, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_percentiles(uint64_t *lat_ns, size_t n, bench_result_t *r)
{
    r->p50_us = r->p99_us = 0;
    if (!n)
        return;
    qsort(lat_ns, n, sizeof *lat_ns, cmp_u64);
    /* Nearest rank. */
    size_t i50 = (n * 50 + 99) / 100, i99 = (n * 99 + 99) / 100;
    r->p50_us = (double)lat_ns[i50 ? i50 - 1 : 0] / 1e3;
    r->p99_us = (double)lat_ns[i99 ? i99 - 1 : 0] / 1e3;
}

void bench_finish(bench_result_t *r, const bench_cfg_t *c, uint64_t wall_ns, uint64_t cpu_ns,
                  uint64_t broker_ns, int broker_known, uint64_t worker_ns)
{
    r->transport = c->transport == BT_IPC ? "ipc" : "inproc";
    r->workers = c->workers;
    r->inflight = c->inflight;
    r->tasks = c->tasks;
    r->secs = (double)wall_ns / 1e9;
    r->tasks_per_s = wall_ns ? (double)c->tasks * 1e9 / (double)wall_ns : 0;
    double n = c->tasks ? (double)c->tasks : 1;
    r->cpu_us_per_task = (double)(cpu_ns + worker_ns) / 1e3 / n;
    r->worker_us_per_task = (double)worker_ns / 1e3 / n;
    r->broker_us_per_task = broker_known ? (double)broker_ns / 1e3 / n : -1;
}

void bench_pack_task(msgpack_sbuffer *sb)
{
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_int64(&pk, 2);
}

int bench_check_reply(const void *body, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int ok = -1;
    if (msgpack_unpack_next(&u, body, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == 1) {
        const msgpack_object_kv *kv = &u.data.via.map.ptr[0];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 3 &&
            memcmp(kv->key.via.str.ptr, "sum", 3) == 0 &&
            kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER && kv->val.via.u64 == 3)
            ok = 0;
    }
    msgpack_unpacked_destroy(&u);
    return ok;
}
