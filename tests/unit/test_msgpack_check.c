/*
 * test_msgpack_check.c - swb_msgpack_check and swb_msgpack_unpack (swb_msgpack.h).
 *
 * The check stands between untrusted bodies and msgpack-c, so besides its own verdicts these
 * cases hold it to msgpack-c's: whatever it accepts, msgpack_unpack_next decodes in exactly
 * the same number of bytes, and whatever is cut short msgpack-c also sees as incomplete.
 */
#include "swb_test.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "swb_msgpack.h"

/* A byte string literal and its length without the terminating NUL. */
#define B(s) (s), (sizeof(s) - 1)

static int check(const char *buf, size_t len)
{
    return swb_msgpack_check(buf, len, 0, 0);
}

/* msgpack-c's verdict on buf: SUCCESS with *off == len is full agreement with SWB_OK. */
static msgpack_unpack_return unpack_next(const char *buf, size_t len, size_t *off)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    *off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&u, buf, len, off);
    msgpack_unpacked_destroy(&u);
    return r;
}

/* n nested arrays (n >= 1) around one element: 0x91 * n, then 0x01. Caller frees. */
static char *nested_arrays(int n, size_t *len)
{
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    memset(b, 0x91, (size_t)n);
    b[n] = 0x01;
    *len = (size_t)n + 1;
    return b;
}

/* A sample touching every kind of length field: {"a": [1, -1, 3.5, "xy", bin, ext, nil],
 * "bb": {"c": [true, [false]]}, 300: 70000}. */
static size_t pack_sample(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, -1);
    msgpack_pack_double(&pk, 3.5);
    msgpack_pack_str_with_body(&pk, "xy", 2);
    msgpack_pack_bin_with_body(&pk, "\x00\x01\x02", 3);
    msgpack_pack_ext_with_body(&pk, "\x05\x06\x07", 3, 9);
    msgpack_pack_nil(&pk);
    msgpack_pack_str_with_body(&pk, "bb", 2);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "c", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_true(&pk);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_false(&pk);
    msgpack_pack_uint16(&pk, 300);
    msgpack_pack_uint32(&pk, 70000);
    return sb->size;
}

static void test_accepts_nil_bool_and_every_integer_form(void **state)
{
    assert_int_equal(check(B("\xc0")), SWB_OK);
    assert_int_equal(check(B("\xc2")), SWB_OK);
    assert_int_equal(check(B("\xc3")), SWB_OK);
    assert_int_equal(check(B("\x00")), SWB_OK);
    assert_int_equal(check(B("\x7f")), SWB_OK);
    assert_int_equal(check(B("\xe0")), SWB_OK);
    assert_int_equal(check(B("\xff")), SWB_OK);
    assert_int_equal(check(B("\xcc\xff")), SWB_OK);
    assert_int_equal(check(B("\xcd\xff\xff")), SWB_OK);
    assert_int_equal(check(B("\xce\xff\xff\xff\xff")), SWB_OK);
    assert_int_equal(check(B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")), SWB_OK);
    assert_int_equal(check(B("\xd0\x80")), SWB_OK);
    assert_int_equal(check(B("\xd1\x80\x00")), SWB_OK);
    assert_int_equal(check(B("\xd2\x80\x00\x00\x00")), SWB_OK);
    assert_int_equal(check(B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00")), SWB_OK);
}

static void test_accepts_floats(void **state)
{
    assert_int_equal(check(B("\xca\x40\x49\x0f\xdb")), SWB_OK);
    assert_int_equal(check(B("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18")), SWB_OK);
}

static void test_accepts_str_and_bin_of_every_length_form(void **state)
{
    assert_int_equal(check(B("\xa0")), SWB_OK);
    assert_int_equal(check(B("\xa3"
                             "abc")),
                     SWB_OK);
    assert_int_equal(check(B("\xd9\x02hi")), SWB_OK);
    assert_int_equal(check(B("\xda\x00\x02hi")), SWB_OK);
    assert_int_equal(check(B("\xdb\x00\x00\x00\x02hi")), SWB_OK);
    assert_int_equal(check(B("\xc4\x00")), SWB_OK);
    assert_int_equal(check(B("\xc4\x01\x00")), SWB_OK);
    assert_int_equal(check(B("\xc5\x00\x01\x00")), SWB_OK);
    assert_int_equal(check(B("\xc6\x00\x00\x00\x01\x00")), SWB_OK);
}

static void test_accepts_ext_of_every_length_form(void **state)
{
    assert_int_equal(check(B("\xd4\x01\xaa")), SWB_OK);
    assert_int_equal(check(B("\xd5\x01\xaa\xbb")), SWB_OK);
    assert_int_equal(check(B("\xd6\x01\x00\x00\x00\x00")), SWB_OK);
    assert_int_equal(check(B("\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00")), SWB_OK);
    assert_int_equal(check(B("\xd8\x01"
                             "0123456789abcdef")),
                     SWB_OK);
    assert_int_equal(check(B("\xc7\x00\x01")), SWB_OK);
    assert_int_equal(check(B("\xc7\x02\x01xy")), SWB_OK);
    assert_int_equal(check(B("\xc8\x00\x02\x01xy")), SWB_OK);
    assert_int_equal(check(B("\xc9\x00\x00\x00\x02\x01xy")), SWB_OK);
}

static void test_accepts_arrays_and_maps_of_every_count_form(void **state)
{
    assert_int_equal(check(B("\x90")), SWB_OK);
    assert_int_equal(check(B("\x92\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\xdc\x00\x02\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\xdd\x00\x00\x00\x02\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\xdd\x00\x00\x00\x00")), SWB_OK);
    assert_int_equal(check(B("\x80")), SWB_OK);
    assert_int_equal(check(B("\x81\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\xde\x00\x01\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\xdf\x00\x00\x00\x01\x01\x02")), SWB_OK);
    assert_int_equal(check(B("\x82\x90\x80\xa1k\x91\xc0")), SWB_OK);
}

static void test_accepts_the_nested_sample(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t len = pack_sample(&sb);
    assert_int_equal(check(sb.data, len), SWB_OK);
    msgpack_sbuffer_destroy(&sb);
}

static void test_every_truncation_of_the_nested_sample_is_truncated(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t len = pack_sample(&sb);
    for (size_t cut = 0; cut < len; cut++) {
        /* An exact-size copy, so ASan catches a read past the cut. */
        char *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, sb.data, cut);
        assert_int_equal(check(part, cut), SWB_E_TRUNCATED);
        size_t off;
        assert_int_equal(unpack_next(part, cut, &off), MSGPACK_UNPACK_CONTINUE);
        free(part);
    }
    msgpack_sbuffer_destroy(&sb);
}

static void test_array32_bomb_is_truncated(void **state)
{
    assert_int_equal(check(B("\xdd\xff\xff\xff\xff")), SWB_E_TRUNCATED);
    assert_int_equal(check(B("\xdd\x00\x00\x00\x03\x01\x02")), SWB_E_TRUNCATED);
}

static void test_map32_bomb_is_truncated(void **state)
{
    assert_int_equal(check(B("\xdf\xff\xff\xff\xff\x01\x01")), SWB_E_TRUNCATED);
    /* Two entries need four values; three bytes remain. */
    assert_int_equal(check(B("\xdf\x00\x00\x00\x02\x01\x01\x01")), SWB_E_TRUNCATED);
}

static void test_str32_bomb_is_truncated(void **state)
{
    assert_int_equal(check(B("\xdb\xff\xff\xff\xff"
                             "abc")),
                     SWB_E_TRUNCATED);
}

static void test_bin32_bomb_is_truncated(void **state)
{
    assert_int_equal(check(B("\xc6\xff\xff\xff\xff\x00")), SWB_E_TRUNCATED);
}

static void test_ext32_bomb_is_truncated(void **state)
{
    assert_int_equal(check(B("\xc9\xff\xff\xff\xff\x01")), SWB_E_TRUNCATED);
    /* The type byte counts: length 0 still needs it. */
    assert_int_equal(check(B("\xc9\x00\x00\x00\x00")), SWB_E_TRUNCATED);
}

static void test_bomb_inside_a_container_is_truncated(void **state)
{
    assert_int_equal(check(B("\x92\x01\xdd\xff\xff\xff\xff")), SWB_E_TRUNCATED);
    assert_int_equal(check(B("\x81\xa1k\xdb\xff\xff\xff\xff")), SWB_E_TRUNCATED);
}

static void test_depth_32_is_accepted(void **state)
{
    size_t len;
    char *b = nested_arrays(32, &len);
    assert_int_equal(check(b, len), SWB_OK);
    size_t off;
    assert_int_equal(unpack_next(b, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    free(b);
}

static void test_depth_33_is_too_deep(void **state)
{
    size_t len;
    char *b = nested_arrays(33, &len);
    assert_int_equal(check(b, len), SWB_E_TOO_LARGE);
    size_t off;
    assert_int_not_equal(unpack_next(b, len, &off), MSGPACK_UNPACK_SUCCESS); /* msgpack-c too */
    free(b);
    /* Empty innermost containers and maps count the same. */
    char e[33];
    memset(e, 0x91, 32);
    e[32] = (char)0x90;
    assert_int_equal(check(e, 33), SWB_E_TOO_LARGE);
    char m[34];
    for (int i = 0; i < 33; i++)
        m[i] = i % 2 ? (char)0x91 : (char)0x81;
    m[32] = (char)0x80;
    m[33] = 0x01;
    assert_int_equal(check(m, 34), SWB_E_TOO_LARGE);
}

static void test_max_depth_lowers_the_cap(void **state)
{
    assert_int_equal(swb_msgpack_check(B("\x91\x91\x01"), 0, 2), SWB_OK);
    assert_int_equal(swb_msgpack_check(B("\x91\x91\x91\x01"), 0, 2), SWB_E_TOO_LARGE);
    assert_int_equal(swb_msgpack_check(B("\x91\x01"), 0, 1), SWB_OK);
    assert_int_equal(swb_msgpack_check(B("\x01"), 0, 1), SWB_OK);
}

static void test_max_depth_above_32_is_lowered_to_32(void **state)
{
    size_t len;
    char *b = nested_arrays(33, &len);
    assert_int_equal(swb_msgpack_check(b, len, 0, 1000), SWB_E_TOO_LARGE);
    free(b);
}

static void test_very_deep_input_is_refused_without_recursion(void **state)
{
    size_t len;
    char *b = nested_arrays(1 << 20, &len);
    assert_int_equal(check(b, len), SWB_E_TOO_LARGE);
    free(b);
}

static void test_long_flat_array_is_accepted(void **state)
{
    size_t n = 1 << 20, len = 5 + n;
    char *b = malloc(len);
    assert_non_null(b);
    memcpy(b, "\xdd\x00\x10\x00\x00", 5);
    memset(b + 5, 0x01, n);
    assert_int_equal(check(b, len), SWB_OK);
    free(b);
}

static void test_trailing_bytes_are_reported(void **state)
{
    assert_int_equal(check(B("\x01\x02")), SWB_E_TRAILING);
    assert_int_equal(check(B("\x91\x01\x01")), SWB_E_TRAILING);
    assert_int_equal(check(B("\xa1xy")), SWB_E_TRAILING);
    assert_int_equal(check(B("\xc0\xc1")), SWB_E_TRAILING); /* the value ends first */
}

static void test_reserved_c1_is_malformed(void **state)
{
    assert_int_equal(check(B("\xc1")), SWB_E_MALFORMED);
    assert_int_equal(check(B("\x92\x01\xc1")), SWB_E_MALFORMED);
    assert_int_equal(check(B("\x81\xc1\x01")), SWB_E_MALFORMED);
}

static void test_empty_input_is_truncated(void **state)
{
    assert_int_equal(check("", 0), SWB_E_TRUNCATED);
    assert_int_equal(check(NULL, 0), SWB_E_TRUNCATED);
}

static void test_bad_arguments_are_invalid(void **state)
{
    assert_int_equal(check(NULL, 1), SWB_E_INVALID);
    assert_int_equal(swb_msgpack_check(B("\x01"), 0, -1), SWB_E_INVALID);
    assert_int_equal(swb_msgpack_unpack(B("\x01"), NULL), SWB_E_INVALID);
}

static void test_max_len_caps_the_input(void **state)
{
    assert_int_equal(swb_msgpack_check(B("\xa2hi"), 3, 0), SWB_OK);
    assert_int_equal(swb_msgpack_check(B("\xa2hi"), 2, 0), SWB_E_TOO_LARGE);
    assert_int_equal(swb_msgpack_check(B("\xa2hi"), 0, 0), SWB_OK); /* 0: no cap */
    /* The size is refused before any byte is read. */
    assert_int_equal(swb_msgpack_check(B("\xc1\xc1"), 1, 0), SWB_E_TOO_LARGE);
}

static void test_agrees_with_msgpack_unpack_next_on_valid_values(void **state)
{
    static const struct {
        const char *b;
        size_t n;
    } v[] = {
        {B("\xc0")},
        {B("\xc3")},
        {B("\xe0")},
        {B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff")},
        {B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00")},
        {B("\xca\x40\x49\x0f\xdb")},
        {B("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18")},
        {B("\xa0")},
        {B("\xd9\x02hi")},
        {B("\xdb\x00\x00\x00\x02hi")},
        {B("\xc4\x00")},
        {B("\xc6\x00\x00\x00\x01\x00")},
        {B("\xd4\x01\xaa")},
        {B("\xd8\x01"
           "0123456789abcdef")},
        {B("\xc7\x00\x01")},
        {B("\xc9\x00\x00\x00\x02\x01xy")},
        {B("\x90")},
        {B("\x80")},
        {B("\xdc\x00\x02\x01\x02")},
        {B("\xdf\x00\x00\x00\x01\x01\x02")},
        {B("\x82\x90\x80\xa1k\x91\xc0")},
        {B("\x81\x92\x01\x02\x81\xc3\xc2")},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(check(v[i].b, v[i].n), SWB_OK);
        size_t off;
        assert_int_equal(unpack_next(v[i].b, v[i].n, &off), MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(off, v[i].n);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t len = pack_sample(&sb), off;
    assert_int_equal(unpack_next(sb.data, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    msgpack_sbuffer_destroy(&sb);
}

static void test_unpack_decodes_a_checked_value(void **state)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(swb_msgpack_unpack(B("\x82\xa1x\x01\xa1y\x92\xc3\xc0"), &u), SWB_OK);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(u.data.via.map.size, 2);
    assert_int_equal(u.data.via.map.ptr[1].val.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u.data.via.map.ptr[1].val.via.array.size, 2);
    msgpack_unpacked_destroy(&u);
}

static void test_unpack_returns_the_check_verdict(void **state)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(swb_msgpack_unpack(B("\xdd\xff\xff\xff\xff"), &u), SWB_E_TRUNCATED);
    assert_int_equal(swb_msgpack_unpack(B("\x01\x02"), &u), SWB_E_TRAILING);
    assert_int_equal(swb_msgpack_unpack(B("\xc1"), &u), SWB_E_MALFORMED);
    size_t len;
    char *b = nested_arrays(33, &len);
    assert_int_equal(swb_msgpack_unpack(b, len, &u), SWB_E_TOO_LARGE);
    free(b);
    msgpack_unpacked_destroy(&u);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_accepts_nil_bool_and_every_integer_form),
    cmocka_unit_test(test_accepts_floats),
    cmocka_unit_test(test_accepts_str_and_bin_of_every_length_form),
    cmocka_unit_test(test_accepts_ext_of_every_length_form),
    cmocka_unit_test(test_accepts_arrays_and_maps_of_every_count_form),
    cmocka_unit_test(test_accepts_the_nested_sample),
    cmocka_unit_test(test_every_truncation_of_the_nested_sample_is_truncated),
    cmocka_unit_test(test_array32_bomb_is_truncated),
    cmocka_unit_test(test_map32_bomb_is_truncated),
    cmocka_unit_test(test_str32_bomb_is_truncated),
    cmocka_unit_test(test_bin32_bomb_is_truncated),
    cmocka_unit_test(test_ext32_bomb_is_truncated),
    cmocka_unit_test(test_bomb_inside_a_container_is_truncated),
    cmocka_unit_test(test_depth_32_is_accepted),
    cmocka_unit_test(test_depth_33_is_too_deep),
    cmocka_unit_test(test_max_depth_lowers_the_cap),
    cmocka_unit_test(test_max_depth_above_32_is_lowered_to_32),
    cmocka_unit_test(test_very_deep_input_is_refused_without_recursion),
    cmocka_unit_test(test_long_flat_array_is_accepted),
    cmocka_unit_test(test_trailing_bytes_are_reported),
    cmocka_unit_test(test_reserved_c1_is_malformed),
    cmocka_unit_test(test_empty_input_is_truncated),
    cmocka_unit_test(test_bad_arguments_are_invalid),
    cmocka_unit_test(test_max_len_caps_the_input),
    cmocka_unit_test(test_agrees_with_msgpack_unpack_next_on_valid_values),
    cmocka_unit_test(test_unpack_decodes_a_checked_value),
    cmocka_unit_test(test_unpack_returns_the_check_verdict),
};

SWB_TEST_MAIN(tests)
