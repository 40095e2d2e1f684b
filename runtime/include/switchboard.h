/*
 * switchboard.h - the public API of libswitchboard.
 *
 * A broker routes msgpack messages between peers over ZeroMQ. A peer is anything connected to
 * it: a worker (thread or process, running a plugin), a client, or a parent that starts
 * children. This header is the whole surface: the broker (embedded in a thread or run in the
 * caller's thread), the peer connection, parent-child control, the worker host and logging.
 *
 * Conventions: functions return 0 (SWB_OK) or a negative swb_err_t; objects come out through
 * pointer arguments; `swb_x_destroy(&p)` tolerates NULL and sets the pointer to NULL. Option
 * structs are valid when zeroed: `(swb_x_opts_t){0}` means all defaults. Strings passed in are
 * borrowed for the duration of the call unless said otherwise.
 *
 * Binary compatibility: every options struct begins with `size`, and new fields are only ever
 * added at its end (after `reserved0` where a struct has one: it fills what would be trailing
 * padding, which a new field could occupy without changing sizeof, and is never reused). Fill
 * structs with SWB_OPTS(type, .field = v, ...), which sets size to the struct as this header knows
 * it; the library reads only that many bytes, so a program built against an older header runs with
 * a newer library. A zeroed size stands for the first layout (the fields up to the end marked
 * "first layout"): always safe, but fields added later are then not read. A program built against a
 * newer header that sets fields this library does not know gets SWB_E_INVALID rather than having
 * them ignored. The plugin descriptor does the same with its `abi` number (swb_plugin.h).
 * swb_version() says which library is running.
 *
 * Threads: nothing here is thread-safe except where stated. Each object belongs to one thread
 * at a time (it may be handed to another, with the usual happens-before of a mutex or a thread
 * start): a swb_peer_t and everything that takes one (tasks, spawn, recv), a swb_msg_t.
 * A swb_pool_t is the exception: its calls are safe from any thread. Different objects may be used
 * from different threads at once. A broker runs its loop on one thread (its own after
 * swb_broker_start); the calls that say "safe from any thread" may be made meanwhile from others,
 * swb_broker_new and swb_broker_destroy from the thread that owns it. Logging, swb_version,
 * swb_strerror and swb_default_endpoint are safe from any thread.
 */
#ifndef SWITCHBOARD_H
#define SWITCHBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "swb_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

#define SWB_VERSION_MAJOR  0
#define SWB_VERSION_MINOR  2
#define SWB_VERSION_PATCH  0
#define SWB_VERSION_STRING "0.2.0" /* of this header */
#define SWB_NAME_MAX       64      /* bytes of a peer, service or group name */
/* Bytes of a worker configuration (swb_spawn_opts_t.config). A process child gets it as hex in
 * one environment variable, and Linux caps one at 128 KiB. */
#define SWB_CONFIG_MAX (60 * 1024)

/* The running library's version ("0.2.0"), which is not the header's SWB_VERSION_STRING when a
 * program built against one release runs with another. major, minor and patch may be NULL.
 * Safe from any thread. */
const char *swb_version(int *major, int *minor, int *patch);

/* An options struct with its size set (see the top of this header):
 *     swb_broker_new(&b, &SWB_OPTS(swb_broker_opts_t, .private_ipc = 1)); */
#define SWB_OPTS(type, ...) ((type){.size = sizeof(type), __VA_ARGS__})

/* ---- logging -------------------------------------------------------------------------- */

typedef enum {
    SWB_LOG_ERROR = 0,
    SWB_LOG_WARN = 1,
    SWB_LOG_INFO = 2,
    SWB_LOG_DEBUG = 3,
} swb_log_level_t;

/* Log a line at `level` to the sink (stderr by default). The level comes from SWB_LOG
 * (error|warn|info|debug, default warn) unless set with swb_log_set_level. Every logging call
 * is safe from any thread; a sink is called under a lock, one line at a time. */
void swb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void swb_log_set_level(int level);
int swb_log_get_level(void);
typedef void (*swb_log_sink_fn)(int level, const char *line, void *arg);
/* Replace the sink (NULL restores stderr). Lines are whole, without a trailing newline. */
void swb_log_set_sink(swb_log_sink_fn fn, void *arg);

/* ---- endpoints ------------------------------------------------------------------------ */

/*
 * The default broker endpoint: SWB_ENDPOINT if set, else
 * ipc://$XDG_RUNTIME_DIR/switchboard/broker.sock, else ipc:///tmp/switchboard-$UID/broker.sock.
 * For ipc endpoints the directory is created 0700 and checked (owned by us, not a symlink,
 * no access for others). Writes a NUL-terminated string into buf.
 */
int swb_default_endpoint(char *buf, size_t cap);

/* ---- broker --------------------------------------------------------------------------- */

typedef struct swb_broker swb_broker_t;

typedef struct {
    uint32_t size;                   /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    const char *const *endpoints;    /* to bind: ipc://, tcp://, inproc://; NULL = default ipc */
    size_t n_endpoints;              /* 0 with endpoints == NULL binds the default */
    int no_default;                  /* 1: bind only the private inproc endpoint when none given */
    int private_ipc;                 /* 1: also bind an ipc socket in a fresh 0700 directory of
                                        its own (removed on destroy), for process children of an
                                        embedded broker; implies no_default */
    uint32_t heartbeat_ivl_ms;       /* default 1000 */
    uint32_t heartbeat_liveness;     /* missed beats before a peer is dead; default 3 */
    uint32_t max_msg_size;           /* bytes per frame; default 16 MiB, at least 5 KiB */
    uint32_t max_peers;              /* default 4096 */
    uint32_t peer_hwm;               /* messages queued to one peer before it counts as slow;
                                        default 10000 */
    const char *worker_exe;          /* swb-worker path; default SWB_WORKER_EXE, else beside the
                                        running program, else the build's. Another program
                                        must exec swb-worker in the same process: the worker
                                        ties its life to the broker's (SWB_PPID) */
    const char *plugin_dir;          /* where plugin names resolve; default SWB_PLUGIN_DIR, else
                                        the build's plugin folder */
    uint32_t max_queue;              /* tasks waiting per service; default 10000 */
    uint32_t max_attempts;           /* tries per task when workers are lost; default 3 */
    uint32_t worker_window;          /* most tasks a worker may hold per capacity slot, running
                                        plus waiting in it; default 64. Within it the window
                                        adapts: about 1 ms of the worker's measured time per
                                        task, at least 2 (4 until measured), so the next task
                                        is there when one ends and microsecond tasks travel in
                                        batches. A task far slower than its worker's usual
                                        holds up those already waiting behind it (up to
                                        window - 1): for such mixes set it lower. 1: none
                                        waits at a worker, so the least-loaded choice and
                                        priorities apply to every task exactly */
    uint32_t max_tasks;              /* tasks known to the broker at once; default 100000,
                                        at most 2^30 */
    uint32_t no_worker_grace_ms;     /* how long tasks of a service without workers wait for one
                                        to come (back); default 5000 */
    uint32_t hung_grace_ms;          /* a worker still running a task this long after its
                                        deadline is killed and restarted; default 1000 */
    uint32_t restart_backoff_min_ms; /* first restart delay of a crashed child; default 100 */
    uint32_t restart_backoff_max_ms; /* the delay doubles up to this; default 10000 */
    uint32_t max_restarts;           /* restarts of one child within restart_period_ms before it
                                        is given up; default 5 */
    uint32_t restart_period_ms;      /* default 10000 */
    uint32_t max_children;           /* default 1024 */
    uint32_t reserved0;              /* zero; the end of the first layout */
    uint32_t max_memory_mb;          /* heap the broker's process may use (the embedding
                                        program's included) before new tasks get queue_full,
                                        until it is back under 7/8 of it; 0 = no bound. Past
                                        the first layout: read only when `size` covers it, so
                                        set it with SWB_OPTS */
    uint32_t reserved1;              /* zero */
} swb_broker_opts_t;

/* Create a broker and bind its endpoints (taking a lock file for each ipc path, so a second
 * broker cannot steal the socket). Nothing runs until start or run. The calling thread owns it:
 * it starts, runs and destroys it; the calls below marked so may come from any thread. */
int swb_broker_new(swb_broker_t **out, const swb_broker_opts_t *opts);
/* Run the broker loop in a thread of its own (embedded broker). */
int swb_broker_start(swb_broker_t *b);
/* Run the broker loop in the calling thread until swb_broker_stop. */
int swb_broker_run(swb_broker_t *b);
/* Ask the loop to stop now; safe from any thread and from a signal handler. */
void swb_broker_stop(swb_broker_t *b);
/* Graceful shutdown, safe from a signal handler: new tasks get SWB_E_SHUTTING_DOWN, accepted
 * ones run to the end for up to timeout_ms (then fail with it), workers are drained and told
 * to leave, and the loop ends. Then swb_broker_destroy (or swb_broker_wait) as usual. */
int swb_broker_shutdown(swb_broker_t *b, int timeout_ms);
/* Wait for the loop thread (started with swb_broker_start) to end, after a shutdown. From the
 * thread that owns the broker (never at the same time as swb_broker_start or destroy). */
int swb_broker_wait(swb_broker_t *b);
/* Stop, join, end every child (BYE, then SIGKILL after a grace period), reap them, close,
 * unlink our socket files and locks, free. */
void swb_broker_destroy(swb_broker_t **self_p);
/* The getters below read what swb_broker_new set and never changes: safe from any thread. */
/* The private inproc endpoint every broker binds (for peers in this process). */
const char *swb_broker_inproc(const swb_broker_t *b);
/* The first bound endpoint that other processes can reach (ipc or tcp), or NULL. */
const char *swb_broker_endpoint(const swb_broker_t *b);
/* The i-th endpoint the broker is bound to, in bind order (its private inproc one, then the
 * private ipc or default one if any, then opts.endpoints), with a tcp wildcard port resolved
 * ("tcp://127.0.0.1:*" becomes "tcp://127.0.0.1:40123"); NULL past the last. */
const char *swb_broker_bound(const swb_broker_t *b, size_t i);
/* The ZeroMQ context (void * so this header needs no zmq.h); inproc peers must use it. */
void *swb_broker_zmq_ctx(swb_broker_t *b);

/* ---- peer ----------------------------------------------------------------------------- */

typedef struct swb_peer swb_peer_t;

typedef enum {
    SWB_PEER_CLIENT = 0,
    SWB_PEER_THREAD = 1,
    SWB_PEER_PROCESS = 2,
    SWB_PEER_REMOTE = 3,
} swb_peer_kind_t_;

typedef struct {
    uint32_t size;               /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    const char *endpoint;        /* NULL: the broker's inproc if `broker` set, else default */
    swb_broker_t *broker;        /* embedded broker to join over inproc (uses its context) */
    void *zmq_ctx;               /* context to use (needed for inproc without `broker`) */
    const char *name;            /* NULL: the broker assigns one */
    int kind;                    /* swb_peer_kind_t_; default client */
    const char *const *services; /* services served (workers) */
    size_t n_services;
    uint32_t capacity;      /* tasks at once; default 1 for workers */
    int no_tasks;           /* member of its services' groups for messages only */
    const char *parent;     /* parent's name (children started by SPAWN) */
    int connect_timeout_ms; /* wait for WELCOME; default 5000 */
    uint32_t reserved0;     /* zero; the end of the first layout */
} swb_peer_opts_t;

typedef enum {
    SWB_MSG_DELIVER = 1, /* a message from a peer: from, body */
    SWB_MSG_RESULT = 2,  /* a reply to a request: id, code (0 = ok), text, body */
    SWB_MSG_ERROR = 3,   /* a request failed: id, code, text, target (name) */
    SWB_MSG_EVENT = 4,   /* a child's life: event, name, pid, code, signal */
    SWB_MSG_TASK = 5,    /* a task for this worker: id, service, attempt, deadline, body */
    SWB_MSG_CANCEL = 6,  /* cancel task id */
    SWB_MSG_DRAIN = 7,   /* finish in-flight work, take nothing new */
    SWB_MSG_BYE = 8,     /* the broker tells this peer to leave */
} swb_msg_type_t;

typedef struct {
    int type;                    /* swb_msg_type_t */
    char from[SWB_NAME_MAX + 1]; /* DELIVER sender; TASK client */
    char name[SWB_NAME_MAX + 1]; /* EVENT child; ERROR the target that failed, if any */
    char service[SWB_NAME_MAX + 1];
    char text[256];
    uint64_t id;
    int code;    /* RESULT/ERROR code; EVENT exit code */
    int event;   /* EVENT: SWB_EVENT_* */
    int pid;     /* EVENT */
    int signal;  /* EVENT: the signal that ended a process, 0 if it exited */
    int to_kind; /* DELIVER: how the sender addressed it (peer, parent, group, all) */
    uint32_t attempt, deadline_ms;
    int32_t priority;
    const void *body; /* msgpack bytes, valid until swb_msg_close or the next recv into it */
    size_t len;
    unsigned char _frame[64] __attribute__((aligned(8))); /* the frame the body is in */
    int _has_frame;
} swb_msg_t;

#define SWB_EVENT_STARTED  1
#define SWB_EVENT_READY    2
#define SWB_EVENT_EXIT     3
#define SWB_EVENT_LOST     4
#define SWB_EVENT_RESTART  5 /* text: when and why */
#define SWB_EVENT_GAVE_UP  6 /* crashed too often: not restarted again */
#define SWB_EVENT_LIMIT    7 /* killed for a resource or time limit: text says which */
#define SWB_EVENT_RELOADED 8 /* a reload finished: code 0, or SWB_E_SPAWN if some failed */

/* Release a received message's body. Safe on a zeroed or already closed message. */
void swb_msg_close(swb_msg_t *m);

/* Connect, say HELLO, wait for WELCOME. The peer belongs to the calling thread (a ZeroMQ socket
 * is not thread-safe): every swb_peer_*, task and parent call on it must come from one thread at
 * a time. Use one peer per thread. */
int swb_peer_new(swb_peer_t **out, const swb_peer_opts_t *opts);
/* Say BYE, close, free. */
void swb_peer_destroy(swb_peer_t **self_p);
/* The name the broker knows this peer by. */
const char *swb_peer_name(const swb_peer_t *p);

/* Send `len` msgpack bytes to a peer by name, or to "parent". The body is copied. An ERROR
 * (unknown peer, unreachable) comes back later as an SWB_MSG_ERROR. */
int swb_peer_send(swb_peer_t *p, const char *to, const void *body, size_t len);
/* Send to every peer serving `service`. */
int swb_peer_send_group(swb_peer_t *p, const char *service, const void *body, size_t len);
/* Send to every peer but this one. */
int swb_peer_broadcast(swb_peer_t *p, const void *body, size_t len);

/* Receive the next message for the application, waiting up to timeout_ms (-1 forever, 0 poll).
 * Heartbeats are handled inside. Returns SWB_OK, SWB_E_TIMEOUT, or an error. `m` is closed
 * first, so it can be reused in a loop. */
int swb_peer_recv(swb_peer_t *p, swb_msg_t *m, int timeout_ms);

/* Send heartbeats that are due and check the broker's liveness (reconnecting and saying
 * HELLO again when it is lost). recv does this itself; call it when polling the socket. */
int swb_peer_tick(swb_peer_t *p);

/* The ZeroMQ socket (void *) for zmq_poll, and its file descriptor for other loops (edge
 * triggered: after it signals, call swb_peer_recv with timeout 0 until SWB_E_TIMEOUT). */
void *swb_peer_socket(swb_peer_t *p);
int swb_peer_fd(swb_peer_t *p, int *fd);

/* Worker side: answer task `id` (attempt as received) with status code (0 = ok) and body or
 * error text. */
int swb_peer_result(swb_peer_t *p, uint64_t id, uint32_t attempt, int code, const char *text,
                    const void *body, size_t len);
/* Worker side: report free slots and load (permille). */
int swb_peer_credit(swb_peer_t *p, uint32_t credit, uint32_t load);

/* Ask the broker for its STATS; the reply body (a msgpack map) is copied into a malloc'd
 * buffer handed out through *body (caller frees). */
int swb_peer_stats(swb_peer_t *p, void **body, size_t *len, int timeout_ms);

/* ---- tasks --------------------------------------------------------------------------- */

typedef struct swb_task_opts swb_task_opts_t;
/* Called from inside swb_peer_recv (or swb_wait*) when the task's final RESULT arrives; the
 * message is only valid during the call. code is 0 or the task's error code. */
typedef void (*swb_result_fn)(void *arg, uint64_t id, int code, const swb_msg_t *result);

struct swb_task_opts {
    uint32_t size;           /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    uint32_t deadline_ms;    /* the task ends with SWB_E_DEADLINE after this long; 0 = none */
    int32_t priority;        /* higher runs first when tasks queue; default 0 */
    swb_result_fn on_result; /* optional callback instead of receiving the RESULT */
    void *arg;               /* the end of the first layout */
};

/*
 * Submit a task to `service` without waiting (pipelining: thousands may be in flight). Its id
 * comes out through *id. Exactly one RESULT follows for every submitted task: receive it with
 * swb_peer_recv (type SWB_MSG_RESULT, id, code), swb_wait, swb_wait_any, or the callback.
 * Delivery to workers is at-least-once: a task whose worker dies is sent to another worker (up
 * to the broker's max_attempts), so a task may run more than once but is answered once. When
 * the broker falls silent (nothing for its heartbeat interval x liveness, as told in WELCOME)
 * every outstanding task ends with SWB_E_BROKER_LOST, and an answer that still comes later is
 * dropped. So do they, at once, when a new broker has taken the endpoint (the peer, saying HELLO
 * again, gets a WELCOME with another boot id): the new one knows nothing of them. Waits for
 * what the lost broker owed (a reply to swb_peer_stats, swb_spawn, swb_kill, ..., a child's
 * exit in swb_wait_exit, a reload's end) end with SWB_E_BROKER_LOST in the same way.
 */
int swb_submit(swb_peer_t *p, const char *service, const void *body, size_t len,
               const swb_task_opts_t *opts, uint64_t *id);
/* Wait for the RESULT of task `id` (other messages are kept for recv). Returns the task's
 * code: SWB_OK with the body in *result, or its error (text in result->text). */
int swb_wait(swb_peer_t *p, uint64_t id, swb_msg_t *result, int timeout_ms);
/* Wait for the next RESULT of any task. Returns its code; result->id says which. */
int swb_wait_any(swb_peer_t *p, swb_msg_t *result, int timeout_ms);
/* Submit and wait: the task gets timeout_ms as its deadline. */
int swb_call(swb_peer_t *p, const char *service, const void *body, size_t len, int timeout_ms,
             swb_msg_t *result);
/* Cancel a task: removed from its queue, or its worker is told; its RESULT is cancelled. */
int swb_cancel(swb_peer_t *p, uint64_t id);
/* Tasks submitted by this peer whose RESULT has not been received yet. */
size_t swb_peer_outstanding(const swb_peer_t *p);

/* ---- pool ----------------------------------------------------------------------------- */

/* A pool in the spirit of Piscina: N workers of one plugin under a private embedded broker,
 * as threads or processes, and a client to run tasks on them. */
typedef struct swb_pool swb_pool_t;

typedef struct {
    uint32_t size;      /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    const char *plugin; /* name or path */
    uint32_t workers;   /* default: the number of CPUs */
    int mode;           /* SWB_CHILD_THREAD (default) or SWB_CHILD_PROCESS */
    uint32_t capacity;  /* tasks at once per worker; default the plugin's */
    uint32_t max_queue; /* default 10000; the end of the first layout */
    const void *config; /* the workers' configuration (swb_ctx_config): one msgpack value of
                           at most SWB_CONFIG_MAX bytes, copied; NULL: none (nil) */
    size_t config_len;
} swb_pool_opts_t;

/* The pool's calls (but new and destroy) are safe from any thread, as Piscina's run() is: each
 * calling thread gets a client peer of its own on its first call, kept until the pool is
 * destroyed. Destroy it once no other thread uses it. */
int swb_pool_new(swb_pool_t **out, const swb_pool_opts_t *opts);
void swb_pool_destroy(swb_pool_t **self_p);
/* The service the pool's plugin serves (its first). */
const char *swb_pool_service(const swb_pool_t *pool);
/* The calling thread's client peer of the pool, for swb_submit/swb_wait/recv on it (results of
 * swb_pool_submit arrive at the submitting thread's). */
swb_peer_t *swb_pool_peer(swb_pool_t *pool);
/* The pool's broker. */
swb_broker_t *swb_pool_broker(swb_pool_t *pool);
int swb_pool_call(swb_pool_t *pool, const void *body, size_t len, int timeout_ms,
                  swb_msg_t *result);
int swb_pool_submit(swb_pool_t *pool, const void *body, size_t len, const swb_task_opts_t *o,
                    uint64_t *id);
/* The pool broker's STATS body (malloc'd msgpack map; caller frees). */
int swb_pool_stats(swb_pool_t *pool, void **body, size_t *len);

/* ---- parent and children -------------------------------------------------------------- */

typedef enum {
    SWB_CHILD_PROCESS = 0, /* fork/exec of swb-worker, over ipc */
    SWB_CHILD_THREAD = 1,  /* the host loop in a thread of the broker's process, over inproc */
} swb_child_mode_t;

typedef struct {
    uint32_t size;         /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    const char *plugin;    /* plugin name (in the plugin folder) or path to a .so */
    const char *name;      /* child name; NULL: broker picks "<plugin>-<n>"; with count > 1 a
                              suffix -0, -1, ... is added */
    int mode;              /* swb_child_mode_t */
    uint32_t count;        /* default 1 */
    uint32_t capacity;     /* tasks at once per child; default the plugin's */
    int timeout_ms;        /* wait for the children to be ready; default 10000 */
    int no_restart;        /* don't restart a child that crashes (default: restart it) */
    uint32_t mem_limit_mb; /* restart a process child whose RSS passes this; 0 = none */
    uint32_t cpu_limit_s;  /* CPU seconds a process child may use (RLIMIT_CPU); 0 = none */
    uint32_t reserved0;    /* zero; the end of the first layout */
    const void *config;    /* the children's configuration, which their plugin reads with
                              swb_ctx_config, like Node's workerData: one msgpack value of at
                              most SWB_CONFIG_MAX bytes, copied. Restarts, RELOAD and SCALE give
                              it to the children they start. NULL: none (nil) */
    size_t config_len;
} swb_spawn_opts_t;

typedef struct {
    char name[SWB_NAME_MAX + 1];
    int pid;
} swb_child_t;

/* Start children whose parent is `parent`, and wait until every one has said HELLO (READY),
 * so it can be sent to at once. A config that is not one msgpack value fails with
 * SWB_E_BAD_VALUE, one over SWB_CONFIG_MAX with SWB_E_TOO_LARGE (the broker checks both). Up to
 * `cap` children are written to `out`; *n gets the count. Messages that arrive meanwhile are kept
 * for swb_peer_recv. */
int swb_spawn(swb_peer_t *parent, const swb_spawn_opts_t *opts, swb_child_t *out, size_t cap,
              size_t *n);
/* Send a signal to a child process (a thread child is told to leave; SIGKILL ends it at
 * once, dropping queued work). The EXIT event follows. */
int swb_kill(swb_peer_t *parent, const char *child, int signal);
/* Tell a child to leave gracefully (BYE); its EXIT event follows with code 0. */
int swb_disconnect(swb_peer_t *parent, const char *child);
/* Replace this parent's children (those of spawn group `group`, or all when NULL) without
 * downtime: replacements start first, each old child is drained once its replacement is
 * ready. Waits for the RELOADED event; SWB_E_SPAWN if some could not be replaced. */
int swb_reload(swb_peer_t *parent, const char *group, int timeout_ms);
/* Set the number of children in spawn group `group` (the spawn's name, or the plugin's name):
 * more are started like the first, extra ones are drained and leave. */
int swb_scale(swb_peer_t *parent, const char *group, uint32_t count);
/* The same for the children of another parent (`parent` NULL: this peer's), without waiting
 * for the reload to finish (the RELOADED event goes to the parent): what `swb reload` and
 * `swb scale` use to act on the workers of `swb broker --workers` ("swb-broker"). */
int swb_request_reload(swb_peer_t *p, const char *parent, const char *group);
int swb_request_scale(swb_peer_t *p, const char *parent, const char *group, uint32_t count);
/* Wait for the EXIT event of `child` (other messages are kept for recv). */
int swb_wait_exit(swb_peer_t *parent, const char *child, int *code, int *signal, int timeout_ms);

/* ---- worker host ---------------------------------------------------------------------- */

typedef struct {
    uint32_t size;          /* sizeof as the caller knew it (SWB_OPTS), or 0 */
    const char *plugin;     /* name or path of the plugin */
    const char *plugin_dir; /* where names resolve; default as for the broker */
    const char *endpoint;   /* broker endpoint */
    void *zmq_ctx;          /* for inproc (thread children) */
    const char *name;       /* worker name; NULL: broker assigns */
    const char *parent;     /* parent name, if started by SPAWN */
    int kind;               /* SWB_PEER_THREAD / PROCESS / REMOTE */
    uint32_t capacity;      /* tasks at once; default the plugin's */
    volatile int *stop;     /* set non-zero to stop the host (threads), from any thread; may be
                               NULL; the end of the first layout */
    const void *config;     /* the plugin's configuration (swb_ctx_config): one msgpack value,
                               borrowed for the whole swb_host_run; NULL: none (nil) */
    size_t config_len;
} swb_host_opts_t;

/* Load the plugin, connect, serve until told BYE, stopped, or the broker is gone for good.
 * Returns the process exit code to use (0 clean, non-zero on failure). */
int swb_host_run(const swb_host_opts_t *opts);

/* Resolve a plugin name or path into an absolute path; SWB_E_PLUGIN if not found. */
int swb_plugin_resolve(const char *plugin, const char *plugin_dir, char *out, size_t cap);
/* Load a plugin (name or path) and write the service it serves first (its name when it lists
 * none) into out: what a pool of it is called by. SWB_E_PLUGIN, SWB_E_ABI on a bad plugin.
 * The plugin stays loaded. */
int swb_plugin_service(const char *plugin, const char *plugin_dir, char *out, size_t cap);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
