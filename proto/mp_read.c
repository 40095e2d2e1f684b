/*
 * mp_read.c - the bounded msgpack cursor (see mp_read.h).
 *
 * Formats from the msgpack spec. Each reader first checks that the fixed part is there, then
 * that the claimed length fits in what remains, and only then moves the cursor; on an error
 * the cursor is left where it was. Skipping recurses at most SWBI_MP_MAX_DEPTH levels, and
 * every skipped element consumes at least one byte, so its work is bounded by the input size.
 */
#include "mp_read.h"

#include "swb_error.h"

static uint64_t be_read(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads a length or count of `n` bytes that follows the type byte. */
static int read_len(const swbi_mp_t *c, unsigned n, uint64_t *len)
{
    if (swbi_mp_left(c) < 1 + (size_t)n)
        return SWB_E_TRUNCATED;
    *len = be_read(c->p + 1, n);
    return SWB_OK;
}

/* Size of a container header and its element count; BAD_TYPE when not one of `kind`. */
static int container_header(const swbi_mp_t *c, int want_map, unsigned *hdr, uint64_t *count)
{
    if (c->p >= c->end)
        return SWB_E_TRUNCATED;
    uint8_t b = c->p[0];
    if (want_map && b >= 0x80 && b <= 0x8f) {
        *hdr = 1;
        *count = b & 0x0fu;
        return SWB_OK;
    }
    if (!want_map && b >= 0x90 && b <= 0x9f) {
        *hdr = 1;
        *count = b & 0x0fu;
        return SWB_OK;
    }
    unsigned n;
    if (b == (want_map ? 0xde : 0xdc))
        n = 2;
    else if (b == (want_map ? 0xdf : 0xdd))
        n = 4;
    else
        return SWB_E_BAD_TYPE;
    *hdr = 1 + n;
    return read_len(c, n, count);
}

static int read_container(swbi_mp_t *c, int want_map, uint32_t *n)
{
    unsigned hdr;
    uint64_t count;
    int rc = container_header(c, want_map, &hdr, &count);
    if (rc != SWB_OK)
        return rc;
    /* Every element takes at least one byte, so a count the input cannot hold is a lie. */
    if (count > (swbi_mp_left(c) - hdr) / (want_map ? 2u : 1u))
        return SWB_E_TRUNCATED;
    c->p += hdr;
    *n = (uint32_t)count;
    return SWB_OK;
}

int swbi_mp_read_map(swbi_mp_t *c, uint32_t *n)
{
    return read_container(c, 1, n);
}

int swbi_mp_read_array(swbi_mp_t *c, uint32_t *n)
{
    return read_container(c, 0, n);
}

int swbi_mp_read_str_any(swbi_mp_t *c, const char **ptr, uint32_t *len)
{
    if (c->p >= c->end)
        return SWB_E_TRUNCATED;
    uint8_t b = c->p[0];
    unsigned hdr;
    uint64_t n;
    if (b >= 0xa0 && b <= 0xbf) {
        hdr = 1;
        n = b & 0x1fu;
    } else {
        unsigned w = b == 0xd9 ? 1 : b == 0xda ? 2 : b == 0xdb ? 4 : 0;
        if (w == 0)
            return SWB_E_BAD_TYPE;
        int rc = read_len(c, w, &n);
        if (rc != SWB_OK)
            return rc;
        hdr = 1 + w;
    }
    if (n > swbi_mp_left(c) - hdr)
        return SWB_E_TRUNCATED;
    *ptr = (const char *)(c->p + hdr);
    *len = (uint32_t)n;
    c->p += hdr + n;
    return SWB_OK;
}

int swbi_mp_read_int_any(swbi_mp_t *c, swbi_mp_int_t *v)
{
    if (c->p >= c->end)
        return SWB_E_TRUNCATED;
    uint8_t b = c->p[0];
    if (b <= 0x7f) {
        v->u = b;
        v->neg = 0;
        c->p += 1;
        return SWB_OK;
    }
    if (b >= 0xe0) {
        v->u = (uint64_t)(int64_t)(int8_t)b;
        v->neg = 1;
        c->p += 1;
        return SWB_OK;
    }
    /* uint 8/16/32/64 are 0xcc..0xcf, int 8/16/32/64 are 0xd0..0xd3 */
    int is_signed = b >= 0xd0 && b <= 0xd3;
    if (!is_signed && !(b >= 0xcc && b <= 0xcf))
        return SWB_E_BAD_TYPE;
    unsigned w = 1u << (b - (is_signed ? 0xd0 : 0xcc));
    if (swbi_mp_left(c) < 1 + (size_t)w)
        return SWB_E_TRUNCATED;
    uint64_t raw = be_read(c->p + 1, w);
    if (is_signed && w < 8 && (raw >> (8 * w - 1)) & 1u)
        raw |= ~(uint64_t)0 << (8 * w); /* sign-extend */
    v->u = raw;
    v->neg = is_signed && (raw >> 63);
    c->p += 1 + w;
    return SWB_OK;
}

/*
 * Sizes of the scalar types 0xc0..0xdf: a payload of N bytes after the type byte (N >= 0),
 * or a big-endian length of -N bytes after the type byte and then that many bytes. Containers
 * (0xdc..0xdf) are handled apart; 0xc1 is never used.
 */
#define NEVER 99
static const int8_t scalar_sizes[32] = {
    0,                    /* c0 nil */
    NEVER,                /* c1 */
    0,     0,             /* c2 false, c3 true */
    -1,    -2, -4,        /* c4..c6 bin 8/16/32 */
    -1,    -2, -4,        /* c7..c9 ext 8/16/32 (plus the ext type byte) */
    4,     8,             /* ca float 32, cb float 64 */
    1,     2,  4,  8,     /* cc..cf uint */
    1,     2,  4,  8,     /* d0..d3 int */
    2,     3,  5,  9, 17, /* d4..d8 fixext 1/2/4/8/16, with the ext type byte */
    -1,    -2, -4,        /* d9..db str 8/16/32 */
};

/* Sets *hdr (bytes before the payload, type byte included) and *len (payload bytes). */
static int scalar_size(const swbi_mp_t *c, uint8_t b, unsigned *hdr, uint64_t *len)
{
    int8_t sz = scalar_sizes[b - 0xc0];
    if (sz == NEVER)
        return SWB_E_MALFORMED;
    if (sz >= 0) {
        *hdr = 1;
        *len = (uint64_t)sz;
        return SWB_OK;
    }
    unsigned w = (unsigned)-sz;
    int rc = read_len(c, w, len);
    if (rc != SWB_OK)
        return rc;
    *hdr = 1 + w;
    if (b >= 0xc7 && b <= 0xc9)
        *len += 1; /* the ext type byte */
    return SWB_OK;
}

static int skip_depth(swbi_mp_t *c, unsigned depth)
{
    if (c->p >= c->end)
        return SWB_E_TRUNCATED;
    uint8_t b = c->p[0];
    if (b <= 0x7f || b >= 0xe0) {
        c->p += 1;
        return SWB_OK;
    }
    if (b >= 0xa0 && b <= 0xbf) {
        const char *s;
        uint32_t n;
        return swbi_mp_read_str(c, &s, &n);
    }
    int is_map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    int is_array = (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
    if (is_map || is_array) {
        if (depth >= SWBI_MP_MAX_DEPTH)
            return SWB_E_TOO_LARGE;
        uint32_t n;
        int rc = read_container(c, is_map, &n);
        if (rc != SWB_OK)
            return rc;
        uint64_t items = is_map ? 2 * (uint64_t)n : n;
        for (uint64_t i = 0; i < items; i++)
            if ((rc = skip_depth(c, depth + 1)) != SWB_OK)
                return rc;
        return SWB_OK;
    }
    unsigned hdr;
    uint64_t len;
    int rc = scalar_size(c, b, &hdr, &len);
    if (rc != SWB_OK)
        return rc;
    if (len > swbi_mp_left(c) - hdr)
        return SWB_E_TRUNCATED;
    c->p += hdr + len;
    return SWB_OK;
}

int swbi_mp_skip(swbi_mp_t *c)
{
    return skip_depth(c, 0);
}
