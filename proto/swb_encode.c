/*
 * swb_encode.c - swb_header_encode: checks a header against the decoder's rules while writing
 * it as a msgpack map with version and cmd first and the other fields in key order.
 *
 * Checking every field means a caller's mistake comes back as the same precise code the peer
 * would have sent, and an encode that would be rejected on the other side fails (out_len 0),
 * so it is never sent.
 */
#include <string.h>

#include "mp_write.h"
#include "swb_fields.h"

static inline int check_str(unsigned type, const swb_str_t *s)
{
    if (s->ptr == NULL && s->len > 0)
        return SWB_E_INVALID;
    return swbi_str_check(type, s->ptr, s->len);
}

/* One writer per field type, called with the field's own member and bounds (see put_field);
 * each checks the value as the decoder will, then writes it. */
__attribute__((always_inline)) static inline int put_UINT(swbi_mpw_t *w, const swb_header_t *h,
                                                          uint64_t v, uint64_t lo, uint64_t hi)
{
    (void)h;
    if (v < lo || v > hi)
        return SWB_E_BAD_VALUE;
    swbi_mpw_uint(w, v);
    return SWB_OK;
}

__attribute__((always_inline)) static inline int put_INT(swbi_mpw_t *w, const swb_header_t *h,
                                                         int32_t v, uint64_t lo, uint64_t hi)
{
    (void)h, (void)lo, (void)hi;
    swbi_mpw_int(w, v); /* every int32_t fits */
    return SWB_OK;
}

__attribute__((always_inline)) static inline int put_str(swbi_mpw_t *w, unsigned type,
                                                         const swb_str_t *s)
{
    int rc = check_str(type, s);
    if (rc == SWB_OK)
        swbi_mpw_str(w, s->ptr, s->len);
    return rc;
}

#define put_NAME(w, h, m, lo, hi) put_str(w, SWBI_FT_NAME, &(m))
#define put_TEXT(w, h, m, lo, hi) put_str(w, SWBI_FT_TEXT, &(m))
#define put_PATH(w, h, m, lo, hi) put_str(w, SWBI_FT_PATH, &(m))

static int put_services(swbi_mpw_t *w, const swb_header_t *h)
{
    if (h->n_services > SWB_MAX_SERVICES)
        return SWB_E_TOO_LARGE;
    swbi_mpw_array(w, h->n_services);
    for (uint32_t i = 0; i < h->n_services; i++) {
        int rc = put_str(w, SWBI_FT_NAME, &h->services[i]);
        if (rc != SWB_OK)
            return rc;
    }
    return SWB_OK;
}

#define put_NAMES(w, h, m, lo, hi) put_services(w, h)

/* Check one present field and write it, key then value. */
static inline int put_field(swbi_mpw_t *w, const swb_header_t *h, unsigned key)
{
    swbi_mpw_uint(w, key);
    switch (key) {
#define PUT_CASE(k, nm, type, member, lo, hi)                                                      \
    case k:                                                                                        \
        return put_##type(w, h, h->member, lo, hi);
        SWBI_FIELDS(PUT_CASE)
#undef PUT_CASE
    }
    return SWB_E_INVALID; /* not reached: only known keys are present */
}

int swb_header_encode(const swb_header_t *h, void *buf, size_t cap, size_t *out_len)
{
    if (h == NULL || out_len == NULL || (buf == NULL && cap > 0))
        return SWB_E_INVALID;
    *out_len = 0;
    if (h->version != SWB_PROTO_VERSION)
        return SWB_E_VERSION;
    if (h->cmd < 1 || h->cmd > SWB_CMD_MAX)
        return SWB_E_UNKNOWN_CMD;

    /* Version and cmd are written whatever their present bits say; bits past the last known
     * field mean nothing and are ignored. One pass over the fields present, each checked
     * just before it is written: a failed check fails the encode, whatever was written. */
    uint32_t known = (uint32_t)((1ull << SWB_F_COUNT_) - 1); /* 1u << 32 would be undefined */
    uint32_t fields = h->present & known & ~((1u << SWB_F_VERSION) | (1u << SWB_F_CMD));
    uint32_t n = 2;
    for (uint32_t rest = fields; rest; rest &= rest - 1) /* a popcount, without a libgcc call */
        n++;
    uint8_t scratch[1];
    uint8_t *start = cap ? buf : scratch; /* cap 0: checked all the same, then too large */
    size_t room = cap < SWB_MAX_HEADER ? cap : SWB_MAX_HEADER;
    swbi_mpw_t w = {start, start + room, 0};
    swbi_mpw_map(&w, n);
    swbi_mpw_uint(&w, SWB_F_VERSION);
    swbi_mpw_uint(&w, h->version);
    swbi_mpw_uint(&w, SWB_F_CMD);
    swbi_mpw_uint(&w, h->cmd);
    for (uint32_t rest = fields; rest; rest &= rest - 1) {
        int rc = put_field(&w, h, (unsigned)__builtin_ctz(rest));
        if (rc != SWB_OK)
            return rc;
    }
    /* The decoder sees version and cmd as present, so the rules are checked the same way. */
    int rc =
        swbi_required_check(h->cmd, fields | (1u << SWB_F_VERSION) | (1u << SWB_F_CMD), h->to_kind);
    if (rc != SWB_OK)
        return rc;
    if (w.overflow)
        return SWB_E_TOO_LARGE;
    *out_len = (size_t)(w.p - start);
    return SWB_OK;
}
