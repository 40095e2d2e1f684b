/*
 * test_body.c - the plugin helpers of swb_body.h: typed reads from a body, the answer builder.
 *
 * Inputs are packed with msgpack-c, so the reader is held to what real peers send; the
 * builder's output is decoded with msgpack-c and, for the forms with a choice of encoding,
 * compared byte for byte with msgpack-c's packer. Hostile bodies (cut short, counts asking for
 * more than there is, too deep) must be refused with a code, never read past.
 */
#include "swb_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "swb_body.h"

/* ---- packing inputs ---------------------------------------------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} pk_t;

static void pk_init(pk_t *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pk_str(pk_t *p, const char *s)
{
    msgpack_pack_str_with_body(&p->pk, s, strlen(s));
}

/* {"i": -5, "big": 2^64-1, "f": 2.5, "f32": 0.5f, "t": true, "s": "hi", "b": bin 00 01 02,
 *  "n": nil, "m": {"x": 7, "deep": {"y": false}}, "a": [1, "two", {"k": 3}]} */
static void pack_sample(pk_t *p)
{
    pk_init(p);
    msgpack_packer *k = &p->pk;
    msgpack_pack_map(k, 10);
    pk_str(p, "i");
    msgpack_pack_int64(k, -5);
    pk_str(p, "big");
    msgpack_pack_uint64(k, UINT64_MAX);
    pk_str(p, "f");
    msgpack_pack_double(k, 2.5);
    pk_str(p, "f32");
    msgpack_pack_float(k, 0.5f);
    pk_str(p, "t");
    msgpack_pack_true(k);
    pk_str(p, "s");
    pk_str(p, "hi");
    pk_str(p, "b");
    msgpack_pack_bin_with_body(k, "\x00\x01\x02", 3);
    pk_str(p, "n");
    msgpack_pack_nil(k);
    pk_str(p, "m");
    msgpack_pack_map(k, 2);
    pk_str(p, "x");
    msgpack_pack_int(k, 7);
    pk_str(p, "deep");
    msgpack_pack_map(k, 1);
    pk_str(p, "y");
    msgpack_pack_false(k);
    pk_str(p, "a");
    msgpack_pack_array(k, 3);
    msgpack_pack_int(k, 1);
    pk_str(p, "two");
    msgpack_pack_map(k, 1);
    pk_str(p, "k");
    msgpack_pack_int(k, 3);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void test_reads_every_type(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_count(&in), 10);

    int64_t i;
    uint64_t u;
    double d;
    int b;
    const char *s;
    const void *bin;
    size_t n;
    assert_int_equal(swb_body_i64(&in, "i", &i), SWB_OK);
    assert_int_equal(i, -5);
    assert_int_equal(swb_body_u64(&in, "big", &u), SWB_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(swb_body_double(&in, "f", &d), SWB_OK);
    assert_true(d == 2.5);
    assert_int_equal(swb_body_double(&in, "f32", &d), SWB_OK);
    assert_true(d == 0.5);
    assert_int_equal(swb_body_bool(&in, "t", &b), SWB_OK);
    assert_int_equal(b, 1);
    assert_int_equal(swb_body_str(&in, "s", &s, &n), SWB_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(s, "hi", 2);
    /* Pointers into the body, not copies. */
    assert_true(s > p.sb.data && s + n <= p.sb.data + p.sb.size);
    assert_int_equal(swb_body_bin(&in, "b", &bin, &n), SWB_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(bin, "\x00\x01\x02", 3);
    assert_true((const char *)bin > p.sb.data && (const char *)bin + n <= p.sb.data + p.sb.size);
    assert_int_equal(swb_body_error(&in), SWB_OK);
    assert_string_equal(swb_body_errmsg(&in), "");
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_has_and_type(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_true(swb_body_has(&in, "n"));
    assert_false(swb_body_has(&in, "nope"));
    assert_int_equal(swb_body_type(&in, "i"), SWB_BODY_INT);
    assert_int_equal(swb_body_type(&in, "big"), SWB_BODY_INT);
    assert_int_equal(swb_body_type(&in, "f"), SWB_BODY_FLOAT);
    assert_int_equal(swb_body_type(&in, "t"), SWB_BODY_BOOL);
    assert_int_equal(swb_body_type(&in, "s"), SWB_BODY_STR);
    assert_int_equal(swb_body_type(&in, "b"), SWB_BODY_BIN);
    assert_int_equal(swb_body_type(&in, "n"), SWB_BODY_NIL);
    assert_int_equal(swb_body_type(&in, "m"), SWB_BODY_MAP);
    assert_int_equal(swb_body_type(&in, "a"), SWB_BODY_ARRAY);
    assert_int_equal(swb_body_type(&in, "nope"), SWB_BODY_NONE);
    assert_int_equal(swb_body_error(&in), SWB_OK); /* asking is not failing */
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_i64_and_u64_take_every_integer_form(void **state)
{
    static const int64_t vals[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  INT32_MAX, (int64_t)1 << 32,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, INT64_MIN};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        pk_t p;
        pk_init(&p);
        msgpack_pack_map(&p.pk, 1);
        pk_str(&p, "v");
        msgpack_pack_int64(&p.pk, vals[k]);
        swb_body_t in;
        int64_t i = 42;
        uint64_t u = 42;
        double d = 0;
        assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
        assert_int_equal(swb_body_i64(&in, "v", &i), SWB_OK);
        assert_true(i == vals[k]);
        assert_int_equal(swb_body_double(&in, "v", &d), SWB_OK);
        assert_true(d == (double)vals[k]);
        if (vals[k] >= 0) {
            assert_int_equal(swb_body_u64(&in, "v", &u), SWB_OK);
            assert_true(u == (uint64_t)vals[k]);
        } else {
            assert_int_equal(swb_body_u64(&in, "v", &u), SWB_E_BAD_VALUE);
            assert_true(u == 42); /* untouched on failure */
        }
        msgpack_sbuffer_destroy(&p.sb);
    }
}

static void test_i64_past_int64_is_bad_value(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in;
    int64_t i = 42;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_i64(&in, "big", &i), SWB_E_BAD_VALUE);
    assert_int_equal(i, 42);
    assert_int_equal(swb_body_error(&in), SWB_E_BAD_VALUE);
    assert_string_equal(swb_body_errmsg(&in),
                        "field \"big\": integer 18446744073709551615 is out of the int64 range");
    uint64_t u;
    assert_int_equal(swb_body_u64(&in, "i", &u), SWB_E_BAD_VALUE);
    assert_string_equal(swb_body_errmsg(&in), "field \"i\": expected an integer >= 0, got -5");
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_missing_field_names_it(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in;
    int64_t i;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_i64(&in, "a2", &i), SWB_E_MISSING_FIELD);
    assert_int_equal(swb_body_error(&in), SWB_E_MISSING_FIELD);
    assert_string_equal(swb_body_errmsg(&in), "field \"a2\": missing");
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_wrong_type_says_what_was_expected_and_got(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in, sub;
    int64_t i;
    double d;
    int b;
    const char *s;
    const void *bin;
    size_t n;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_i64(&in, "s", &i), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"s\": expected an integer, got a string");
    assert_int_equal(swb_body_i64(&in, "f", &i), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"f\": expected an integer, got a float");
    assert_int_equal(swb_body_double(&in, "t", &d), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"t\": expected a number, got a boolean");
    assert_int_equal(swb_body_bool(&in, "n", &b), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"n\": expected a boolean, got nil");
    assert_int_equal(swb_body_str(&in, "b", &s, &n), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"b\": expected a string, got binary data");
    assert_int_equal(swb_body_bin(&in, "s", &bin, &n), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"s\": expected binary data, got a string");
    assert_int_equal(swb_body_map(&in, "a", &sub), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"a\": expected a map, got an array");
    assert_int_equal(swb_body_array(&in, "m", &sub), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"m\": expected an array, got a map");
    assert_int_equal(swb_body_error(&in), SWB_E_BAD_TYPE);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_optional_fields_default_on_missing_or_nil_only(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in;
    int64_t i;
    uint64_t u;
    double d;
    int b;
    const char *s;
    size_t n;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_i64_or(&in, "nope", 9, &i), SWB_OK);
    assert_int_equal(i, 9);
    assert_int_equal(swb_body_i64_or(&in, "n", 8, &i), SWB_OK); /* nil */
    assert_int_equal(i, 8);
    assert_int_equal(swb_body_i64_or(&in, "i", 8, &i), SWB_OK);
    assert_int_equal(i, -5);
    assert_int_equal(swb_body_u64_or(&in, "nope", 3, &u), SWB_OK);
    assert_true(u == 3);
    assert_int_equal(swb_body_double_or(&in, "nope", 1.5, &d), SWB_OK);
    assert_true(d == 1.5);
    assert_int_equal(swb_body_bool_or(&in, "nope", 1, &b), SWB_OK);
    assert_int_equal(b, 1);
    assert_int_equal(swb_body_str_or(&in, "nope", "dflt", &s, &n), SWB_OK);
    assert_string_equal(s, "dflt");
    assert_int_equal(n, 4);
    assert_int_equal(swb_body_str_or(&in, "s", "dflt", &s, &n), SWB_OK);
    assert_memory_equal(s, "hi", 2);
    assert_int_equal(swb_body_error(&in), SWB_OK);
    /* A value of the wrong type is still an error. */
    assert_int_equal(swb_body_i64_or(&in, "s", 0, &i), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"s\": expected an integer, got a string");
    assert_int_equal(swb_body_bool_or(&in, "i", 0, &b), SWB_E_BAD_TYPE);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_strcpy_checks_room_and_nul_bytes(void **state)
{
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 2);
    pk_str(&p, "name");
    pk_str(&p, "worker-1");
    pk_str(&p, "nul");
    msgpack_pack_str_with_body(&p.pk, "a\0b", 3);
    swb_body_t in;
    char buf[9];
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_strcpy(&in, "name", buf, sizeof buf), SWB_OK);
    assert_string_equal(buf, "worker-1");
    memset(buf, 'x', sizeof buf);
    assert_int_equal(swb_body_strcpy(&in, "name", buf, 8), SWB_E_TOO_LARGE);
    assert_int_equal(buf[0], 'x'); /* untouched */
    assert_string_equal(swb_body_errmsg(&in),
                        "field \"name\": string of 8 bytes does not fit in 8");
    assert_int_equal(swb_body_strcpy(&in, "nul", buf, sizeof buf), SWB_E_BAD_VALUE);
    assert_string_equal(swb_body_errmsg(&in), "field \"nul\": string holds a NUL byte");
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_nested_maps_name_their_path(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in, m, deep;
    int64_t x;
    int y = 7;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_map(&in, "m", &m), SWB_OK);
    assert_int_equal(swb_body_count(&m), 2);
    assert_int_equal(swb_body_i64(&m, "x", &x), SWB_OK);
    assert_int_equal(x, 7);
    assert_int_equal(swb_body_map(&m, "deep", &deep), SWB_OK);
    assert_int_equal(swb_body_bool(&deep, "y", &y), SWB_OK);
    assert_int_equal(y, 0);
    /* Errors in a sub-reader name the whole path and land in the reader that was opened. */
    assert_int_equal(swb_body_i64(&deep, "y", &x), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in),
                        "field \"m.deep.y\": expected an integer, got a boolean");
    assert_int_equal(swb_body_error(&in), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&deep), swb_body_errmsg(&in));
    assert_int_equal(swb_body_i64(&m, "z", &x), SWB_E_MISSING_FIELD);
    assert_string_equal(swb_body_errmsg(&in), "field \"m.z\": missing");
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_arrays_read_by_index(void **state)
{
    pk_t p;
    pack_sample(&p);
    swb_body_t in, a, elem;
    int64_t i;
    const char *s;
    size_t n;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_array(&in, "a", &a), SWB_OK);
    assert_int_equal(swb_body_count(&a), 3);
    assert_int_equal(swb_body_at_type(&a, 0), SWB_BODY_INT);
    assert_int_equal(swb_body_at_type(&a, 1), SWB_BODY_STR);
    assert_int_equal(swb_body_at_type(&a, 2), SWB_BODY_MAP);
    assert_int_equal(swb_body_at_type(&a, 3), SWB_BODY_NONE);
    /* Out of order on purpose: the cursor restarts when asked for an earlier element. */
    assert_int_equal(swb_body_at_str(&a, 1, &s, &n), SWB_OK);
    assert_memory_equal(s, "two", 3);
    assert_int_equal(swb_body_at_i64(&a, 0, &i), SWB_OK);
    assert_int_equal(i, 1);
    assert_int_equal(swb_body_at_map(&a, 2, &elem), SWB_OK);
    assert_int_equal(swb_body_i64(&elem, "k", &i), SWB_OK);
    assert_int_equal(i, 3);
    assert_int_equal(swb_body_error(&in), SWB_OK);

    assert_int_equal(swb_body_i64(&elem, "q", &i), SWB_E_MISSING_FIELD);
    assert_string_equal(swb_body_errmsg(&in), "field \"a[2].q\": missing");
    assert_int_equal(swb_body_at_i64(&a, 1, &i), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "field \"a[1]\": expected an integer, got a string");
    assert_int_equal(swb_body_at_i64(&a, 3, &i), SWB_E_MISSING_FIELD);
    assert_string_equal(swb_body_errmsg(&in), "field \"a[3]\": missing (the array has 3 elements)");
    /* Keys and indexes do not mix. */
    assert_int_equal(swb_body_i64(&a, "k", &i), SWB_E_INVALID);
    assert_int_equal(swb_body_at_i64(&in, 0, &i), SWB_E_INVALID);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_long_array_reads_in_order(void **state)
{
    enum { N = 200000 };
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 1);
    pk_str(&p, "v");
    msgpack_pack_array(&p.pk, N);
    for (int k = 0; k < N; k++)
        msgpack_pack_int(&p.pk, k);
    swb_body_t in, a;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_array(&in, "v", &a), SWB_OK);
    assert_int_equal(swb_body_count(&a), N);
    int64_t sum = 0;
    for (uint32_t k = 0; k < N; k++) { /* quadratic would take minutes */
        int64_t v;
        assert_int_equal(swb_body_at_i64(&a, k, &v), SWB_OK);
        sum += v;
    }
    assert_true(sum == (int64_t)N * (N - 1) / 2);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_first_of_equal_keys_counts_and_other_keys_are_skipped(void **state)
{
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 5);
    msgpack_pack_int(&p.pk, 1); /* integer key */
    pk_str(&p, "ignored");
    msgpack_pack_array(&p.pk, 1); /* array key holding "a" */
    pk_str(&p, "a");
    msgpack_pack_int(&p.pk, 99);
    msgpack_pack_bin_with_body(&p.pk, "a", 1); /* bin "a" is not the key "a" */
    msgpack_pack_int(&p.pk, 98);
    pk_str(&p, "a");
    msgpack_pack_int(&p.pk, 1);
    pk_str(&p, "a");
    msgpack_pack_int(&p.pk, 2);
    swb_body_t in;
    int64_t a;
    assert_int_equal(swb_body_open(&in, p.sb.data, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_i64(&in, "a", &a), SWB_OK);
    assert_int_equal(a, 1);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_body_that_is_not_a_map_reads_as_empty(void **state)
{
    static const unsigned char arr[] = {0x92, 0x01, 0x02};
    swb_body_t in;
    int64_t i;
    assert_int_equal(swb_body_open(&in, arr, sizeof arr), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "body: expected a map, got an array");
    assert_int_equal(swb_body_count(&in), 0);
    assert_false(swb_body_has(&in, "a"));
    assert_int_equal(swb_body_i64(&in, "a", &i), SWB_E_MISSING_FIELD);
    static const unsigned char str[] = {0xa2, 'h', 'i'};
    assert_int_equal(swb_body_open(&in, str, sizeof str), SWB_E_BAD_TYPE);
    assert_string_equal(swb_body_errmsg(&in), "body: expected a map, got a string");
    static const unsigned char empty_map[] = {0x80};
    assert_int_equal(swb_body_open(&in, empty_map, 1), SWB_OK);
    assert_int_equal(swb_body_count(&in), 0);
}

static void test_size_limit_is_checked_before_decoding(void **state)
{
    size_t len = SWB_BODY_MAX_LEN + 1;
    unsigned char *big = calloc(1, len); /* not msgpack at all: refused on size alone */
    assert_non_null(big);
    swb_body_t in;
    assert_int_equal(swb_body_open(&in, big, len), SWB_E_TOO_LARGE);
    assert_string_equal(swb_body_errmsg(&in), "body: 1048577 bytes, over the limit of 1048576");
    free(big);

    /* A map of one 100-byte string: 1 + 2 + 2 + 100 bytes. */
    pk_t p;
    pk_init(&p);
    msgpack_pack_map(&p.pk, 1);
    pk_str(&p, "s");
    char s[101];
    memset(s, 'x', 100);
    s[100] = '\0';
    pk_str(&p, s);
    assert_int_equal(swb_body_open_max(&in, p.sb.data, p.sb.size, p.sb.size - 1), SWB_E_TOO_LARGE);
    assert_int_equal(swb_body_open_max(&in, p.sb.data, p.sb.size, p.sb.size), SWB_OK);
    assert_int_equal(swb_body_open_max(&in, p.sb.data, p.sb.size, SIZE_MAX), SWB_OK);
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_every_truncation_is_refused(void **state)
{
    pk_t p;
    pack_sample(&p);
    for (size_t len = 0; len < p.sb.size; len++) {
        /* A copy of exactly len bytes, so a read past them shows under ASan. */
        unsigned char *cut = malloc(len ? len : 1);
        assert_non_null(cut);
        memcpy(cut, p.sb.data, len);
        swb_body_t in;
        int64_t i;
        assert_int_equal(swb_body_open(&in, cut, len), SWB_E_TRUNCATED);
        assert_string_equal(swb_body_errmsg(&in), len ? "body: msgpack cut short" : "body: empty");
        assert_int_equal(swb_body_i64(&in, "i", &i), SWB_E_MISSING_FIELD);
        free(cut);
    }
    msgpack_sbuffer_destroy(&p.sb);
}

static void test_hostile_counts_and_bytes_are_refused(void **state)
{
    /* {"a": [ 4 G elements ]}, {"a": "<4 GB>"} and a map of 4 G entries, in a few bytes. */
    static const unsigned char arr_bomb[] = {0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff};
    static const unsigned char str_bomb[] = {0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff};
    static const unsigned char map_bomb[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a', 0x01};
    static const unsigned char reserved[] = {0x81, 0xa1, 'a', 0xc1};
    static const unsigned char trailing[] = {0x80, 0x01};
    swb_body_t in;
    assert_int_equal(swb_body_open(&in, arr_bomb, sizeof arr_bomb), SWB_E_TRUNCATED);
    assert_int_equal(swb_body_open(&in, str_bomb, sizeof str_bomb), SWB_E_TRUNCATED);
    assert_int_equal(swb_body_open(&in, map_bomb, sizeof map_bomb), SWB_E_TRUNCATED);
    assert_int_equal(swb_body_open(&in, reserved, sizeof reserved), SWB_E_MALFORMED);
    assert_string_equal(swb_body_errmsg(&in), "body: not msgpack");
    assert_int_equal(swb_body_open(&in, trailing, sizeof trailing), SWB_E_TRAILING);
    assert_string_equal(swb_body_errmsg(&in), "body: bytes left after the msgpack value");
    assert_int_equal(swb_body_open(&in, NULL, 3), SWB_E_INVALID);
    assert_int_equal(swb_body_open(NULL, trailing, 1), SWB_E_INVALID);
}

/* {"v": [[[ ... 1 ... ]]]} with `depth` containers in all, the map included. */
static unsigned char *nested(int depth, size_t *len)
{
    unsigned char *b = malloc((size_t)depth + 3);
    assert_non_null(b);
    b[0] = 0x81;
    b[1] = 0xa1;
    b[2] = 'v';
    memset(b + 3, 0x91, (size_t)depth - 1);
    b[depth + 2] = 0x01;
    *len = (size_t)depth + 3;
    return b;
}

static void test_depth_is_capped_at_32(void **state)
{
    size_t len;
    swb_body_t in, a;
    unsigned char *ok = nested(SWB_BODY_MAX_DEPTH, &len);
    assert_int_equal(swb_body_open(&in, ok, len), SWB_OK);
    assert_int_equal(swb_body_array(&in, "v", &a), SWB_OK);
    free(ok);
    unsigned char *deep = nested(SWB_BODY_MAX_DEPTH + 1, &len);
    assert_int_equal(swb_body_open(&in, deep, len), SWB_E_TOO_LARGE);
    assert_string_equal(swb_body_errmsg(&in), "body: maps and arrays nested deeper than 32 levels");
    free(deep);
}

/* Every getter on every key of the sample, into sub-readers and arrays: on a mutated body
 * whatever passed swb_body_open must be readable without a read outside it (ASan). */
static void read_everything(swb_body_t *b, int depth)
{
    static const char *const keys[] = {"i", "big", "f", "f32",  "t", "s", "b", "n",
                                       "m", "a",   "x", "deep", "y", "k", "zz"};
    int64_t i;
    uint64_t u;
    double d;
    int t;
    const char *s;
    const void *p;
    size_t n;
    char buf[8];
    swb_body_t sub;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        swb_body_has(b, keys[k]);
        swb_body_type(b, keys[k]);
        swb_body_i64(b, keys[k], &i);
        swb_body_u64(b, keys[k], &u);
        swb_body_double(b, keys[k], &d);
        swb_body_bool(b, keys[k], &t);
        swb_body_str(b, keys[k], &s, &n);
        swb_body_strcpy(b, keys[k], buf, sizeof buf);
        swb_body_bin(b, keys[k], &p, &n);
        if (depth < 4 && swb_body_map(b, keys[k], &sub) == 0)
            read_everything(&sub, depth + 1);
        if (depth < 4 && swb_body_array(b, keys[k], &sub) == 0)
            read_everything(&sub, depth + 1);
    }
    for (uint32_t e = 0; e < swb_body_count(b) && e < 8; e++) {
        swb_body_at_type(b, e);
        swb_body_at_i64(b, e, &i);
        swb_body_at_str(b, e, &s, &n);
        if (depth < 4 && swb_body_at_map(b, e, &sub) == 0)
            read_everything(&sub, depth + 1);
    }
}

static void test_mutated_bodies_are_read_safely(void **state)
{
    static const unsigned char subs[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x9f, 0xbf, 0xc1, 0xc4,
                                         0xc6, 0xcf, 0xd3, 0xd8, 0xd9, 0xdb, 0xdd, 0xdf, 0xff};
    pk_t p;
    pack_sample(&p);
    int opened = 0;
    for (size_t pos = 0; pos < p.sb.size; pos++)
        for (size_t k = 0; k < sizeof subs; k++) {
            unsigned char *m = malloc(p.sb.size);
            assert_non_null(m);
            memcpy(m, p.sb.data, p.sb.size);
            m[pos] = subs[k];
            swb_body_t in;
            if (swb_body_open(&in, m, p.sb.size) == SWB_OK)
                opened++;
            read_everything(&in, 0);
            free(m);
        }
    assert_true(opened > 0);
    msgpack_sbuffer_destroy(&p.sb);
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Finish `o` and decode it with msgpack-c into u (caller destroys u). */
static void finish_and_unpack(swb_out_t *o, msgpack_unpacked *u)
{
    const void *body;
    size_t len, off = 0;
    assert_int_equal(swb_out_finish(o, &body, &len), SWB_OK);
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, body, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    assert_int_equal(u->data.type, MSGPACK_OBJECT_MAP);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &m->via.map.ptr[i].val;
    }
    fail_msg("no key %s", key);
    return NULL;
}

static void test_builder_round_trip_of_every_type(void **state)
{
    swb_out_t o;
    swb_out_init(&o);
    assert_int_equal(swb_out_int(&o, "neg", -70000), SWB_OK);
    assert_int_equal(swb_out_uint(&o, "big", UINT64_MAX), SWB_OK);
    assert_int_equal(swb_out_double(&o, "pi", 3.25), SWB_OK);
    assert_int_equal(swb_out_bool(&o, "yes", 1), SWB_OK);
    assert_int_equal(swb_out_bool(&o, "no", 0), SWB_OK);
    assert_int_equal(swb_out_nil(&o, "nothing"), SWB_OK);
    assert_int_equal(swb_out_str(&o, "s", "hello"), SWB_OK);
    assert_int_equal(swb_out_strn(&o, "sn", "a\0b", 3), SWB_OK);
    assert_int_equal(swb_out_bin(&o, "bin", "\x01\x02", 2), SWB_OK);
    assert_int_equal(swb_out_map_begin(&o, "m"), SWB_OK);
    assert_int_equal(swb_out_int(&o, "x", 1), SWB_OK);
    assert_int_equal(swb_out_array_begin(&o, "list"), SWB_OK);
    assert_int_equal(swb_out_int(&o, NULL, 5), SWB_OK);
    assert_int_equal(swb_out_str(&o, NULL, "six"), SWB_OK);
    assert_int_equal(swb_out_map_begin(&o, NULL), SWB_OK);
    assert_int_equal(swb_out_end(&o), SWB_OK);
    assert_int_equal(swb_out_end(&o), SWB_OK);
    assert_int_equal(swb_out_end(&o), SWB_OK);

    msgpack_unpacked u;
    finish_and_unpack(&o, &u);
    const msgpack_object *m = &u.data;
    assert_int_equal(m->via.map.size, 10);
    assert_int_equal(map_get(m, "neg")->via.i64, -70000);
    assert_true(map_get(m, "big")->via.u64 == UINT64_MAX);
    assert_true(map_get(m, "pi")->via.f64 == 3.25);
    assert_int_equal(map_get(m, "yes")->type, MSGPACK_OBJECT_BOOLEAN);
    assert_true(map_get(m, "yes")->via.boolean);
    assert_false(map_get(m, "no")->via.boolean);
    assert_int_equal(map_get(m, "nothing")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(map_get(m, "s")->via.str.size, 5);
    assert_memory_equal(map_get(m, "s")->via.str.ptr, "hello", 5);
    assert_memory_equal(map_get(m, "sn")->via.str.ptr, "a\0b", 3);
    assert_int_equal(map_get(m, "bin")->type, MSGPACK_OBJECT_BIN);
    assert_memory_equal(map_get(m, "bin")->via.bin.ptr, "\x01\x02", 2);
    const msgpack_object *sub = map_get(m, "m");
    assert_int_equal(sub->via.map.size, 2);
    assert_int_equal(map_get(sub, "x")->via.u64, 1);
    const msgpack_object *list = map_get(sub, "list");
    assert_int_equal(list->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(list->via.array.size, 3);
    assert_int_equal(list->via.array.ptr[0].via.u64, 5);
    assert_memory_equal(list->via.array.ptr[1].via.str.ptr, "six", 3);
    assert_int_equal(list->via.array.ptr[2].type, MSGPACK_OBJECT_MAP);
    assert_int_equal(list->via.array.ptr[2].via.map.size, 0);
    msgpack_unpacked_destroy(&u);
    swb_out_free(&o);
}

/* The builder's bytes equal msgpack-c's for the same values, at every size boundary. */
static void test_builder_writes_what_msgpack_c_writes(void **state)
{
    static const int64_t ints[] = {0,
                                   127,
                                   128,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   -1,
                                   -32,
                                   -33,
                                   -128,
                                   -129,
                                   -32768,
                                   -32769,
                                   INT32_MIN,
                                   (int64_t)INT32_MIN - 1,
                                   INT64_MIN,
                                   INT64_MAX,
                                   (int64_t)UINT32_MAX,
                                   (int64_t)UINT32_MAX + 1};
    static const size_t strs[] = {0, 31, 32, 255, 256, 65535, 65536};
    static const uint32_t counts[] = {0, 15, 16, 65535, 65536};
    char *text = malloc(65536);
    assert_non_null(text);
    memset(text, 'z', 65536);

    swb_out_t o;
    pk_t p;
    swb_out_init_max(&o, 4u << 20);
    pk_init(&p);
    size_t entries = sizeof ints / sizeof ints[0] + 2 * (sizeof strs / sizeof strs[0]) +
                     2 * (sizeof counts / sizeof counts[0]) + 1;
    msgpack_pack_map(&p.pk, (uint32_t)entries);
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        char key[16];
        snprintf(key, sizeof key, "i%zu", k);
        swb_out_int(&o, key, ints[k]);
        pk_str(&p, key);
        msgpack_pack_int64(&p.pk, ints[k]);
    }
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) {
        char key[16];
        snprintf(key, sizeof key, "s%zu", k);
        swb_out_strn(&o, key, text, strs[k]);
        pk_str(&p, key);
        msgpack_pack_str_with_body(&p.pk, text, strs[k]);
        snprintf(key, sizeof key, "b%zu", k);
        swb_out_bin(&o, key, text, strs[k]);
        pk_str(&p, key);
        msgpack_pack_bin_with_body(&p.pk, text, strs[k]);
    }
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        char key[16];
        snprintf(key, sizeof key, "a%zu", k);
        swb_out_array_begin(&o, key);
        pk_str(&p, key);
        msgpack_pack_array(&p.pk, counts[k]);
        for (uint32_t e = 0; e < counts[k]; e++) {
            swb_out_nil(&o, NULL);
            msgpack_pack_nil(&p.pk);
        }
        swb_out_end(&o);
        snprintf(key, sizeof key, "m%zu", k);
        swb_out_map_begin(&o, key);
        pk_str(&p, key);
        msgpack_pack_map(&p.pk, counts[k]);
        for (uint32_t e = 0; e < counts[k]; e++) {
            char ek[16];
            snprintf(ek, sizeof ek, "%u", e);
            swb_out_bool(&o, ek, 1);
            pk_str(&p, ek);
            msgpack_pack_true(&p.pk);
        }
        swb_out_end(&o);
    }
    swb_out_double(&o, "d", -0.1);
    pk_str(&p, "d");
    msgpack_pack_double(&p.pk, -0.1);

    const void *body;
    size_t len;
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    assert_int_equal(len, p.sb.size);
    assert_memory_equal(body, p.sb.data, len);
    swb_out_free(&o);
    msgpack_sbuffer_destroy(&p.sb);
    free(text);
}

static void test_builder_small_answers_stay_in_the_struct(void **state)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_int(&o, "sum", 5);
    const void *body;
    size_t len;
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(body, "\x81\xa3sum\x05", 6);
    assert_true((const unsigned char *)body >= (const unsigned char *)&o &&
                (const unsigned char *)body < (const unsigned char *)(&o + 1));
    /* Finishing again gives the same bytes; adding after finishing is refused. */
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    assert_int_equal(len, 6);
    assert_int_equal(swb_out_int(&o, "more", 1), SWB_E_INVALID);
    assert_string_equal(swb_out_errmsg(&o), "the answer is already finished");
    swb_out_free(&o);

    swb_out_init(&o); /* an empty answer is {} */
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    assert_int_equal(len, 1);
    assert_int_equal(*(const unsigned char *)body, 0x80);
    swb_out_free(&o);
}

static void test_builder_refuses_to_grow_past_its_limit(void **state)
{
    char text[300];
    memset(text, 'q', sizeof text);
    swb_out_t o;
    swb_out_init_max(&o, 600);
    assert_int_equal(swb_out_strn(&o, "a", text, sizeof text), SWB_OK); /* moves to the heap */
    assert_int_equal(swb_out_strn(&o, "b", text, sizeof text), SWB_E_TOO_LARGE);
    assert_string_equal(swb_out_errmsg(&o), "answer over its size limit");
    /* The first error sticks: later calls, however small, return it. */
    assert_int_equal(swb_out_int(&o, "c", 1), SWB_E_TOO_LARGE);
    assert_int_equal(swb_out_error(&o), SWB_E_TOO_LARGE);
    const void *body;
    size_t len;
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_E_TOO_LARGE);
    swb_out_free(&o);

    /* The default limit is SWB_BODY_MAX_LEN. */
    char *big = calloc(1, SWB_BODY_MAX_LEN);
    assert_non_null(big);
    swb_out_init(&o);
    assert_int_equal(swb_out_bin(&o, "x", big, SWB_BODY_MAX_LEN), SWB_E_TOO_LARGE);
    swb_out_free(&o);
    swb_out_init(&o);
    assert_int_equal(swb_out_bin(&o, "x", big, SWB_BODY_MAX_LEN - 64), SWB_OK);
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    swb_body_t in; /* and the reader takes what the builder wrote */
    const void *bin;
    size_t n;
    assert_int_equal(swb_body_open(&in, body, len), SWB_OK);
    assert_int_equal(swb_body_bin(&in, "x", &bin, &n), SWB_OK);
    assert_int_equal(n, SWB_BODY_MAX_LEN - 64);
    swb_out_free(&o);
    free(big);
}

static void test_builder_key_rules(void **state)
{
    swb_out_t o;
    swb_out_init(&o);
    assert_int_equal(swb_out_int(&o, NULL, 1), SWB_E_INVALID);
    assert_string_equal(swb_out_errmsg(&o), "a value in a map needs a key");
    swb_out_free(&o);

    swb_out_init(&o);
    assert_int_equal(swb_out_array_begin(&o, "a"), SWB_OK);
    assert_int_equal(swb_out_int(&o, "k", 1), SWB_E_INVALID);
    assert_string_equal(swb_out_errmsg(&o), "a value in an array takes no key");
    swb_out_free(&o);

    swb_out_init(&o);
    assert_int_equal(swb_out_end(&o), SWB_E_INVALID); /* the top map is closed by finish */
    swb_out_free(&o);

    const void *body;
    size_t len;
    swb_out_init(&o);
    assert_int_equal(swb_out_map_begin(&o, "m"), SWB_OK);
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_E_INVALID);
    assert_string_equal(swb_out_errmsg(&o), "a nested map or array is still open");
    swb_out_free(&o);

    swb_out_init(&o);
    assert_int_equal(swb_out_str(&o, "s", NULL), SWB_E_INVALID);
    swb_out_free(&o);
}

static void test_builder_depth_is_capped_at_32(void **state)
{
    swb_out_t o;
    swb_out_init(&o);
    for (int d = 1; d < SWB_BODY_MAX_DEPTH; d++)
        assert_int_equal(swb_out_array_begin(&o, d == 1 ? "v" : NULL), SWB_OK);
    assert_int_equal(swb_out_array_begin(&o, NULL), SWB_E_TOO_LARGE);
    swb_out_free(&o);

    swb_out_init(&o);
    for (int d = 1; d < SWB_BODY_MAX_DEPTH; d++)
        swb_out_array_begin(&o, d == 1 ? "v" : NULL);
    swb_out_int(&o, NULL, 1);
    for (int d = 1; d < SWB_BODY_MAX_DEPTH; d++)
        assert_int_equal(swb_out_end(&o), SWB_OK);
    const void *body;
    size_t len;
    assert_int_equal(swb_out_finish(&o, &body, &len), SWB_OK);
    swb_body_t in; /* as deep as the reader takes */
    assert_int_equal(swb_body_open(&in, body, len), SWB_OK);
    swb_out_free(&o);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reads_every_type),
    cmocka_unit_test(test_has_and_type),
    cmocka_unit_test(test_i64_and_u64_take_every_integer_form),
    cmocka_unit_test(test_i64_past_int64_is_bad_value),
    cmocka_unit_test(test_missing_field_names_it),
    cmocka_unit_test(test_wrong_type_says_what_was_expected_and_got),
    cmocka_unit_test(test_optional_fields_default_on_missing_or_nil_only),
    cmocka_unit_test(test_strcpy_checks_room_and_nul_bytes),
    cmocka_unit_test(test_nested_maps_name_their_path),
    cmocka_unit_test(test_arrays_read_by_index),
    cmocka_unit_test(test_long_array_reads_in_order),
    cmocka_unit_test(test_first_of_equal_keys_counts_and_other_keys_are_skipped),
    cmocka_unit_test(test_body_that_is_not_a_map_reads_as_empty),
    cmocka_unit_test(test_size_limit_is_checked_before_decoding),
    cmocka_unit_test(test_every_truncation_is_refused),
    cmocka_unit_test(test_hostile_counts_and_bytes_are_refused),
    cmocka_unit_test(test_depth_is_capped_at_32),
    cmocka_unit_test(test_mutated_bodies_are_read_safely),
    cmocka_unit_test(test_builder_round_trip_of_every_type),
    cmocka_unit_test(test_builder_writes_what_msgpack_c_writes),
    cmocka_unit_test(test_builder_small_answers_stay_in_the_struct),
    cmocka_unit_test(test_builder_refuses_to_grow_past_its_limit),
    cmocka_unit_test(test_builder_key_rules),
    cmocka_unit_test(test_builder_depth_is_capped_at_32),
};

SWB_TEST_MAIN(tests)
