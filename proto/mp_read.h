/*
 * mp_read.h - a bounded msgpack cursor: reads one value at a time from [p, end).
 *
 * Internal to the codec. Unlike msgpack-c's unpacker it allocates nothing and believes no
 * count: a map, array or string whose claimed size cannot fit in the bytes that remain is
 * reported as truncated before anything is done with it (msgpack-c#1013). Every function
 * returns SWB_OK, SWB_E_TRUNCATED, SWB_E_BAD_TYPE (the next value is of another type; the
 * cursor has not moved) or, for skipping, SWB_E_MALFORMED / SWB_E_TOO_LARGE.
 */
#ifndef SWB_MP_READ_H
#define SWB_MP_READ_H

#include <stddef.h>
#include <stdint.h>

#include "swb_error.h"

typedef struct {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last byte */
} swbi_mp_t;

/* An integer of any msgpack encoding: `neg` set means the value is (int64_t)u < 0. */
typedef struct {
    uint64_t u;
    int neg;
} swbi_mp_int_t;

/* Deepest nesting of maps and arrays swbi_mp_skip accepts. */
#define SWBI_MP_MAX_DEPTH 8

static inline size_t swbi_mp_left(const swbi_mp_t *c)
{
    return (size_t)(c->end - c->p);
}

/* A map header; *n entries follow (at least 2*n bytes are known to remain). */
int swbi_mp_read_map(swbi_mp_t *c, uint32_t *n);

/* An array header; *n elements follow (at least n bytes are known to remain). */
int swbi_mp_read_array(swbi_mp_t *c, uint32_t *n);

/* A str (not bin): *ptr points into the buffer, *len bytes. */
int swbi_mp_read_str_any(swbi_mp_t *c, const char **ptr, uint32_t *len);

/* An integer in any of the positive fixint, negative fixint, uint* or int* encodings. */
int swbi_mp_read_int_any(swbi_mp_t *c, swbi_mp_int_t *v);

/* The same, with the forms headers are mostly made of (positive fixint, fixstr, ids in 16 or
 * 32 bits) inline. */
__attribute__((always_inline)) static inline int swbi_mp_read_int(swbi_mp_t *c, swbi_mp_int_t *v)
{
    size_t left = swbi_mp_left(c);
    if (left && c->p[0] <= 0x7f) {
        v->u = *c->p++;
        v->neg = 0;
        return SWB_OK;
    }
    if (left >= 3 && c->p[0] == 0xcd) { /* uint16: ids past 127 */
        v->u = (uint64_t)c->p[1] << 8 | c->p[2];
        v->neg = 0;
        c->p += 3;
        return SWB_OK;
    }
    if (left >= 5 && c->p[0] == 0xce) { /* uint32: ids past 65535 */
        v->u = (uint64_t)c->p[1] << 24 | (uint64_t)c->p[2] << 16 | (uint64_t)c->p[3] << 8 | c->p[4];
        v->neg = 0;
        c->p += 5;
        return SWB_OK;
    }
    return swbi_mp_read_int_any(c, v);
}

__attribute__((always_inline)) static inline int swbi_mp_read_str(swbi_mp_t *c, const char **ptr,
                                                                  uint32_t *len)
{
    if (c->p < c->end && (c->p[0] & 0xe0) == 0xa0) {
        uint32_t n = c->p[0] & 0x1fu;
        if (n < swbi_mp_left(c)) {
            *ptr = (const char *)(c->p + 1);
            *len = n;
            c->p += 1 + n;
            return SWB_OK;
        }
    }
    return swbi_mp_read_str_any(c, ptr, len);
}

/* Skip one value of any type. Containers nested deeper than SWBI_MP_MAX_DEPTH give
 * SWB_E_TOO_LARGE; the never-used byte 0xc1 gives SWB_E_MALFORMED. After an error the cursor
 * is somewhere inside the value (callers give up on the whole header then). */
int swbi_mp_skip(swbi_mp_t *c);

#endif
