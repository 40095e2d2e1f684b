/*
 * mp_write.h - a bounded msgpack writer into a caller's buffer.
 *
 * Internal to the codec. Writes the smallest encoding of each value, as msgpack-c's packer
 * does, so our headers are byte for byte what msgpack-c would write: a non-negative integer
 * always takes the unsigned forms (fixint, uint8..uint64), a negative one the smallest of
 * negative fixint and int8..int64; strings use fixstr, str8, str16, str32 (the msgpack 2013
 * spec, msgpack-c v2+). Running out of room sets `overflow` and stops writing; the caller
 * checks it once at the end. Inline: every message's header goes through here, mostly as
 * one-byte values.
 */
#ifndef SWB_MP_WRITE_H
#define SWB_MP_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t *p;   /* next byte to write */
    uint8_t *end; /* one past the last byte of room */
    int overflow; /* set when a write did not fit */
} swbi_mpw_t;

static inline int swbi_mpw_room(swbi_mpw_t *w, size_t n)
{
    if (w->overflow || (size_t)(w->end - w->p) < n) {
        w->overflow = 1;
        return 0;
    }
    return 1;
}

static inline void swbi_mpw_byte(swbi_mpw_t *w, uint8_t b)
{
    if (swbi_mpw_room(w, 1))
        *w->p++ = b;
}

/* A type byte followed by `n` big-endian bytes of `v`. */
static inline void swbi_mpw_be(swbi_mpw_t *w, uint8_t type, uint64_t v, unsigned n)
{
    if (!swbi_mpw_room(w, 1 + (size_t)n))
        return;
    *w->p++ = type;
    for (unsigned i = 0; i < n; i++)
        *w->p++ = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline void swbi_mpw_count(swbi_mpw_t *w, uint32_t n, uint8_t fix, uint8_t t16, uint8_t t32)
{
    if (n <= 15)
        swbi_mpw_byte(w, (uint8_t)(fix | n));
    else if (n <= 0xffff)
        swbi_mpw_be(w, t16, n, 2);
    else
        swbi_mpw_be(w, t32, n, 4);
}

static inline void swbi_mpw_map(swbi_mpw_t *w, uint32_t n)
{
    swbi_mpw_count(w, n, 0x80, 0xde, 0xdf);
}

static inline void swbi_mpw_array(swbi_mpw_t *w, uint32_t n)
{
    swbi_mpw_count(w, n, 0x90, 0xdc, 0xdd);
}

/* Always inline, each size written in place: ids, codes and counts are most of a header. */
__attribute__((always_inline)) static inline void swbi_mpw_uint(swbi_mpw_t *w, uint64_t v)
{
    if (v <= 0x7f)
        swbi_mpw_byte(w, (uint8_t)v);
    else if (v <= 0xff)
        swbi_mpw_be(w, 0xcc, v, 1);
    else if (v <= 0xffff)
        swbi_mpw_be(w, 0xcd, v, 2);
    else if (v <= 0xffffffffu)
        swbi_mpw_be(w, 0xce, v, 4);
    else
        swbi_mpw_be(w, 0xcf, v, 8);
}

static inline void swbi_mpw_int(swbi_mpw_t *w, int64_t v)
{
    if (v >= 0)
        swbi_mpw_uint(w, (uint64_t)v);
    else if (v >= -32)
        swbi_mpw_byte(w, (uint8_t)(int8_t)v);
    else if (v >= INT8_MIN)
        swbi_mpw_be(w, 0xd0, (uint64_t)v, 1);
    else if (v >= INT16_MIN)
        swbi_mpw_be(w, 0xd1, (uint64_t)v, 2);
    else if (v >= INT32_MIN)
        swbi_mpw_be(w, 0xd2, (uint64_t)v, 4);
    else
        swbi_mpw_be(w, 0xd3, (uint64_t)v, 8);
}

/* Borrows `s` for the call; `len` bytes, no terminator needed. */
static inline void swbi_mpw_str(swbi_mpw_t *w, const char *s, uint32_t len)
{
    if (len <= 31)
        swbi_mpw_byte(w, (uint8_t)(0xa0 | len));
    else if (len <= 0xff)
        swbi_mpw_be(w, 0xd9, len, 1);
    else if (len <= 0xffff)
        swbi_mpw_be(w, 0xda, len, 2);
    else
        swbi_mpw_be(w, 0xdb, len, 4);
    if (len > 0 && swbi_mpw_room(w, len)) {
        memcpy(w->p, s, len);
        w->p += len;
    }
}

#endif
