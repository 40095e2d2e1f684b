/*
 * swb_body.h - reading and writing msgpack bodies without msgpack-c: the plugin helpers.
 *
 * A task or message body is untrusted msgpack, usually a map such as {"a": 2, "b": 3}. A
 * reader (swb_body_t) checks the whole body once (size, structure, nesting) and then reads
 * fields by key with their type checked, pointing into the body without copying. A builder
 * (swb_out_t) writes an answer map with a bounded size and no msgpack-c in sight; it keeps
 * small answers on the stack, so a task's answer costs no allocation.
 *
 *     static int handle(swb_ctx_t *ctx, void *state, const swb_task_t *task)
 *     {
 *         swb_body_t in;
 *         int64_t a, b;
 *         if (swb_body_open(&in, task->body, task->len) || swb_body_i64(&in, "a", &a) ||
 *             swb_body_i64(&in, "b", &b))
 *             return swb_ctx_fail(ctx, swb_body_error(&in), swb_body_errmsg(&in));
 *         return swb_reply_i64(ctx, "sum", a + b);
 *     }
 *
 * Errors are codes of swb_error.h, and the reader keeps a readable text of the last one
 * naming the field (`field "a": expected an integer, got a string`), ready for swb_ctx_fail:
 *   SWB_E_MISSING_FIELD  no such key (or array index)
 *   SWB_E_BAD_TYPE       the value has another type (or the body is not a map)
 *   SWB_E_BAD_VALUE      the right type but out of range (a negative uint, an int past
 *                        int64, a string holding a NUL byte for swb_body_strcpy)
 *   SWB_E_TOO_LARGE      body over the limit, nested too deep, or a string over a buffer
 *   SWB_E_TRUNCATED, SWB_E_TRAILING, SWB_E_MALFORMED  the body is not one msgpack value
 *   SWB_E_INVALID        a NULL argument, a key used inside an array, ...
 *
 * Threading: a reader or builder belongs to one thread; nothing here has global state.
 * Structures are declared so they can live on the stack; their fields are private, and a
 * reader or builder is used where it was set up, not copied.
 */
#ifndef SWB_BODY_H
#define SWB_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "swb_error.h"
#include "swb_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares is its API. */
#pragma GCC visibility push(default)

/* Bodies longer than this are refused by swb_body_open before anything is decoded, and
 * builders refuse to grow past it; swb_body_open_max and swb_out_init_max take another. */
#define SWB_BODY_MAX_LEN (1u << 20)
/* Maps and arrays nested deeper than this are refused (the same as SWB_MSGPACK_MAX_DEPTH). */
#define SWB_BODY_MAX_DEPTH 32
/* Bytes of a reader's error text, and of the field path it names. */
#define SWB_BODY_ERR_MAX  192
#define SWB_BODY_PATH_MAX 64

/* What a value is (swb_body_type). */
typedef enum {
    SWB_BODY_NONE = 0, /* no such field */
    SWB_BODY_NIL,
    SWB_BODY_BOOL,
    SWB_BODY_INT, /* any integer, signed or not */
    SWB_BODY_FLOAT,
    SWB_BODY_STR,
    SWB_BODY_BIN,
    SWB_BODY_ARRAY,
    SWB_BODY_MAP,
    SWB_BODY_EXT,
} swb_body_type_t;

/* A map or array inside a checked body. Private fields. */
typedef struct swb_body swb_body_t;
struct swb_body {
    const unsigned char *first, *end; /* first entry; end of the whole body */
    const unsigned char *cur;         /* entry number cur_i, for walking an array in order */
    uint32_t count, cur_i;
    int is_map;
    swb_body_t *root; /* where errors are recorded: the reader swb_body_open set up */
    int err;
    char path[SWB_BODY_PATH_MAX]; /* "" for the body, "opts", "peers[2]" ... */
    char msg[SWB_BODY_ERR_MAX];
};

/* ---- reading ------------------------------------------------------------------------------ */

/* Check the `len` bytes at `body` (borrowed: they must outlive the reader) and open the map
 * they hold. Refuses bodies over SWB_BODY_MAX_LEN. On failure the reader still works as an
 * empty map (every field is missing), and swb_body_errmsg says what was wrong. */
int swb_body_open(swb_body_t *b, const void *body, size_t len);
/* The same with another size limit: `max_len` bytes (0 = SWB_BODY_MAX_LEN, SIZE_MAX = none). */
int swb_body_open_max(swb_body_t *b, const void *body, size_t len, size_t max_len);

/* The code of the last failed call on this reader, or of one of its sub-readers (0 if none),
 * and its text (never NULL; "" when there was none). Sub-readers report into the reader that
 * swb_body_open set up, so either may be asked. */
int swb_body_error(const swb_body_t *b);
const char *swb_body_errmsg(const swb_body_t *b);

/* Number of entries of a map, or elements of an array. */
uint32_t swb_body_count(const swb_body_t *b);
/* Whether the map has `key` (with any value, nil included). */
int swb_body_has(swb_body_t *b, const char *key);
/* The type of the value under `key`; SWB_BODY_NONE when there is none. */
swb_body_type_t swb_body_type(swb_body_t *b, const char *key);

/* Required fields: 0 and the value, or a code (see the top) and *v untouched. With several
 * equal keys the first counts. */
int swb_body_i64(swb_body_t *b, const char *key, int64_t *v);   /* an integer in int64 */
int swb_body_u64(swb_body_t *b, const char *key, uint64_t *v);  /* an integer >= 0 */
int swb_body_double(swb_body_t *b, const char *key, double *v); /* a float or an integer */
int swb_body_bool(swb_body_t *b, const char *key, int *v);      /* true (1) or false (0) */
/* A string: pointer into the body and length, not NUL-terminated. */
int swb_body_str(swb_body_t *b, const char *key, const char **s, size_t *n);
/* A string copied NUL-terminated into buf: SWB_E_TOO_LARGE if it needs more than cap bytes,
 * SWB_E_BAD_VALUE if it holds a NUL byte. */
int swb_body_strcpy(swb_body_t *b, const char *key, char *buf, size_t cap);
/* Binary data: pointer into the body and length. */
int swb_body_bin(swb_body_t *b, const char *key, const void **p, size_t *n);
/* A nested map or array, as a reader of its own (`sub`, which borrows the same body). */
int swb_body_map(swb_body_t *b, const char *key, swb_body_t *sub);
int swb_body_array(swb_body_t *b, const char *key, swb_body_t *sub);

/* Optional fields: a missing key or a nil value gives `def` and 0; any other value must have
 * the right type, as above. */
int swb_body_i64_or(swb_body_t *b, const char *key, int64_t def, int64_t *v);
int swb_body_u64_or(swb_body_t *b, const char *key, uint64_t def, uint64_t *v);
int swb_body_double_or(swb_body_t *b, const char *key, double def, double *v);
int swb_body_bool_or(swb_body_t *b, const char *key, int def, int *v);
int swb_body_str_or(swb_body_t *b, const char *key, const char *def, const char **s, size_t *n);

/* Elements of an array reader by index (0 .. swb_body_count - 1); past the end is
 * SWB_E_MISSING_FIELD. Reading in increasing order costs O(1) per element. */
swb_body_type_t swb_body_at_type(swb_body_t *b, uint32_t i);
int swb_body_at_i64(swb_body_t *b, uint32_t i, int64_t *v);
int swb_body_at_u64(swb_body_t *b, uint32_t i, uint64_t *v);
int swb_body_at_double(swb_body_t *b, uint32_t i, double *v);
int swb_body_at_bool(swb_body_t *b, uint32_t i, int *v);
int swb_body_at_str(swb_body_t *b, uint32_t i, const char **s, size_t *n);
int swb_body_at_bin(swb_body_t *b, uint32_t i, const void **p, size_t *n);
int swb_body_at_map(swb_body_t *b, uint32_t i, swb_body_t *sub);
int swb_body_at_array(swb_body_t *b, uint32_t i, swb_body_t *sub);

/* ---- writing ------------------------------------------------------------------------------ */

/* An answer being built: a map, with maps and arrays nested up to SWB_BODY_MAX_DEPTH. Private
 * fields; answers up to sizeof small bytes stay inside the struct. */
typedef struct {
    unsigned char *heap; /* NULL while the bytes fit in `small` */
    size_t len, cap, max;
    int err; /* first error; every later call is a no-op returning it */
    const char *errmsg;
    int depth; /* open containers, the top map included */
    int finished;
    uint8_t is_map[SWB_BODY_MAX_DEPTH];
    uint32_t count[SWB_BODY_MAX_DEPTH];
    size_t at[SWB_BODY_MAX_DEPTH]; /* offset of each open container's header */
    unsigned char small[256];
} swb_out_t;

/* Start an empty map, at most SWB_BODY_MAX_LEN bytes (or `max_len`; 0 = SWB_BODY_MAX_LEN). */
void swb_out_init(swb_out_t *o);
void swb_out_init_max(swb_out_t *o, size_t max_len);

/* Add a value: inside a map `key` names it (required), inside an array `key` must be NULL.
 * Each returns 0 or the builder's first error (SWB_E_TOO_LARGE past the limit, SWB_E_NOMEM,
 * SWB_E_INVALID for a missing or extra key, a finished builder, ...), so a run of calls can
 * be checked once, at the end. */
int swb_out_int(swb_out_t *o, const char *key, int64_t v);
int swb_out_uint(swb_out_t *o, const char *key, uint64_t v);
int swb_out_double(swb_out_t *o, const char *key, double v);
int swb_out_bool(swb_out_t *o, const char *key, int v);
int swb_out_nil(swb_out_t *o, const char *key);
int swb_out_str(swb_out_t *o, const char *key, const char *s); /* NUL-terminated */
int swb_out_strn(swb_out_t *o, const char *key, const char *s, size_t n);
int swb_out_bin(swb_out_t *o, const char *key, const void *p, size_t n);
/* Open a nested map or array under `key`; swb_out_end closes the innermost one. */
int swb_out_map_begin(swb_out_t *o, const char *key);
int swb_out_array_begin(swb_out_t *o, const char *key);
int swb_out_end(swb_out_t *o);

/* The builder's error (0 if none) and its text (never NULL). */
int swb_out_error(const swb_out_t *o);
const char *swb_out_errmsg(const swb_out_t *o);

/* Close the map and give its msgpack bytes, valid until swb_out_free. Open nested containers
 * are SWB_E_INVALID. */
int swb_out_finish(swb_out_t *o, const void **body, size_t *len);
/* Release what the builder holds; it may then be initialised again. */
void swb_out_free(swb_out_t *o);

/* Finish and answer the current task with the map (a builder error fails the task with that
 * error's code and text instead), then free the builder. Returns what swb_ctx_reply or
 * swb_ctx_fail returned, or the builder's error. */
int swb_out_reply(swb_ctx_t *ctx, swb_out_t *o);
/* Finish, send to a peer (or "parent") with swb_ctx_send, free. */
int swb_out_send(swb_ctx_t *ctx, const char *to, swb_out_t *o);

/* One-entry answers, {key: v}, for the common case. */
int swb_reply_i64(swb_ctx_t *ctx, const char *key, int64_t v);
int swb_reply_u64(swb_ctx_t *ctx, const char *key, uint64_t v);
int swb_reply_double(swb_ctx_t *ctx, const char *key, double v);
int swb_reply_bool(swb_ctx_t *ctx, const char *key, int v);
int swb_reply_str(swb_ctx_t *ctx, const char *key, const char *v);
/* Messages have no failure channel: send {"error": text} back to `to` instead. */
int swb_send_error(swb_ctx_t *ctx, const char *to, const char *text);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
