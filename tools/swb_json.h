/*
 * swb_json.h - JSON text <-> msgpack bytes for the command line, and a safe msgpack decode.
 *
 * The mapping, both ways:
 *   object <-> map        JSON -> msgpack keeps duplicate keys as given. msgpack -> JSON
 *                         renders a non-string key as its compact JSON text in a string
 *                         (1 -> "1", nil -> "null", [1,2] -> "[1,2]", bin -> its base64).
 *   array  <-> array
 *   string <-> str        must be valid UTF-8 both ways (SWB_E_INVALID otherwise).
 *   integer <-> int       the whole int64 range and uint64 above it. JSON integers outside
 *                         [INT64_MIN, UINT64_MAX] are an error, never silently rounded.
 *   real   <-> float      msgpack float32/float64 -> the shortest text that reads back to the
 *                         same value, always with a '.' or exponent so it stays a real;
 *                         NaN and infinities have no JSON form and become null.
 *   true/false/null <-> bool/nil
 *   bin  -> "base64"      standard alphabet, padded. One way: it reads back as a str.
 *   ext  -> {"$ext": type, "data": "base64"}   also one way: it reads back as a map.
 *
 * Nesting is capped at SWB_JSON_MAX_DEPTH levels in both directions: msgpack-c's parser has
 * a fixed 32-level stack (deeper input fails with NOMEM), so deeper JSON would produce bytes
 * no msgpack-c peer could read. Input is capped at SWB_JSON_MAX_INPUT bytes, and JSON made
 * from msgpack at 64 KiB plus 136 bytes per input byte, more than any value needs unless it has
 * arrays or maps as map keys: such a key is written as its JSON text in a string, escaping
 * doubles that text's quotes and backslashes at every level of such keys, and 60 bytes of
 * msgpack could otherwise ask for gigabytes of JSON.
 *
 * msgpack input is untrusted: msgpack-c believes element counts and allocates for them before
 * reading a byte (5 bytes `dd ff ff ff ff` ask for 4 G elements), so it is decoded with
 * swb_msgpack_unpack (swb_msgpack.h), which checks every count and length against the bytes
 * that remain first. This header includes swb_msgpack.h for it.
 */
#ifndef SWB_JSON_H
#define SWB_JSON_H

#include <stddef.h>

#include "swb_msgpack.h"

#define SWB_JSON_MAX_DEPTH SWB_MSGPACK_MAX_DEPTH
#define SWB_JSON_MAX_INPUT (16u << 20)

/*
 * Convert NUL-terminated JSON text to msgpack. On success *out is a malloc'd buffer of *len
 * bytes (caller frees). Returns 0, SWB_E_INVALID (not JSON, or a value with no msgpack form),
 * SWB_E_TOO_LARGE (input or nesting over the caps) or SWB_E_NOMEM; `err` (may be NULL) gets
 * a readable reason with line and column.
 */
int swb_json_to_msgpack(const char *json, char **out, size_t *len, char *err, size_t errcap);

/*
 * Convert one msgpack value of exactly `len` bytes to NUL-terminated JSON text, indented by
 * two spaces when `pretty`, compact otherwise. *out is malloc'd (caller frees). Returns 0,
 * SWB_E_MALFORMED (truncated, bad type byte, counts beyond the input, trailing bytes),
 * SWB_E_TOO_LARGE (input, output or nesting over the caps), SWB_E_INVALID (a str that is
 * not UTF-8) or SWB_E_NOMEM.
 */
int swb_msgpack_to_json(const void *buf, size_t len, int pretty, char **out);

#endif
