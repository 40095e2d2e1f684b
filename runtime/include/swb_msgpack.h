/*
 * swb_msgpack.h - checking untrusted msgpack bodies before msgpack-c decodes them.
 *
 * The broker never decodes message bodies, so whoever receives one is the first to read it.
 * msgpack-c (4.0.0) believes the element counts in its input and allocates for them before it
 * reads a byte (5 bytes `dd ff ff ff ff` ask for 4 G elements, msgpack/msgpack-c#1013), and its
 * parser has a fixed 32-level stack. swb_msgpack_check walks the raw bytes without allocating
 * and proves every count and length fits in the bytes that remain, so the objects that
 * msgpack_unpack_next builds afterwards are at most a small multiple of the input's size.
 *
 * This header includes <msgpack.h> for swb_msgpack_unpack, which makes msgpack-c a public
 * dependency of any code that includes it; switchboard.h itself does not include it.
 */
#ifndef SWB_MSGPACK_H
#define SWB_MSGPACK_H

#include <stddef.h>

#include <msgpack.h>

#include "swb_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

/* Nesting limit: msgpack-c's parser cannot unpack more than this many nested arrays/maps. */
#define SWB_MSGPACK_MAX_DEPTH 32

/*
 * Check that the `len` bytes at `buf` (borrowed, only read) hold exactly one well-formed
 * msgpack value. `max_len` caps len (0 = no cap); `max_depth` caps how many arrays and maps
 * may nest, counting the outermost one (0 = SWB_MSGPACK_MAX_DEPTH; larger values are lowered
 * to it). Works in constant stack space and allocates nothing. Returns:
 *   SWB_OK           one value, every byte used
 *   SWB_E_TOO_LARGE  len over max_len, or a container nested deeper than max_depth
 *   SWB_E_TRUNCATED  the bytes end before the value does, including a count or length that
 *                    asks for more bytes than remain (len 0 holds no value and is truncated)
 *   SWB_E_MALFORMED  the reserved type byte 0xc1
 *   SWB_E_TRAILING   bytes left over after the value
 *   SWB_E_INVALID    buf NULL with len > 0, or max_depth negative
 */
int swb_msgpack_check(const void *buf, size_t len, size_t max_len, int max_depth);

/*
 * swb_msgpack_check(buf, len, 0, 0), then msgpack_unpack_next into `u`, which the caller has
 * set up with msgpack_unpacked_init and destroys with msgpack_unpacked_destroy. The objects
 * in `u` may point into `buf`, which must outlive them. Callers that cap the size compare len
 * themselves first. Returns as swb_msgpack_check, or SWB_E_NOMEM.
 */
int swb_msgpack_unpack(const void *buf, size_t len, msgpack_unpacked *u);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
