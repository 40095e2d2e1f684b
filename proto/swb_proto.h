/*
 * swb_proto.h - the Switchboard wire header: commands, fields, encoder and decoder.
 *
 * PROTOCOL.md is the normative spec; this is its C form. A message is [header][body?]; the
 * header is a msgpack map from small unsigned field keys to values. The decoder reads it in one
 * pass into a flat struct, with strings borrowed from the input buffer, so it never allocates:
 * the broker decodes every header once on its hot path. Every count is checked against the
 * bytes that remain before it is believed (msgpack-c trusts counts; we do not).
 */
#ifndef SWB_PROTO_H
#define SWB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "swb_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SWB_PROTO_VERSION 1
#define SWB_MAX_HEADER    4096 /* bytes of an encoded header */
#define SWB_MAX_NAME      64   /* bytes of a peer, service or group name */
#define SWB_MAX_TEXT      1024 /* bytes of an error text or plugin path */
#define SWB_MAX_SERVICES  16   /* services one peer may serve */
#define SWB_MAX_FIELDS    32   /* entries in a header map */

typedef enum {
    SWB_CMD_HELLO = 1,     /* peer -> broker: register */
    SWB_CMD_WELCOME = 2,   /* broker -> peer: registered, with settings */
    SWB_CMD_HEARTBEAT = 3, /* both ways */
    SWB_CMD_SEND = 4,      /* peer -> broker: message for a peer, parent, group or all */
    SWB_CMD_DELIVER = 5,   /* broker -> peer: a message, with its sender */
    SWB_CMD_TASK = 6,      /* client -> broker -> worker */
    SWB_CMD_RESULT = 7,    /* worker -> broker -> client */
    SWB_CMD_CANCEL = 8,    /* client -> broker -> worker */
    SWB_CMD_CREDIT = 9,    /* worker -> broker: capacity and load */
    SWB_CMD_STATS = 10,    /* peer -> broker; reply is a RESULT with a msgpack map body */
    SWB_CMD_SPAWN = 11,    /* parent -> broker: start children */
    SWB_CMD_DRAIN = 12,    /* broker -> worker: finish what you have, take nothing new */
    SWB_CMD_BYE = 13,      /* both ways: leaving / leave */
    SWB_CMD_ERROR = 14,    /* broker -> peer: a request could not be served */
    SWB_CMD_EVENT = 15,    /* broker -> parent: a child started, exited, ... */
    SWB_CMD_KILL = 16,     /* parent -> broker: stop a child (signal for a process) */
    SWB_CMD_RELOAD = 17,   /* parent -> broker: replace its children without downtime */
    SWB_CMD_SCALE = 18,    /* parent -> broker: set how many children a spawn group has */
} swb_cmd_t;
#define SWB_CMD_MAX 18

/* Field keys; a field's key is also its bit in swb_header_t.present. */
typedef enum {
    SWB_F_VERSION = 0,    /* uint, required in every header */
    SWB_F_CMD = 1,        /* uint, required in every header */
    SWB_F_ID = 2,         /* uint64: message, task or request id */
    SWB_F_NAME = 3,       /* str: HELLO/WELCOME the peer's name; EVENT/KILL the child */
    SWB_F_TO = 4,         /* str: SEND target (a peer or group name) */
    SWB_F_TO_KIND = 5,    /* uint swb_to_kind_t: SEND target kind */
    SWB_F_FROM = 6,       /* str: DELIVER sender; TASK/RESULT forwarded client */
    SWB_F_KIND = 7,       /* uint swb_peer_kind_t: HELLO */
    SWB_F_PID = 8,        /* uint: HELLO, EVENT */
    SWB_F_SERVICES = 9,   /* array of str: HELLO */
    SWB_F_CAPACITY = 10,  /* uint: HELLO, SPAWN */
    SWB_F_SERVICE = 11,   /* str: TASK; SPAWN (plugin's service) */
    SWB_F_DEADLINE = 12,  /* uint ms from receipt: TASK */
    SWB_F_PRIORITY = 13,  /* int: TASK, higher first */
    SWB_F_CODE = 14,      /* int swb_err_t: ERROR, RESULT; EVENT exit code */
    SWB_F_TEXT = 15,      /* str: ERROR, RESULT error text */
    SWB_F_ATTEMPT = 16,   /* uint: TASK/RESULT attempt number */
    SWB_F_HB_IVL = 17,    /* uint ms: WELCOME heartbeat interval */
    SWB_F_HB_LIVE = 18,   /* uint: WELCOME missed beats before dead */
    SWB_F_CREDIT = 19,    /* uint: CREDIT the worker's capacity from now on (0 pauses it) */
    SWB_F_LOAD = 20,      /* uint permille: CREDIT load */
    SWB_F_PLUGIN = 21,    /* str: SPAWN plugin name or path */
    SWB_F_COUNT = 22,     /* uint: SPAWN how many */
    SWB_F_MODE = 23,      /* uint swb_spawn_mode_t: SPAWN thread or process */
    SWB_F_EVENT = 24,     /* uint swb_event_t: EVENT */
    SWB_F_SIGNAL = 25,    /* uint: EVENT exit signal, KILL signal */
    SWB_F_MAX_MSG = 26,   /* uint: WELCOME largest message accepted */
    SWB_F_PARENT = 27,    /* str: HELLO, name of the parent (children started by SPAWN) */
    SWB_F_RESTART = 28,   /* uint swb_restart_t: SPAWN restart policy */
    SWB_F_MEM_LIMIT = 29, /* uint MiB: SPAWN, restart a process child whose RSS passes it */
    SWB_F_CPU_LIMIT = 30, /* uint s: SPAWN, CPU time limit of a process child */
    SWB_F_BOOT = 31,      /* uint64: WELCOME, the broker's boot id (a new one: it restarted) */
} swb_field_t;
/* Every bit of `present` is now a field: a field 32 needs a wider mask. */
#define SWB_F_COUNT_ 32

#define SWB_HAS(h, f) (((h)->present >> (f)) & 1u)
#define SWB_SET(h, f) ((h)->present |= (1u << (f)))

typedef enum {
    SWB_TO_PEER = 0,   /* `to` names a peer */
    SWB_TO_PARENT = 1, /* the sender's parent; `to` absent */
    SWB_TO_GROUP = 2,  /* every peer serving the service named by `to` */
    SWB_TO_ALL = 3,    /* every peer but the sender; `to` absent */
} swb_to_kind_t;

typedef enum {
    SWB_KIND_CLIENT = 0,  /* serves nothing, only sends and calls */
    SWB_KIND_THREAD = 1,  /* worker thread in the broker's process (inproc) */
    SWB_KIND_PROCESS = 2, /* worker process on this host (ipc) */
    SWB_KIND_REMOTE = 3,  /* worker on another host (tcp) */
} swb_peer_kind_t;

typedef enum {
    SWB_SPAWN_PROCESS = 0,
    SWB_SPAWN_THREAD = 1,
} swb_spawn_mode_t;

typedef enum {
    SWB_EV_STARTED = 1,  /* child started: name, pid */
    SWB_EV_READY = 2,    /* child said HELLO */
    SWB_EV_EXIT = 3,     /* child exited: code or signal */
    SWB_EV_LOST = 4,     /* child missed its heartbeats and was removed */
    SWB_EV_RESTART = 5,  /* child ended abnormally and will be started again: text says when */
    SWB_EV_GAVE_UP = 6,  /* child crashed too often and will not be started again */
    SWB_EV_LIMIT = 7,    /* child passed a resource limit and was killed: text says which */
    SWB_EV_RELOADED = 8, /* every child of a RELOAD was replaced: count */
} swb_event_t;

typedef enum {
    SWB_RESTART_ON_FAILURE = 0, /* after a crash or a non-zero exit (default) */
    SWB_RESTART_NEVER = 1,
} swb_restart_t;

/* A string borrowed from the buffer the header was decoded from; not NUL-terminated. */
typedef struct {
    const char *ptr;
    uint32_t len;
} swb_str_t;

typedef struct {
    uint32_t present; /* bit SWB_F_x set when field x is present */
    uint32_t version;
    uint32_t cmd;
    uint64_t id;
    swb_str_t name, to, from, service, text, plugin, parent;
    uint32_t to_kind;
    uint32_t kind;
    uint32_t pid;
    uint32_t n_services;
    uint32_t capacity;
    uint32_t deadline_ms;
    int32_t priority;
    int32_t code;
    uint32_t attempt;
    uint32_t hb_ivl_ms;
    uint32_t hb_liveness;
    uint32_t credit;
    uint32_t load;
    uint32_t count;
    uint32_t mode;
    uint32_t event;
    uint32_t signal;
    uint32_t max_msg;
    uint32_t restart;
    uint32_t mem_limit_mb;
    uint32_t cpu_limit_s;
    uint64_t boot;
    /* Last, so that clearing a header need not touch the names it does not hold. */
    swb_str_t services[SWB_MAX_SERVICES];
} swb_header_t;

/*
 * Decode `len` bytes at `buf` into `*h`. Strings in `*h` point into `buf` (borrowed: valid as
 * long as `buf` is). Returns SWB_OK or the precise error: SWB_E_TRUNCATED, SWB_E_TOO_LARGE,
 * SWB_E_MALFORMED, SWB_E_BAD_TYPE, SWB_E_BAD_VALUE, SWB_E_VERSION, SWB_E_UNKNOWN_CMD,
 * SWB_E_MISSING_FIELD, SWB_E_TRAILING. Never reads outside [buf, buf+len), never allocates.
 */
int swb_header_decode(const void *buf, size_t len, swb_header_t *h);

/*
 * The same for a header followed by other bytes in its buffer (a body sent inline, in the
 * header's frame): decodes the map at the start of `buf` and stores its length in `*hlen`;
 * whatever follows it is not looked at. The map itself must fit in SWB_MAX_HEADER bytes
 * (SWB_E_TOO_LARGE otherwise). `*hlen` is 0 on error.
 */
int swb_header_decode_prefix(const void *buf, size_t len, swb_header_t *h, size_t *hlen);

/*
 * Encode `*h` (version and cmd always; other fields where their present bit is set) into
 * `buf` of `cap` bytes; the length written goes to `*out_len`. Checks the same rules as the
 * decoder (required fields, sizes), so what it writes always decodes. Returns SWB_OK,
 * SWB_E_TOO_LARGE when `cap` is too small, or the rule that `*h` breaks.
 */
int swb_header_encode(const swb_header_t *h, void *buf, size_t cap, size_t *out_len);

/* Initialise `*h` for command `cmd` at the current protocol version, no other field set. */
void swb_header_init(swb_header_t *h, swb_cmd_t cmd);

/* Set a string field from a NUL-terminated string (borrowed: must outlive the encode). */
void swb_header_set_str(swb_header_t *h, swb_field_t f, const char *s);

/* Name of a command ("HELLO"), or NULL when `cmd` is not one. */
const char *swb_cmd_name(uint32_t cmd);

/* Whether a borrowed string equals a C string. */
int swb_str_eq(swb_str_t s, const char *c);

#ifdef __cplusplus
}
#endif
#endif
