/*
 * swb_proto.c - the field table, the rules shared by decoder and encoder, and the small
 * helpers of swb_proto.h.
 *
 * The decoder (swb_decode.c) and the encoder (swb_encode.c) are table-driven from here, so a
 * new field is one line in the table and one in swb_proto.h.
 */
#include "swb_fields.h"

#include <string.h>

#define U32 UINT32_MAX
#define F_UINT(key, nm, member, lo, hi)                                                            \
    [key] = {                                                                                      \
        nm, SWBI_FT_UINT, sizeof(((swb_header_t *)0)->member), offsetof(swb_header_t, member), lo, \
        hi}
#define F_OTHER(key, nm, type, member) [key] = {nm, type, 0, offsetof(swb_header_t, member), 0, 0}

const swbi_field_def_t swbi_fields[SWB_F_COUNT_] = {
    F_UINT(SWB_F_VERSION, "version", version, 0, U32),
    F_UINT(SWB_F_CMD, "cmd", cmd, 1, SWB_CMD_MAX),
    F_UINT(SWB_F_ID, "id", id, 0, UINT64_MAX),
    F_OTHER(SWB_F_NAME, "name", SWBI_FT_NAME, name),
    F_OTHER(SWB_F_TO, "to", SWBI_FT_NAME, to),
    F_UINT(SWB_F_TO_KIND, "to_kind", to_kind, SWB_TO_PEER, SWB_TO_ALL),
    F_OTHER(SWB_F_FROM, "from", SWBI_FT_NAME, from),
    F_UINT(SWB_F_KIND, "kind", kind, SWB_KIND_CLIENT, SWB_KIND_REMOTE),
    F_UINT(SWB_F_PID, "pid", pid, 0, U32),
    F_OTHER(SWB_F_SERVICES, "services", SWBI_FT_NAMES, services),
    F_UINT(SWB_F_CAPACITY, "capacity", capacity, 0, U32),
    F_OTHER(SWB_F_SERVICE, "service", SWBI_FT_NAME, service),
    F_UINT(SWB_F_DEADLINE, "deadline", deadline_ms, 0, U32),
    F_OTHER(SWB_F_PRIORITY, "priority", SWBI_FT_INT, priority),
    F_OTHER(SWB_F_CODE, "code", SWBI_FT_INT, code),
    F_OTHER(SWB_F_TEXT, "text", SWBI_FT_TEXT, text),
    F_UINT(SWB_F_ATTEMPT, "attempt", attempt, 0, U32),
    F_UINT(SWB_F_HB_IVL, "hb_ivl", hb_ivl_ms, 0, U32),
    F_UINT(SWB_F_HB_LIVE, "hb_live", hb_liveness, 0, U32),
    F_UINT(SWB_F_CREDIT, "credit", credit, 0, U32),
    F_UINT(SWB_F_LOAD, "load", load, 0, U32),
    F_OTHER(SWB_F_PLUGIN, "plugin", SWBI_FT_PATH, plugin),
    F_UINT(SWB_F_COUNT, "count", count, 0, U32),
    F_UINT(SWB_F_MODE, "mode", mode, SWB_SPAWN_PROCESS, SWB_SPAWN_THREAD),
    F_UINT(SWB_F_EVENT, "event", event, SWB_EV_STARTED, SWB_EV_RELOADED),
    F_UINT(SWB_F_SIGNAL, "signal", signal, 0, U32),
    F_UINT(SWB_F_MAX_MSG, "max_msg", max_msg, 0, U32),
    F_OTHER(SWB_F_PARENT, "parent", SWBI_FT_NAME, parent),
    F_UINT(SWB_F_RESTART, "restart", restart, SWB_RESTART_ON_FAILURE, SWB_RESTART_NEVER),
    F_UINT(SWB_F_MEM_LIMIT, "mem_limit", mem_limit_mb, 0, U32),
    F_UINT(SWB_F_CPU_LIMIT, "cpu_limit", cpu_limit_s, 0, U32),
};

#define BIT(f) (1u << (f))

/* Fields each command requires; SEND's `to` depends on to_kind and is checked apart. */
static const uint32_t required[SWB_CMD_MAX + 1] = {
    [SWB_CMD_HELLO] = BIT(SWB_F_KIND),
    [SWB_CMD_WELCOME] =
        BIT(SWB_F_NAME) | BIT(SWB_F_HB_IVL) | BIT(SWB_F_HB_LIVE) | BIT(SWB_F_MAX_MSG),
    [SWB_CMD_SEND] = BIT(SWB_F_TO_KIND),
    [SWB_CMD_DELIVER] = BIT(SWB_F_FROM),
    [SWB_CMD_TASK] = BIT(SWB_F_ID) | BIT(SWB_F_SERVICE),
    [SWB_CMD_RESULT] = BIT(SWB_F_ID) | BIT(SWB_F_CODE),
    [SWB_CMD_CANCEL] = BIT(SWB_F_ID),
    [SWB_CMD_CREDIT] = BIT(SWB_F_CREDIT),
    [SWB_CMD_STATS] = BIT(SWB_F_ID),
    [SWB_CMD_SPAWN] = BIT(SWB_F_ID) | BIT(SWB_F_PLUGIN) | BIT(SWB_F_COUNT),
    [SWB_CMD_ERROR] = BIT(SWB_F_CODE) | BIT(SWB_F_TEXT),
    [SWB_CMD_EVENT] = BIT(SWB_F_EVENT) | BIT(SWB_F_NAME),
    [SWB_CMD_KILL] = BIT(SWB_F_NAME),
    [SWB_CMD_RELOAD] = BIT(SWB_F_ID),
    [SWB_CMD_SCALE] = BIT(SWB_F_ID) | BIT(SWB_F_NAME) | BIT(SWB_F_COUNT),
};

static const char *const cmd_names[SWB_CMD_MAX + 1] = {
    [SWB_CMD_HELLO] = "HELLO",   [SWB_CMD_WELCOME] = "WELCOME", [SWB_CMD_HEARTBEAT] = "HEARTBEAT",
    [SWB_CMD_SEND] = "SEND",     [SWB_CMD_DELIVER] = "DELIVER", [SWB_CMD_TASK] = "TASK",
    [SWB_CMD_RESULT] = "RESULT", [SWB_CMD_CANCEL] = "CANCEL",   [SWB_CMD_CREDIT] = "CREDIT",
    [SWB_CMD_STATS] = "STATS",   [SWB_CMD_SPAWN] = "SPAWN",     [SWB_CMD_DRAIN] = "DRAIN",
    [SWB_CMD_BYE] = "BYE",       [SWB_CMD_ERROR] = "ERROR",     [SWB_CMD_EVENT] = "EVENT",
    [SWB_CMD_KILL] = "KILL",     [SWB_CMD_RELOAD] = "RELOAD",   [SWB_CMD_SCALE] = "SCALE",
};

int swbi_str_check(unsigned type, const char *ptr, uint32_t len)
{
    uint32_t max = type == SWBI_FT_TEXT || type == SWBI_FT_PATH ? SWB_MAX_TEXT : SWB_MAX_NAME;
    if (len > max)
        return SWB_E_TOO_LARGE;
    if (type == SWBI_FT_TEXT)
        return SWB_OK;
    if (len == 0)
        return SWB_E_BAD_VALUE;
    /* Names are a few bytes: a loop here is a fraction of a call to memchr, which every
     * header paid twice. */
    for (uint32_t i = 0; i < len; i++)
        if (ptr[i] == '\0')
            return SWB_E_BAD_VALUE;
    return SWB_OK;
}

int swbi_required_check(uint32_t cmd, uint32_t present, uint32_t to_kind)
{
    if (cmd < 1 || cmd > SWB_CMD_MAX)
        return SWB_E_UNKNOWN_CMD;
    uint32_t need = required[cmd];
    if (cmd == SWB_CMD_SEND && (present & BIT(SWB_F_TO_KIND)) &&
        (to_kind == SWB_TO_PEER || to_kind == SWB_TO_GROUP))
        need |= BIT(SWB_F_TO);
    return (present & need) == need ? SWB_OK : SWB_E_MISSING_FIELD;
}

int swbi_header_check_required(const swb_header_t *h)
{
    return swbi_required_check(h->cmd, h->present, h->to_kind);
}

void swb_header_init(swb_header_t *h, swb_cmd_t cmd)
{
    swbi_header_clear(h);
    h->version = SWB_PROTO_VERSION;
    h->cmd = (uint32_t)cmd;
    h->present = BIT(SWB_F_VERSION) | BIT(SWB_F_CMD);
}

void swb_header_set_str(swb_header_t *h, swb_field_t f, const char *s)
{
    if ((unsigned)f >= SWB_F_COUNT_)
        return;
    const swbi_field_def_t *d = &swbi_fields[f];
    if (d->type != SWBI_FT_NAME && d->type != SWBI_FT_TEXT && d->type != SWBI_FT_PATH)
        return;
    swb_str_t *slot = swbi_field_str(h, d);
    if (s == NULL) {
        *slot = (swb_str_t){0};
        h->present &= ~BIT(f);
        return;
    }
    size_t n = strlen(s);
    /* Longer than any limit either way; clamping keeps it too long for the encoder to take. */
    slot->ptr = s;
    slot->len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    SWB_SET(h, f);
}

const char *swb_cmd_name(uint32_t cmd)
{
    return cmd >= 1 && cmd <= SWB_CMD_MAX ? cmd_names[cmd] : NULL;
}

int swb_str_eq(swb_str_t s, const char *c)
{
    size_t n = strlen(c);
    if (n != s.len)
        return 0;
    return n == 0 || memcmp(s.ptr, c, n) == 0;
}
