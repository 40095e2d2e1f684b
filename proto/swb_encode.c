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

static int check_str(unsigned type, const swb_str_t *s)
{
    if (s->ptr == NULL && s->len > 0)
        return SWB_E_INVALID;
    return swbi_str_check(type, s->ptr, s->len);
}

static int check_field(const swb_header_t *h, unsigned key)
{
    const swbi_field_def_t *d = &swbi_fields[key];
    switch (d->type) {
    case SWBI_FT_UINT:
        return swbi_field_uint_check(d, swbi_field_uint_get(h, d));
    case SWBI_FT_INT:
        return SWB_OK; /* every int32_t fits */
    case SWBI_FT_NAMES:
        if (h->n_services > SWB_MAX_SERVICES)
            return SWB_E_TOO_LARGE;
        for (uint32_t i = 0; i < h->n_services; i++) {
            int rc = check_str(SWBI_FT_NAME, &h->services[i]);
            if (rc != SWB_OK)
                return rc;
        }
        return SWB_OK;
    default:
        return check_str(d->type, swbi_field_str((swb_header_t *)h, d));
    }
}

static void write_field(swbi_mpw_t *w, const swb_header_t *h, unsigned key)
{
    const swbi_field_def_t *d = &swbi_fields[key];
    swbi_mpw_uint(w, key);
    switch (d->type) {
    case SWBI_FT_UINT:
        swbi_mpw_uint(w, swbi_field_uint_get(h, d));
        break;
    case SWBI_FT_INT: {
        int32_t v;
        memcpy(&v, (const char *)h + d->off, sizeof v);
        swbi_mpw_int(w, v);
        break;
    }
    case SWBI_FT_NAMES:
        swbi_mpw_array(w, h->n_services);
        for (uint32_t i = 0; i < h->n_services; i++)
            swbi_mpw_str(w, h->services[i].ptr, h->services[i].len);
        break;
    default: {
        const swb_str_t *s = swbi_field_str((swb_header_t *)h, d);
        swbi_mpw_str(w, s->ptr, s->len);
        break;
    }
    }
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
    uint32_t fields =
        h->present & ((1u << SWB_F_COUNT_) - 1) & ~((1u << SWB_F_VERSION) | (1u << SWB_F_CMD));
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
        unsigned k = (unsigned)__builtin_ctz(rest);
        int rc = check_field(h, k);
        if (rc != SWB_OK)
            return rc;
        write_field(&w, h, k);
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
