/*
 * msgpack_check.c - structure check for untrusted msgpack bytes (API in swb_msgpack.h).
 *
 * One pass over the bytes, no allocation. Instead of recursing, it keeps one counter per open
 * array or map (the values it still expects), so the stack use is fixed whatever the input.
 * A count is accepted only if it fits in the bytes that remain, taking one byte per element
 * (the smallest msgpack value); that bound is what keeps msgpack-c's allocations in proportion
 * to the input. This file needs nothing from the runtime but the error codes, so the CLI's
 * unit tests compile it on its own.
 *
 * Layer: common; uses: nothing; called by: programs and the tools through swb_msgpack.h.
 */
#include "swb_msgpack.h"

#include <stdint.h>

enum { SCALAR, ARRAY, MAP };

static uint32_t read_be(const unsigned char *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int swb_msgpack_check(const void *buf, size_t len, size_t max_len, int max_depth)
{
    if (max_depth < 0 || (!buf && len > 0))
        return SWB_E_INVALID;
    if (max_depth == 0 || max_depth > SWB_MSGPACK_MAX_DEPTH)
        max_depth = SWB_MSGPACK_MAX_DEPTH;
    if (max_len > 0 && len > max_len)
        return SWB_E_TOO_LARGE;
    if (len == 0)
        return SWB_E_TRUNCATED;

    const unsigned char *p = buf, *end = p + len;
    uint64_t left[SWB_MSGPACK_MAX_DEPTH]; /* values still expected by each open container */
    int open = 0;
    for (;;) {
        if (p == end)
            return SWB_E_TRUNCATED;
        unsigned char c = *p++;
        size_t avail = (size_t)(end - p);
        int kind = SCALAR;
        size_t lenbytes = 0; /* size of the big-endian length or count field */
        uint64_t n = 0;      /* payload bytes (SCALAR) or element count (ARRAY, MAP) */

        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
            ; /* fixint, nil, false, true */
        else if (c <= 0x8f) {
            kind = MAP;
            n = c & 0x0f;
        } else if (c <= 0x9f) {
            kind = ARRAY;
            n = c & 0x0f;
        } else if (c <= 0xbf)
            n = c & 0x1f;                /* fixstr */
        else if (c == 0xc4 || c == 0xd9) /* bin8, str8 */
            lenbytes = 1;
        else if (c == 0xc5 || c == 0xda) /* bin16, str16 */
            lenbytes = 2;
        else if (c == 0xc6 || c == 0xdb) /* bin32, str32 */
            lenbytes = 4;
        else if (c >= 0xc7 && c <= 0xc9) { /* ext8/16/32: length, then a type byte */
            lenbytes = c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4;
            n = 1;
        } else if (c == 0xcc || c == 0xd0) /* uint8, int8 */
            n = 1;
        else if (c == 0xcd || c == 0xd1) /* uint16, int16 */
            n = 2;
        else if (c == 0xca || c == 0xce || c == 0xd2) /* float32, uint32, int32 */
            n = 4;
        else if (c == 0xcb || c == 0xcf || c == 0xd3) /* float64, uint64, int64 */
            n = 8;
        else if (c >= 0xd4 && c <= 0xd8) /* fixext 1, 2, 4, 8, 16 plus the type byte */
            n = 1 + (1u << (c - 0xd4));
        else if (c == 0xdc || c == 0xdd) {
            kind = ARRAY;
            lenbytes = c == 0xdc ? 2 : 4;
        } else if (c == 0xde || c == 0xdf) {
            kind = MAP;
            lenbytes = c == 0xde ? 2 : 4;
        } else
            return SWB_E_MALFORMED; /* 0xc1, reserved */

        if (lenbytes > 0) {
            if (avail < lenbytes)
                return SWB_E_TRUNCATED;
            n += read_be(p, lenbytes);
            p += lenbytes;
            avail -= lenbytes;
        }
        if (kind == SCALAR) {
            if (n > avail)
                return SWB_E_TRUNCATED;
            p += n;
        } else {
            if (kind == MAP)
                n *= 2; /* a key and a value per entry; n < 2^32, so no overflow */
            if (n > avail)
                return SWB_E_TRUNCATED;
            if (open >= max_depth)
                return SWB_E_TOO_LARGE;
            if (n > 0) {
                left[open++] = n;
                continue;
            }
        }
        /* A value is complete: count it off, closing each container it completes. */
        while (open > 0 && --left[open - 1] == 0)
            open--;
        if (open == 0)
            break;
    }
    return p == end ? SWB_OK : SWB_E_TRAILING;
}

int swb_msgpack_unpack(const void *buf, size_t len, msgpack_unpacked *u)
{
    if (!u)
        return SWB_E_INVALID;
    int rc = swb_msgpack_check(buf, len, 0, 0);
    if (rc != SWB_OK)
        return rc;
    size_t off = 0;
    switch (msgpack_unpack_next(u, buf, len, &off)) {
    case MSGPACK_UNPACK_SUCCESS:
        /* The check accepted exactly len bytes; msgpack-c disagreeing would be a bug here. */
        return off == len ? SWB_OK : SWB_E_MALFORMED;
    case MSGPACK_UNPACK_NOMEM_ERROR:
        return SWB_E_NOMEM;
    default:
        return SWB_E_MALFORMED;
    }
}
