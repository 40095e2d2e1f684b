/*
 * bench.h - shared parts of swb-bench: the run configuration, the figures one run produces,
 * and the helpers (clocks, CPU readers, latency percentiles, output) that every path uses, so
 * Switchboard and the raw ZeroMQ baseline are measured by the same code.
 */
#ifndef SWB_BENCH_H
#define SWB_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAX_WORKERS 1024

typedef enum { BT_INPROC = 0, BT_IPC = 1 } bench_transport_t;

typedef struct {
    int transport;     /* bench_transport_t */
    uint32_t workers;  /* worker threads or processes */
    uint32_t inflight; /* tasks kept outstanding by the client */
    uint32_t tasks;    /* measured tasks */
    uint32_t warmup;   /* tasks run and discarded before measuring */
    uint32_t capacity; /* Switchboard worker capacity; 0 = the plugin's */
    uint32_t window;   /* Switchboard worker window; 0 = the broker's default */
} bench_cfg_t;

typedef struct {
    char impl[32];         /* "switchboard", "baseline" */
    const char *transport; /* "inproc", "ipc" */
    uint32_t workers, inflight, tasks;
    double secs; /* wall time of the measured tasks */
    double tasks_per_s;
    double p50_us, p99_us;     /* per-task latency, submit to result */
    double cpu_us_per_task;    /* this process (self + reaped children) + worker processes */
    double broker_us_per_task; /* the broker thread alone; < 0 when not found */
    double worker_us_per_task; /* worker processes (ipc); 0 for threads */
    uint32_t errors;           /* tasks that ended with an error */
} bench_result_t;

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);
/* CPU time (user + system) of this process and of its reaped children, in nanoseconds. */
uint64_t bench_self_cpu_ns(void);
/* CPU time of every thread of process `pid`, in nanoseconds (0 if it is gone). */
uint64_t bench_proc_cpu_ns(pid_t pid);
/* CPU time of thread `tid` of this process, in nanoseconds (0 if not found). */
uint64_t bench_thread_cpu_ns(pid_t tid);
/* The calling thread's id. */
pid_t bench_gettid(void);

/* Thread ids of this process (up to cap); returns the count. */
size_t bench_list_threads(pid_t *out, size_t cap);
/* The thread's name (comm) into buf; "" if unknown. */
void bench_thread_name(pid_t tid, char *buf, size_t cap);

/* Sort `n` latencies (ns) in place and fill p50/p99 (µs) of r. */
void bench_percentiles(uint64_t *lat_ns, size_t n, bench_result_t *r);
/* Fill the derived fields of r from the measured totals. */
void bench_finish(bench_result_t *r, const bench_cfg_t *c, uint64_t wall_ns, uint64_t cpu_ns,
                  uint64_t broker_ns, int broker_known, uint64_t worker_ns);

/* Pack the task body {"a":1,"b":2} into sb (cleared first), as every client does per task. */
struct msgpack_sbuffer;
void bench_pack_task(struct msgpack_sbuffer *sb);
/* Unpack a reply and check it is {"sum":3}: 0 when it is, -1 otherwise. */
int bench_check_reply(const void *body, size_t len);

/* Run the measured path; fill r. Return 0 or a negative code (with a message on stderr). */
int bench_run_switchboard(const bench_cfg_t *c, bench_result_t *r);
int bench_run_baseline(const bench_cfg_t *c, bench_result_t *r);
/* The baseline's ipc worker process (swb-bench --baseline-worker ENDPOINT). */
int bench_baseline_worker_main(const char *endpoint);

#endif
