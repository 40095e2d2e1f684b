/*
 * swb_error.h - the one table of error codes, shared by the C API and the wire protocol.
 *
 * A code is a negative int (0 = ok). The same number travels in the `code` field of ERROR
 * and RESULT headers, so a peer in any language can map it. The table is an X-macro so the
 * enum, the names and the texts cannot drift; PROTOCOL.md's table is checked against it.
 */
#ifndef SWB_ERROR_H
#define SWB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

/* X(enum suffix, value, wire name, readable text) */
#define SWB_ERROR_TABLE(X)                                                                         \
    X(OK, 0, "ok", "success")                                                                      \
    X(MALFORMED, -1, "malformed", "malformed message")                                             \
    X(VERSION, -2, "version", "protocol version not supported")                                    \
    X(TOO_LARGE, -3, "too_large", "message or field too large")                                    \
    X(UNKNOWN_CMD, -4, "unknown_command", "unknown command")                                       \
    X(MISSING_FIELD, -5, "missing_field", "required header field missing")                         \
    X(BAD_TYPE, -6, "bad_type", "header field has the wrong type")                                 \
    X(TRUNCATED, -7, "truncated", "message truncated")                                             \
    X(TRAILING, -8, "trailing_bytes", "trailing bytes after header")                               \
    X(BAD_VALUE, -9, "bad_value", "header field value out of range")                               \
    X(UNKNOWN_PEER, -20, "unknown_peer", "no peer with that name")                                 \
    X(NAME_TAKEN, -21, "name_taken", "a live peer already has that name")                          \
    X(NOT_REGISTERED, -22, "not_registered", "peer must say HELLO first")                          \
    X(NO_SERVICE, -23, "no_such_service", "no worker serves that service")                         \
    X(QUEUE_FULL, -24, "queue_full", "queue full")                                                 \
    X(DEADLINE, -25, "deadline", "deadline passed")                                                \
    X(WORKER_LOST, -26, "worker_lost", "worker lost")                                              \
    X(CANCELLED, -27, "cancelled", "cancelled")                                                    \
    X(UNREACHABLE, -28, "unreachable", "peer gone or not keeping up")                              \
    X(TOO_MANY_PEERS, -29, "too_many_peers", "broker peer limit reached")                          \
    X(SHUTTING_DOWN, -30, "shutting_down", "broker is shutting down")                              \
    X(NO_PARENT, -31, "no_parent", "peer has no parent")                                           \
    X(TASK_FAILED, -32, "task_failed", "task failed in the worker")                                \
    X(SPAWN, -33, "spawn_failed", "could not start worker")                                        \
    X(NOT_PERMITTED, -34, "not_permitted", "not permitted")                                        \
    X(BROKER_LOST, -35, "broker_lost", "broker lost")                                              \
    X(BAD_REPLY, -36, "bad_reply", "the worker's reply is not msgpack")                            \
    X(NO_HANDLER, -37, "no_handler", "the receiver takes no messages")                             \
    X(TIMEOUT, -40, "timeout", "timed out")                                                        \
    X(NOMEM, -41, "nomem", "out of memory")                                                        \
    X(INVALID, -42, "invalid_argument", "invalid argument")                                        \
    X(SYS, -43, "system", "system call failed")                                                    \
    X(PLUGIN, -44, "plugin", "plugin could not be loaded")                                         \
    X(ABI, -45, "plugin_abi", "plugin built for another ABI version")                              \
    X(CLOSED, -46, "closed", "connection closed")                                                  \
    X(INTERNAL, -47, "internal", "internal error")

typedef enum {
#define SWB_X_ENUM(sym, val, name, text) SWB_E_##sym = (val),
    SWB_ERROR_TABLE(SWB_X_ENUM)
#undef SWB_X_ENUM
} swb_err_t;

#define SWB_OK SWB_E_OK

/* Readable text for a code; never NULL ("unknown error" for codes not in the table). */
const char *swb_strerror(int code);

/* Stable wire name of a code ("queue_full"); never NULL ("unknown"). */
const char *swb_errname(int code);

/* Whether `code` is one of the table's codes. */
int swb_err_known(int code);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
