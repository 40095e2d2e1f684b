/*
 * swbi.h - the common layer's internals, shared by every layer of the runtime (not installed,
 * not public): time, frames on the wire, endpoints, paths, option structs.
 *
 * Layer: common; uses: proto; called by: every layer. Functions here are thread-safe (they keep
 * no state) unless they take an object, which then belongs to the caller's thread.
 */
#ifndef SWBI_H
#define SWBI_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "swb_proto.h"
#include "switchboard.h"

/*
 * ThreadSanitizer cannot see the happens-before edge a message carries through libzmq (not
 * instrumented), so a buffer written before zmq_send in one thread and read after zmq_recv in
 * another looks like a race. Every send releases and every receive acquires one sync object,
 * which tells TSan what ZeroMQ guarantees. Compiled to nothing without TSan.
 */
#if defined(__SANITIZE_THREAD__)
#define SWBI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWBI_TSAN 1
#endif
#endif
#ifdef SWBI_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char swbi_tsan_sync;
#define SWBI_SENT()     __tsan_release(&swbi_tsan_sync)
#define SWBI_RECEIVED() __tsan_acquire(&swbi_tsan_sync)
#else
#define SWBI_SENT()     ((void)0)
#define SWBI_RECEIVED() ((void)0)
#endif

/* The worker host's exit code when the plugin's init refused to start (sysexits' EX_CONFIG):
 * the supervisor gives such a child up instead of restarting it like a crash. */
#define SWBI_EXIT_INIT 78

/* Monotonic milliseconds (coarse: a few ms of resolution, for timers) and microseconds
 * (precise, for latency figures). */
int64_t swbi_now_ms(void);
int64_t swbi_now_us(void);

/* Take a caller's options struct (src may be NULL: all defaults) into dst, a zeroed struct of
 * this build's size, reading only the bytes the caller's `size` field (its first) says it has:
 * 0 stands for the first layout, v1_size bytes (SWBI_OPTS_END of its last field). A larger
 * size is accepted while the fields past this build's are zero. Returns SWB_OK or
 * SWB_E_INVALID (logged, naming `what`). dst->size is set to dst_size. */
int swbi_opts_take(void *dst, size_t dst_size, const void *src, size_t v1_size, const char *what);
#define SWBI_OPTS_END(type, last_field)                                                            \
    (offsetof(type, last_field) + sizeof(((type *)0)->last_field))

/* Copy a borrowed wire string into a NUL-terminated buffer of `cap` bytes (truncating). */
void swbi_str_copy(char *dst, size_t cap, swb_str_t s);

/* A routing id, for sends on the broker's ROUTER. */
typedef struct {
    const void *id;
    size_t len;
} swbi_rid_t;

/* Bodies up to this size travel inline, in the header's frame (frames.c says why). */
#define SWBI_INLINE_MAX 1024

/* A received body: the `len` bytes of `*msg` from `off` on (to its end). `msg` is the
 * header's own frame when the body came inline (off: the header's length), else the body's
 * frame (off 0). The length is kept because each zmq_msg_size is a call into libzmq. */
typedef struct {
    zmq_msg_t *msg;
    size_t off, len;
} swbi_body_t;

static inline const void *swbi_body_data(const swbi_body_t *b)
{
    return (const char *)zmq_msg_data(b->msg) + b->off;
}

/* Encode `h` and send it on `sock` with `body` (none when NULL), inline or in a frame of its
 * own by size. The body is borrowed: the caller still owns and closes its frame. When `rid`
 * is given (ROUTER sockets) it goes first. `flags` is ZMQ_DONTWAIT or 0. Returns 0 or -1 with
 * errno set (EAGAIN, EHOSTUNREACH, ...). */
int swbi_send(void *sock, const swbi_rid_t *rid, const swb_header_t *h, const swbi_body_t *body,
              int flags);
/* The same with a body given as bytes (copied; none when NULL). */
int swbi_send_bytes(void *sock, const swbi_rid_t *rid, const swb_header_t *h, const void *body,
                    size_t len, int flags);

/* Decode a received message: `hdr` is its first frame (after any routing id), `second` its
 * second frame or NULL. Fills `*h` and `*body` (body->msg NULL when there is none). Returns
 * SWB_OK or the codec's error for the header. */
int swbi_decode_msg(zmq_msg_t *hdr, zmq_msg_t *second, swb_header_t *h, swbi_body_t *body);

/* Receive the rest of a multipart message and drop it (after a malformed first part). */
void swbi_drain(void *sock);

/* Whether this code runs from the build tree (then the build's worker and plugins come before
 * the installed ones; the other way round when installed). */
int swbi_from_build_tree(void);
/* Resolve default paths: the worker executable and the plugin folder. */
int swbi_worker_exe(const char *given, char *out, size_t cap);
const char *swbi_plugin_dir(const char *given);

/* ipc endpoints: make sure the socket's directory exists with mode 0700 and is ours. */
int swbi_ipc_prepare(const char *endpoint);
/* Take an exclusive lock for an ipc endpoint (path + ".lock"); returns the fd or -1. */
int swbi_ipc_lock(const char *endpoint, int *fd);
/* The filesystem path of an ipc:// endpoint, or NULL when it is not one (or abstract). */
const char *swbi_ipc_path(const char *endpoint);

#endif
