/*
 * fuzz_body.c - libFuzzer target for message bodies: swb_msgpack_check, then msgpack-c.
 *
 * Bodies are opaque msgpack that receivers decode with msgpack-c after swb_msgpack_check, so
 * the check must never let through what msgpack-c cannot decode: whenever it accepts an
 * input, msgpack_unpack_next must succeed and use exactly every byte. The accepted value must
 * then convert to JSON or fail cleanly (only "not UTF-8", out of memory, or too large when
 * arrays or maps nested as map keys multiply the text), as `swb` does with bodies it prints.
 * Anything else aborts so the fuzzer keeps the input. The same function runs in ctest through
 * replay_main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <msgpack.h>

#include "swb_json.h"
#include "swb_msgpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_body: %s (%d)\n", what, rc);
    abort();
}

/* How deep arrays or maps used as map keys nest in `o` (a key that is a map with a map as a key
 * is 2). Each such key is written as escaped JSON text inside a string, and each level at
 * most doubles that text; below 3 levels a byte stays far inside the JSON cap (swb_json.h),
 * so only 3 or more may reach it. */
static int container_key_depth(const msgpack_object *o)
{
    int d = 0;
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int e = container_key_depth(&o->via.array.ptr[i]);
            d = e > d ? e : d;
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            int e = container_key_depth(&o->via.map.ptr[i].val);
            if (k->type == MSGPACK_OBJECT_ARRAY || k->type == MSGPACK_OBJECT_MAP) {
                int kd = 1 + container_key_depth(k);
                e = kd > e ? kd : e;
            }
            d = e > d ? e : d;
        }
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rc = swb_msgpack_check(data, size, 0, 0);
    if (rc != SWB_OK) {
        if (rc != SWB_E_MALFORMED && rc != SWB_E_TRUNCATED && rc != SWB_E_TRAILING &&
            rc != SWB_E_TOO_LARGE)
            fail("the check returned an unexpected code", rc);
        return 0;
    }

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)data, size, &off);
    int key_depth = r == MSGPACK_UNPACK_SUCCESS ? container_key_depth(&u.data) : 0;
    msgpack_unpacked_destroy(&u);
    if (r != MSGPACK_UNPACK_SUCCESS)
        fail("msgpack_unpack_next refused a checked value", (int)r);
    if (off != size)
        fail("msgpack_unpack_next used another length than the check", (int)off);

    char *json = NULL;
    rc = swb_msgpack_to_json(data, size, size % 2, &json);
    if (rc == SWB_OK) {
        if (json == NULL)
            fail("the JSON conversion succeeded without text", rc);
    } else if (rc != SWB_E_INVALID && rc != SWB_E_NOMEM &&
               !(rc == SWB_E_TOO_LARGE && (size > SWB_JSON_MAX_INPUT || key_depth >= 3))) {
        fail("the JSON conversion refused a checked value", rc);
    } else if (json != NULL) {
        fail("the JSON conversion failed but left text", rc);
    }
    free(json);
    return 0;
}
