/*
 * swb_fields.h - the header's field table and the rules both codec directions share.
 *
 * Internal to the codec. One table says, for every field key, its wire name, its type, its
 * allowed range and where it lives in swb_header_t; the decoder and the encoder both check
 * values through the functions here, so whatever the encoder writes the decoder accepts.
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

typedef struct {
    const char *name; /* as in PROTOCOL.md */
    uint8_t type;     /* swbi_ftype_t */
    uint8_t width;    /* SWBI_FT_UINT: 4 or 8 bytes in the struct */
    uint16_t off;     /* offset in swb_header_t */
    uint64_t min, max;
} swbi_field_def_t;

extern const swbi_field_def_t swbi_fields[SWB_F_COUNT_];

/* Whether an unsigned value is in a SWBI_FT_UINT field's range: SWB_OK or SWB_E_BAD_VALUE. */
static inline int swbi_field_uint_check(const swbi_field_def_t *d, uint64_t v)
{
    return v < d->min || v > d->max ? SWB_E_BAD_VALUE : SWB_OK;
}

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
 * at a time with constant sizes: the compiler turns one memset of this size into `rep stos`,
 * whose start-up cost was a third of a header decode. */
static inline void swbi_header_clear(swb_header_t *h)
{
    enum { SIZE = offsetof(swb_header_t, services) };
    char *p = (char *)h;
    size_t i = 0;
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
 * SWB_E_TOO_LARGE. */
int swbi_str_check(unsigned type, const char *ptr, uint32_t len);

/* Checks the fields that `h->cmd` requires: SWB_OK or SWB_E_MISSING_FIELD. */
int swbi_header_check_required(const swb_header_t *h);
/* The same for a command, the set of fields present and the to_kind (for SEND's `to`). */
int swbi_required_check(uint32_t cmd, uint32_t present, uint32_t to_kind);

#endif
