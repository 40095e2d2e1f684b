/*
 * swb_decode.c - swb_header_decode: one pass over the header map into a flat struct.
 *
 * Built for the broker's hot path and for hostile input: no allocation, strings borrowed from
 * the buffer, every count checked against the bytes that remain (mp_read.c). The version is
 * read before anything else, so a later protocol version may change everything after it and
 * still be told "version" rather than some other error. Keys after version and cmd may come in
 * any order; unknown keys are skipped so that newer peers can add fields.
 */
#include <stddef.h>
#include <string.h>

#include "mp_read.h"
#include "swb_fields.h"

/* A map key: a non-negative integer in any encoding; anything else is malformed. */
static inline int read_key(swbi_mp_t *c, uint64_t *key)
{
    swbi_mp_int_t v;
    int rc = swbi_mp_read_int(c, &v);
    if (rc == SWB_E_BAD_TYPE || (rc == SWB_OK && v.neg))
        return SWB_E_MALFORMED;
    *key = v.u;
    return rc;
}

/* One reader per field type, called with the field's own member and bounds (see read_field). */
__attribute__((always_inline)) static inline int read_u64(swbi_mp_t *c, uint64_t *out, uint64_t lo,
                                                          uint64_t hi)
{
    swbi_mp_int_t v;
    int rc = swbi_mp_read_int(c, &v);
    if (rc != SWB_OK)
        return rc;
    if (v.neg || v.u < lo || v.u > hi)
        return SWB_E_BAD_VALUE;
    *out = v.u;
    return SWB_OK;
}

__attribute__((always_inline)) static inline int read_u32(swbi_mp_t *c, uint32_t *out, uint64_t lo,
                                                          uint64_t hi)
{
    uint64_t v;
    int rc = read_u64(c, &v, lo, hi);
    if (rc == SWB_OK)
        *out = (uint32_t)v;
    return rc;
}

#define read_UINT(c, h, p, lo, hi)                                                                 \
    _Generic((p), uint64_t * : read_u64, uint32_t * : read_u32)(c, p, lo, hi)

__attribute__((always_inline)) static inline int read_INT(swbi_mp_t *c, swb_header_t *h,
                                                          int32_t *out, uint64_t lo, uint64_t hi)
{
    (void)h, (void)lo, (void)hi;
    swbi_mp_int_t v;
    int rc = swbi_mp_read_int(c, &v);
    if (rc != SWB_OK)
        return rc;
    if (v.neg ? (int64_t)v.u < INT32_MIN : v.u > INT32_MAX)
        return SWB_E_BAD_VALUE;
    *out = (int32_t)(int64_t)v.u;
    return SWB_OK;
}

__attribute__((always_inline)) static inline int read_str_field(swbi_mp_t *c, unsigned type,
                                                                swb_str_t *out)
{
    const char *p;
    uint32_t n;
    int rc = swbi_mp_read_str(c, &p, &n);
    if (rc != SWB_OK)
        return rc;
    if ((rc = swbi_str_check(type, p, n)) != SWB_OK)
        return rc;
    out->ptr = p;
    out->len = n;
    return SWB_OK;
}

#define read_NAME(c, h, p, lo, hi) read_str_field(c, SWBI_FT_NAME, p)
#define read_TEXT(c, h, p, lo, hi) read_str_field(c, SWBI_FT_TEXT, p)
#define read_PATH(c, h, p, lo, hi) read_str_field(c, SWBI_FT_PATH, p)

static int read_services(swbi_mp_t *c, swb_header_t *h)
{
    uint32_t n;
    int rc = swbi_mp_read_array(c, &n);
    if (rc != SWB_OK)
        return rc;
    if (n > SWB_MAX_SERVICES)
        return SWB_E_TOO_LARGE;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = read_str_field(c, SWBI_FT_NAME, &h->services[i])) != SWB_OK)
            return rc;
    h->n_services = n;
    return SWB_OK;
}

#define read_NAMES(c, h, p, lo, hi) read_services(c, h)

static inline int read_field(swbi_mp_t *c, swb_header_t *h, unsigned key)
{
    switch (key) {
#define READ_CASE(k, nm, type, member, lo, hi)                                                     \
    case k:                                                                                        \
        return read_##type(c, h, &h->member, lo, hi);
        SWBI_FIELDS(READ_CASE)
#undef READ_CASE
    }
    return SWB_E_MALFORMED; /* not reached: key < SWB_F_COUNT_ */
}

/* Version and cmd: the first two entries, in that order. */
static int read_preamble(swbi_mp_t *c, uint32_t n, swb_header_t *h)
{
    uint64_t key;
    swbi_mp_int_t v;
    int rc;
    if (n == 0)
        return SWB_E_MISSING_FIELD;
    if ((rc = read_key(c, &key)) != SWB_OK)
        return rc;
    if (key != SWB_F_VERSION)
        return SWB_E_MALFORMED;
    if ((rc = swbi_mp_read_int(c, &v)) != SWB_OK)
        return rc;
    if (v.neg || v.u != SWB_PROTO_VERSION)
        return SWB_E_VERSION;
    h->version = SWB_PROTO_VERSION;
    if (n > SWB_MAX_FIELDS)
        return SWB_E_TOO_LARGE;
    if (n < 2)
        return SWB_E_MISSING_FIELD;
    if ((rc = read_key(c, &key)) != SWB_OK)
        return rc;
    if (key != SWB_F_CMD)
        return SWB_E_MALFORMED;
    if ((rc = swbi_mp_read_int(c, &v)) != SWB_OK)
        return rc;
    if (v.neg || v.u < 1 || v.u > SWB_CMD_MAX)
        return SWB_E_UNKNOWN_CMD;
    h->cmd = (uint32_t)v.u;
    h->present = (1u << SWB_F_VERSION) | (1u << SWB_F_CMD);
    return SWB_OK;
}

/* The map at the start of [buf, buf+len): its fields into *h, its length into *used. */
static int decode_map(const void *buf, size_t len, swb_header_t *h, size_t *used)
{
    swbi_mp_t c = {(const uint8_t *)buf, (const uint8_t *)buf + len};
    const uint8_t *b = c.p;
    uint32_t n;
    int rc;
    if (len >= 5 && b[0] >= 0x82 && b[0] <= 0x8f && 2u * (b[0] & 0x0fu) <= len - 1 &&
        b[1] == SWB_F_VERSION && b[2] == SWB_PROTO_VERSION && b[3] == SWB_F_CMD && b[4] >= 1 &&
        b[4] <= SWB_CMD_MAX) {
        /* What every header of ours starts with, a fixmap and {0: 1, 1: cmd} in fixints,
         * taken in one test; anything else goes the long way, which gives the precise error. */
        n = b[0] & 0x0fu;
        h->version = SWB_PROTO_VERSION;
        h->cmd = b[4];
        h->present = (1u << SWB_F_VERSION) | (1u << SWB_F_CMD);
        c.p += 5;
    } else {
        if ((rc = swbi_mp_read_map(&c, &n)) != SWB_OK)
            return rc == SWB_E_BAD_TYPE ? SWB_E_MALFORMED : rc;
        if ((rc = read_preamble(&c, n, h)) != SWB_OK)
            return rc;
    }

    /* Unknown keys are remembered too, so that a duplicate of one is caught like any other. */
    uint64_t unknown[SWB_MAX_FIELDS];
    unsigned n_unknown = 0;
    for (uint32_t i = 2; i < n; i++) {
        uint64_t key;
        if ((rc = read_key(&c, &key)) != SWB_OK)
            return rc;
        if (key < SWB_F_COUNT_) {
            if (SWB_HAS(h, key))
                return SWB_E_MALFORMED;
            if ((rc = read_field(&c, h, (unsigned)key)) != SWB_OK)
                return rc;
            SWB_SET(h, key);
            continue;
        }
        for (unsigned j = 0; j < n_unknown; j++)
            if (unknown[j] == key)
                return SWB_E_MALFORMED;
        unknown[n_unknown++] = key;
        if ((rc = swbi_mp_skip(&c)) != SWB_OK)
            return rc;
    }
    *used = (size_t)(c.p - (const uint8_t *)buf);
    return SWB_OK;
}

int swb_header_decode(const void *buf, size_t len, swb_header_t *h)
{
    swbi_header_clear(h);
    if (len == 0 || buf == NULL)
        return SWB_E_TRUNCATED;
    if (len > SWB_MAX_HEADER)
        return SWB_E_TOO_LARGE;
    size_t used = 0;
    int rc = decode_map(buf, len, h, &used);
    if (rc != SWB_OK)
        return rc;
    if (used != len)
        return SWB_E_TRAILING;
    return swbi_header_check_required(h);
}

int swb_header_decode_prefix(const void *buf, size_t len, swb_header_t *h, size_t *hlen)
{
    swbi_header_clear(h);
    *hlen = 0;
    if (len == 0 || buf == NULL)
        return SWB_E_TRUNCATED;
    /* The map must end within SWB_MAX_HEADER bytes: one that runs past them is too large,
     * whatever the frame holds after. */
    size_t used = 0;
    int rc = decode_map(buf, len > SWB_MAX_HEADER ? SWB_MAX_HEADER : len, h, &used);
    if (rc == SWB_E_TRUNCATED && len > SWB_MAX_HEADER)
        return SWB_E_TOO_LARGE;
    if (rc != SWB_OK)
        return rc;
    if ((rc = swbi_header_check_required(h)) != SWB_OK)
        return rc;
    *hlen = used;
    return SWB_OK;
}
