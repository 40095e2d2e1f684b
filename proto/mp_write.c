/*
 * mp_write.c - the bounded msgpack writer (see mp_write.h).
 *
 * Integer encodings follow msgpack-c's pack_int*: a non-negative value always takes the
 * unsigned forms (fixint, uint8..uint64), a negative one the smallest of negative fixint and
 * int8..int64. Strings use fixstr, str8, str16, str32 (the msgpack 2013 spec, msgpack-c v2+).
 */
#include "mp_write.h"

#include <string.h>

static void put(swbi_mpw_t *w, const void *src, size_t n)
{
    if (w->overflow || (size_t)(w->end - w->p) < n) {
        w->overflow = 1;
        return;
    }
    if (n > 0)
        memcpy(w->p, src, n);
    w->p += n;
}

/* A type byte followed by `n` big-endian bytes of `v`. */
static void put_be(swbi_mpw_t *w, uint8_t type, uint64_t v, unsigned n)
{
    uint8_t b[9];
    b[0] = type;
    for (unsigned i = 0; i < n; i++)
        b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    put(w, b, 1 + n);
}

static void put_count(swbi_mpw_t *w, uint32_t n, uint8_t fix, uint8_t max_fix, uint8_t t16,
                      uint8_t t32)
{
    if (n <= max_fix) {
        uint8_t b = (uint8_t)(fix | n);
        put(w, &b, 1);
    } else if (n <= 0xffff) {
        put_be(w, t16, n, 2);
    } else {
        put_be(w, t32, n, 4);
    }
}

void swbi_mpw_map(swbi_mpw_t *w, uint32_t n)
{
    put_count(w, n, 0x80, 15, 0xde, 0xdf);
}

void swbi_mpw_array(swbi_mpw_t *w, uint32_t n)
{
    put_count(w, n, 0x90, 15, 0xdc, 0xdd);
}

void swbi_mpw_uint(swbi_mpw_t *w, uint64_t v)
{
    if (v <= 0x7f) {
        uint8_t b = (uint8_t)v;
        put(w, &b, 1);
    } else if (v <= 0xff) {
        put_be(w, 0xcc, v, 1);
    } else if (v <= 0xffff) {
        put_be(w, 0xcd, v, 2);
    } else if (v <= 0xffffffffu) {
        put_be(w, 0xce, v, 4);
    } else {
        put_be(w, 0xcf, v, 8);
    }
}

void swbi_mpw_int(swbi_mpw_t *w, int64_t v)
{
    if (v >= 0) {
        swbi_mpw_uint(w, (uint64_t)v);
    } else if (v >= -32) {
        uint8_t b = (uint8_t)(int8_t)v;
        put(w, &b, 1);
    } else if (v >= INT8_MIN) {
        put_be(w, 0xd0, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        put_be(w, 0xd1, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        put_be(w, 0xd2, (uint64_t)v, 4);
    } else {
        put_be(w, 0xd3, (uint64_t)v, 8);
    }
}

void swbi_mpw_str(swbi_mpw_t *w, const char *s, uint32_t len)
{
    if (len <= 31) {
        uint8_t b = (uint8_t)(0xa0 | len);
        put(w, &b, 1);
    } else if (len <= 0xff) {
        put_be(w, 0xd9, len, 1);
    } else if (len <= 0xffff) {
        put_be(w, 0xda, len, 2);
    } else {
        put_be(w, 0xdb, len, 4);
    }
    put(w, s, len);
}
