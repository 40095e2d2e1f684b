/*
 * fuzz_plugin_body.c - libFuzzer target for the plugin body reader (swb_body.h): any bytes a
 * peer sends reach a plugin's swb_body_open, so no input may make it read outside the body,
 * crash, or hand out a string or binary that does not lie inside the body. The reader is
 * walked as a plugin would: fields of every type by a few keys, then every element of nested
 * maps and arrays, copied into a builder whose answer must be well-formed msgpack. The same
 * function runs in ctest through replay_main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "swb_body.h"
#include "swb_msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader's context calls, never reached here (only swb_out_reply and swb_out_send use
 * them): the body code is linked alone, without the worker host. */
int swb_ctx_reply(swb_ctx_t *ctx, const void *body, size_t len)
{
    (void)ctx, (void)body, (void)len;
    abort();
}

int swb_ctx_fail(swb_ctx_t *ctx, int code, const char *text)
{
    (void)ctx, (void)code, (void)text;
    abort();
}

int swb_ctx_send(swb_ctx_t *ctx, const char *to, const void *body, size_t len)
{
    (void)ctx, (void)to, (void)body, (void)len;
    abort();
}

static const uint8_t *lo, *hi;

static void inside(const void *p, size_t n)
{
    const uint8_t *b = p;
    if (n && (b < lo || b + n > hi || b + n < b)) {
        fprintf(stderr, "fuzz_plugin_body: a value points outside the body\n");
        abort();
    }
}

static void walk(swb_body_t *b, swb_out_t *o, int depth);

static void element(swb_body_t *b, uint32_t i, swb_out_t *o, int depth)
{
    int64_t v;
    const char *s;
    const void *p;
    size_t n;
    swb_body_t sub;
    if (swb_body_at_i64(b, i, &v) == SWB_OK)
        swb_out_int(o, NULL, v);
    if (swb_body_at_str(b, i, &s, &n) == SWB_OK) {
        inside(s, n);
        swb_out_strn(o, NULL, s, n);
    }
    if (swb_body_at_bin(b, i, &p, &n) == SWB_OK)
        inside(p, n);
    if (swb_body_at_map(b, i, &sub) == SWB_OK || swb_body_at_array(b, i, &sub) == SWB_OK)
        walk(&sub, o, depth + 1);
    swb_body_at_type(b, i);
}

static void walk(swb_body_t *b, swb_out_t *o, int depth)
{
    if (depth > 40)
        return;
    static const char *const keys[] = {"a", "b", "s", "m", "arr", "", "from", "to"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        int64_t i;
        uint64_t u;
        double d;
        int t;
        const char *s;
        const void *p;
        size_t n;
        char buf[16];
        swb_body_t sub;
        swb_body_has(b, keys[k]);
        swb_body_type(b, keys[k]);
        swb_body_i64(b, keys[k], &i);
        swb_body_u64(b, keys[k], &u);
        swb_body_double(b, keys[k], &d);
        swb_body_bool(b, keys[k], &t);
        swb_body_strcpy(b, keys[k], buf, sizeof buf);
        if (swb_body_str(b, keys[k], &s, &n) == SWB_OK)
            inside(s, n);
        if (swb_body_bin(b, keys[k], &p, &n) == SWB_OK)
            inside(p, n);
        if (swb_body_map(b, keys[k], &sub) == SWB_OK) {
            swb_out_map_begin(o, keys[k]);
            walk(&sub, o, depth + 1);
            swb_out_end(o);
        }
    }
    uint32_t count = swb_body_count(b);
    swb_out_array_begin(o, "elements");
    for (uint32_t i = 0; i < count && i < 64; i++)
        element(b, i, o, depth);
    swb_out_end(o);
    swb_body_errmsg(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lo = data;
    hi = data + size;
    swb_body_t b;
    swb_body_open_max(&b, data, size, 0);
    swb_out_t o;
    swb_out_init(&o);
    walk(&b, &o, 0);
    const void *out;
    size_t len;
    if (swb_out_finish(&o, &out, &len) == SWB_OK && swb_msgpack_check(out, len, 0, 0) != SWB_OK) {
        fprintf(stderr, "fuzz_plugin_body: the builder wrote malformed msgpack\n");
        abort();
    }
    swb_out_free(&o);
    return 0;
}
