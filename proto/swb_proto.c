/*
 * swb_proto.c - the field table, the rules shared by decoder and encoder, and the small
 * helpers of swb_proto.h.
 *
 * The table, the decoder (swb_decode.c) and the encoder (swb_encode.c) are all made from the
 * field list in swb_fields.h, so a new field is one line there and one in swb_proto.h.
 */
#include "swb_fields.h"

#include <string.h>

/* The width in swb_header_t matters for unsigned fields only. */
#define WIDTH_UINT(member)  sizeof(((swb_header_t *)0)->member)
#define WIDTH_INT(member)   0
#define WIDTH_NAME(member)  0
#define WIDTH_TEXT(member)  0
#define WIDTH_PATH(member)  0
#define WIDTH_NAMES(member) 0
#define F_DEF(key, nm, type, member, lo, hi)                                                       \
    [key] = {nm, SWBI_FT_##type, WIDTH_##type(member), offsetof(swb_header_t, member), lo, hi},

const swbi_field_def_t swbi_fields[SWB_F_COUNT_] = {SWBI_FIELDS(F_DEF)};

#define BIT(f) (1u << (f))

/* Fields each command requires; SEND's `to` depends on to_kind and is checked apart. */
const uint32_t swbi_required[SWB_CMD_MAX + 1] = {
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
