/*
 * plugin_util.h - msgpack helpers shared by the built-in plugins (header-only, because each
 * file in workers/plugins/ is built into its own shared object).
 *
 * Bodies come from other peers and the broker never decodes them, so a plugin is the first
 * to read them. msgpack-c trusts the counts in its input (5 bytes `dd ff ff ff ff` make it
 * allocate for 4 G elements), so pu_unpack caps the size and decodes with the runtime's
 * swb_msgpack_unpack, which proves every count and length fits in the bytes that remain first.
 */
#ifndef SWB_PLUGIN_UTIL_H
#define SWB_PLUGIN_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "swb_msgpack.h"
#include "swb_plugin.h"

#define PU_MAX_BODY (1u << 20) /* bytes; larger bodies are refused before decoding */

/* The n-byte big-endian unsigned integer at p (n <= 4). */
static inline uint32_t pu_be(const unsigned char *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Decode a body into `u` (caller does msgpack_unpacked_init/destroy). Objects borrow from
 * `body`. Returns 0, SWB_E_TOO_LARGE, SWB_E_TRUNCATED, SWB_E_TRAILING, SWB_E_MALFORMED or
 * SWB_E_NOMEM (see swb_msgpack.h). */
static inline int pu_unpack(const void *body, size_t len, msgpack_unpacked *u)
{
    if (len > PU_MAX_BODY)
        return SWB_E_TOO_LARGE;
    return swb_msgpack_unpack(body, len, u);
}

/* The value under string key `key` in a map, or NULL (also when `map` is not a map). */
static inline const msgpack_object *pu_map_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* An integer that fits int64: 0, or -1 when `o` is missing, not an integer, or too big. */
static inline int pu_get_i64(const msgpack_object *o, int64_t *v)
{
    if (!o)
        return -1;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)INT64_MAX) {
        *v = (int64_t)o->via.u64;
        return 0;
    }
    return -1;
}

/* A str copied NUL-terminated into buf: 0, or -1 when missing, not a str, empty, too long or
 * holding a NUL byte. */
static inline int pu_get_str(const msgpack_object *o, char *buf, size_t cap)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 || o->via.str.size >= cap ||
        memchr(o->via.str.ptr, '\0', o->via.str.size))
        return -1;
    memcpy(buf, o->via.str.ptr, o->via.str.size);
    buf[o->via.str.size] = '\0';
    return 0;
}

/* An output body: pu_out_init, pack into .pk, use .sb.data/.sb.size, pu_out_destroy. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} pu_out_t;

static inline void pu_out_init(pu_out_t *o)
{
    msgpack_sbuffer_init(&o->sb);
    msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
}

static inline void pu_out_destroy(pu_out_t *o)
{
    msgpack_sbuffer_destroy(&o->sb);
}

static inline int pu_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? SWB_E_NOMEM : 0;
}

/* Pack the one-entry map {key: v}, into a pu_out_t's .pk or a pu_small_t's packer. */
static inline int pu_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t v)
{
    return msgpack_pack_map(pk, 1) || pu_pack_str(pk, key) || msgpack_pack_int64(pk, v)
               ? SWB_E_NOMEM
               : 0;
}

static inline int pu_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
    return msgpack_pack_map(pk, 1) || pu_pack_str(pk, key) || msgpack_pack_uint64(pk, v)
               ? SWB_E_NOMEM
               : 0;
}

static inline int pu_pack_kv_str(msgpack_packer *pk, const char *key, const char *v)
{
    return msgpack_pack_map(pk, 1) || pu_pack_str(pk, key) || pu_pack_str(pk, v) ? SWB_E_NOMEM : 0;
}

static inline int pu_pack_kv_bool(msgpack_packer *pk, const char *key, int v)
{
    return msgpack_pack_map(pk, 1) || pu_pack_str(pk, key) ||
                   (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk))
               ? SWB_E_NOMEM
               : 0;
}

/* Answers of one small entry are packed on the stack, with no allocation per task; one that
 * does not fit (a long key) moves to the heap. */
typedef struct {
    char small[128];
    char *data;
    size_t len, cap;
} pu_small_t;

static inline int pu_small_write(void *arg, const char *p, size_t n)
{
    pu_small_t *s = arg;
    if (n > s->cap - s->len) {
        size_t cap = 2 * (s->len + n);
        char *d = malloc(cap);
        if (!d)
            return -1;
        memcpy(d, s->data, s->len);
        if (s->data != s->small)
            free(s->data);
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return 0;
}

static inline void pu_small_init(pu_small_t *s, msgpack_packer *pk)
{
    s->data = s->small;
    s->len = 0;
    s->cap = sizeof s->small;
    msgpack_packer_init(pk, s, pu_small_write);
}

static inline int pu_small_reply(swb_ctx_t *ctx, int failed, pu_small_t *s)
{
    int rc = failed ? swb_ctx_fail(ctx, SWB_E_NOMEM, "out of memory")
                    : swb_ctx_reply(ctx, s->data, s->len);
    if (s->data != s->small)
        free(s->data);
    return rc;
}

/* Answer the current task with {key: v}. */
static inline int pu_reply_i64(swb_ctx_t *ctx, const char *key, int64_t v)
{
    pu_small_t s;
    msgpack_packer pk;
    pu_small_init(&s, &pk);
    return pu_small_reply(ctx, pu_pack_kv_i64(&pk, key, v), &s);
}

static inline int pu_reply_u64(swb_ctx_t *ctx, const char *key, uint64_t v)
{
    pu_small_t s;
    msgpack_packer pk;
    pu_small_init(&s, &pk);
    return pu_small_reply(ctx, pu_pack_kv_u64(&pk, key, v), &s);
}

static inline int pu_reply_bool(swb_ctx_t *ctx, const char *key, int v)
{
    pu_small_t s;
    msgpack_packer pk;
    pu_small_init(&s, &pk);
    return pu_small_reply(ctx, pu_pack_kv_bool(&pk, key, v), &s);
}

/* Messages have no failure channel, so a plugin answers a bad message with {"error": text}
 * sent back to its sender rather than dropping it silently. */
static inline int pu_send_error(swb_ctx_t *ctx, const char *to, const char *text)
{
    pu_out_t o;
    pu_out_init(&o);
    int rc = pu_pack_kv_str(&o.pk, "error", text);
    if (!rc)
        rc = swb_ctx_send(ctx, to, o.sb.data, o.sb.size);
    pu_out_destroy(&o);
    return rc;
}

/* Readable text for a pu_unpack failure. */
static inline const char *pu_unpack_text(int rc)
{
    if (rc == SWB_E_TOO_LARGE)
        return "body too large or nested too deep";
    if (rc == SWB_E_NOMEM)
        return "out of memory";
    return "body is not valid msgpack";
}

#endif
