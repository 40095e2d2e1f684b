/*
 * swb_fields.h - the header's field table and the rules both codec directions share.
 *
 * Internal to the codec. One list, SWBI_FIELDS, says for every field key its wire name, its
 * type, where it lives in swb_header_t and its allowed range. The table swbi_fields is made
 * from it, and so are the decoder's and the encoder's switches on the key, which then read and
 * write each field with its own constants (a table lookup per field cost more than the field).
 * Both directions check values through the functions here, so whatever the encoder writes the
 * decoder accepts.
 */
#ifndef SWB_FIELDS_H
#define SWB_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "swb_proto.h"

typedef enum {
    SWBI_FT_UINT,  /* unsigned integer stored in a uint32_t or uint64_t, range [min, max] */
    SWBI_FT_INT,   /* signed integer stored in an int32_t */
    SWBI_FT_NAME,  /* str, 1..SWB_MAX_NAME bytes, no NUL */
    SWBI_FT_TEXT,  /* str, 0..SWB_MAX_TEXT bytes */
    SWBI_FT_PATH,  /* str, 1..SWB_MAX_TEXT bytes, no NUL (becomes a C string) */
    SWBI_FT_NAMES, /* array of 0..SWB_MAX_SERVICES names */
} swbi_ftype_t;

#define SWBI_U32 UINT32_MAX

/* X(key, wire name, type, member, min, max): min and max bound SWBI_FT_UINT values only. */
#define SWBI_FIELDS(X)                                                                             \
    X(SWB_F_VERSION, "version", UINT, version, 0, SWBI_U32)                                        \
    X(SWB_F_CMD, "cmd", UINT, cmd, 1, SWB_CMD_MAX)                                                 \
    X(SWB_F_ID, "id", UINT, id, 0, UINT64_MAX)                                                     \
    X(SWB_F_NAME, "name", NAME, name, 0, 0)                                                        \
    X(SWB_F_TO, "to", NAME, to, 0, 0)                                                              \
    X(SWB_F_TO_KIND, "to_kind", UINT, to_kind, SWB_TO_PEER, SWB_TO_ALL)                            \
    X(SWB_F_FROM, "from", NAME, from, 0, 0)                                                        \
    X(SWB_F_KIND, "kind", UINT, kind, SWB_KIND_CLIENT, SWB_KIND_REMOTE)                            \
    X(SWB_F_PID, "pid", UINT, pid, 0, SWBI_U32)                                                    \
    X(SWB_F_SERVICES, "services", NAMES, services, 0, 0)                                           \
    X(SWB_F_CAPACITY, "capacity", UINT, capacity, 0, SWBI_U32)                                     \
    X(SWB_F_SERVICE, "service", NAME, service, 0, 0)                                               \
    X(SWB_F_DEADLINE, "deadline", UINT, deadline_ms, 0, SWBI_U32)                                  \
    X(SWB_F_PRIORITY, "priority", INT, priority, 0, 0)                                             \
    X(SWB_F_CODE, "code", INT, code, 0, 0)                                                         \
    X(SWB_F_TEXT, "text", TEXT, text, 0, 0)                                                        \
    X(SWB_F_ATTEMPT, "attempt", UINT, attempt, 0, SWBI_U32)                                        \
    X(SWB_F_HB_IVL, "hb_ivl", UINT, hb_ivl_ms, 0, SWBI_U32)                                        \
    X(SWB_F_HB_LIVE, "hb_live", UINT, hb_liveness, 0, SWBI_U32)                                    \
    X(SWB_F_CREDIT, "credit", UINT, credit, 0, SWBI_U32)                                           \
    X(SWB_F_LOAD, "load", UINT, load, 0, SWBI_U32)                                                 \
    X(SWB_F_PLUGIN, "plugin", PATH, plugin, 0, 0)                                                  \
    X(SWB_F_COUNT, "count", UINT, count, 0, SWBI_U32)                                              \
    X(SWB_F_MODE, "mode", UINT, mode, SWB_SPAWN_PROCESS, SWB_SPAWN_THREAD)                         \
    X(SWB_F_EVENT, "event", UINT, event, SWB_EV_STARTED, SWB_EV_RELOADED)                          \
    X(SWB_F_SIGNAL, "signal", UINT, signal, 0, SWBI_U32)                                           \
    X(SWB_F_MAX_MSG, "max_msg", UINT, max_msg, 0, SWBI_U32)                                        \
    X(SWB_F_PARENT, "parent", NAME, parent, 0, 0)                                                  \
    X(SWB_F_RESTART, "restart", UINT, restart, SWB_RESTART_ON_FAILURE, SWB_RESTART_NEVER)          \
    X(SWB_F_MEM_LIMIT, "mem_limit", UINT, mem_limit_mb, 0, SWBI_U32)                               \
    X(SWB_F_CPU_LIMIT, "cpu_limit", UINT, cpu_limit_s, 0, SWBI_U32)                                \
    X(SWB_F_BOOT, "boot", UINT, boot, 0, UINT64_MAX)

typedef struct {
    const char *name; /* as in PROTOCOL.md */
    uint8_t type;     /* swbi_ftype_t */
    uint8_t width;    /* SWBI_FT_UINT: 4 or 8 bytes in the struct */
    uint16_t off;     /* offset in swb_header_t */
    uint64_t min, max;
} swbi_field_def_t;

extern const swbi_field_def_t swbi_fields[SWB_F_COUNT_];

/* Reads and writes a SWBI_FT_UINT field of `h`. */
static inline uint64_t swbi_field_uint_get(const swb_header_t *h, const swbi_field_def_t *d)
{
    const char *p = (const char *)h + d->off;
    if (d->width == 8) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void swbi_field_uint_set(swb_header_t *h, const swbi_field_def_t *d, uint64_t v)
{
    char *p = (char *)h + d->off;
    if (d->width == 8) {
        memcpy(p, &v, sizeof v);
    } else {
        uint32_t v32 = (uint32_t)v;
        memcpy(p, &v32, sizeof v32);
    }
}

/* Clear every field but the service names (which n_services = 0 makes unused). Sixteen bytes
 * at a time with constant sizes, unrolled: the compiler turns one memset of this size into
 * `rep stos`, whose start-up cost was a third of a header decode, and at -O2 the loop kept its
 * counter (twice the stores' cost; every message clears two headers). */
static inline void swbi_header_clear(swb_header_t *h)
{
    enum { SIZE = offsetof(swb_header_t, services) };
    char *p = (char *)h;
    size_t i = 0;
#pragma GCC unroll 16
    for (; i + 16 <= SIZE; i += 16)
        memset(p + i, 0, 16);
    memset(p + i, 0, SIZE - i);
}

/* A string field's slot in `h`. */
static inline swb_str_t *swbi_field_str(swb_header_t *h, const swbi_field_def_t *d)
{
    return (swb_str_t *)(void *)((char *)h + d->off);
}

/* Checks a string for a field of type `type`: SWB_OK, SWB_E_BAD_VALUE (empty name, NUL) or
 * SWB_E_TOO_LARGE. Inline, as the rest of the codec's per-field work: every message has a few
 * strings, and the calls cost more than the checks. */
static inline int swbi_str_check(unsigned type, const char *ptr, uint32_t len)
{
    uint32_t max = type == SWBI_FT_TEXT || type == SWBI_FT_PATH ? SWB_MAX_TEXT : SWB_MAX_NAME;
    if (len > max)
        return SWB_E_TOO_LARGE;
    if (type == SWBI_FT_TEXT)
        return SWB_OK;
    if (len == 0)
        return SWB_E_BAD_VALUE;
    /* Names are a few bytes: a loop here is a fraction of a call to memchr. */
    for (uint32_t i = 0; i < len; i++)
        if (ptr[i] == '\0')
            return SWB_E_BAD_VALUE;
    return SWB_OK;
}

/* Fields each command requires (bits of swb_header_t.present); SEND's `to` depends on to_kind
 * and is checked apart. */
extern const uint32_t swbi_required[SWB_CMD_MAX + 1];

/* Checks the fields that a command requires, given the set of fields present and the to_kind
 * (for SEND's `to`): SWB_OK, SWB_E_MISSING_FIELD or SWB_E_UNKNOWN_CMD. */
static inline int swbi_required_check(uint32_t cmd, uint32_t present, uint32_t to_kind)
{
    if (cmd < 1 || cmd > SWB_CMD_MAX)
        return SWB_E_UNKNOWN_CMD;
    uint32_t need = swbi_required[cmd];
    if (cmd == SWB_CMD_SEND && (present & (1u << SWB_F_TO_KIND)) &&
        (to_kind == SWB_TO_PEER || to_kind == SWB_TO_GROUP))
        need |= 1u << SWB_F_TO;
    return (present & need) == need ? SWB_OK : SWB_E_MISSING_FIELD;
}

/* The same for a decoded header. */
static inline int swbi_header_check_required(const swb_header_t *h)
{
    return swbi_required_check(h->cmd, h->present, h->to_kind);
}

#endif
