/*
 * mp_write.h - a bounded msgpack writer into a caller's buffer.
 *
 * Internal to the codec. Writes the smallest encoding of each value, as msgpack-c's packer
 * does, so our headers are byte for byte what msgpack-c would write. Running out of room sets
 * `overflow` and stops writing; the caller checks it once at the end.
 */
#ifndef SWB_MP_WRITE_H
#define SWB_MP_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;   /* next byte to write */
    uint8_t *end; /* one past the last byte of room */
    int overflow; /* set when a write did not fit */
} swbi_mpw_t;

void swbi_mpw_map(swbi_mpw_t *w, uint32_t n);
void swbi_mpw_array(swbi_mpw_t *w, uint32_t n);
void swbi_mpw_uint(swbi_mpw_t *w, uint64_t v);
void swbi_mpw_int(swbi_mpw_t *w, int64_t v);
/* Borrows `s` for the call; `len` bytes, no terminator needed. */
void swbi_mpw_str(swbi_mpw_t *w, const char *s, uint32_t len);

#endif
