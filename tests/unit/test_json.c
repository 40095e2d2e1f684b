/*
 * test_json.c - the JSON <-> msgpack converter used by `swb send` and `swb stats`.
 *
 * Round trips of every JSON type, the one-way renderings (bin, ext, non-string keys), and
 * hostile msgpack: truncation, counts larger than the input, nesting past the cap.
 */
#include "swb_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "swb_error.h"
#include "swb_json.h"

/* JSON -> msgpack -> compact JSON must give `want`. */
static void assert_round_trip(const char *json, const char *want)
{
    char *mp = NULL, *back = NULL, err[128];
    size_t len = 0;
    assert_int_equal(swb_json_to_msgpack(json, &mp, &len, err, sizeof err), 0);
    assert_non_null(mp);
    assert_int_equal(swb_msgpack_to_json(mp, len, 0, &back), 0);
    assert_string_equal(back, want);
    free(mp);
    free(back);
}

/* Render hand-made msgpack bytes as compact JSON; returns the converter's code. */
static int render(const void *bytes, size_t len, char **out)
{
    *out = NULL;
    return swb_msgpack_to_json(bytes, len, 0, out);
}

static void test_object_round_trips(void **state)
{
    assert_round_trip("{\"a\": 1, \"b\": \"x\"}", "{\"a\":1,\"b\":\"x\"}");
    assert_round_trip("{}", "{}");
}

static void test_array_round_trips(void **state)
{
    assert_round_trip(" [1, 2 ,3] ", "[1,2,3]");
    assert_round_trip("[]", "[]");
}

static void test_string_round_trips_with_escapes_and_unicode(void **state)
{
    assert_round_trip("\"tab\\there \\\"q\\\" \\\\ \\/ \\u0001\"",
                      "\"tab\\there \\\"q\\\" \\\\ / \\u0001\"");
    assert_round_trip("\"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"",
                      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

static void test_string_with_nul_round_trips(void **state)
{
    assert_round_trip("\"a\\u0000b\"", "\"a\\u0000b\"");
}

static void test_int64_limits_round_trip(void **state)
{
    assert_round_trip("[0,-1,127,-32,-33,255,65536]", "[0,-1,127,-32,-33,255,65536]");
    assert_round_trip("[-9223372036854775808,9223372036854775807]",
                      "[-9223372036854775808,9223372036854775807]");
}

static void test_uint64_above_int64_round_trips(void **state)
{
    assert_round_trip("[9223372036854775808,18446744073709551615]",
                      "[9223372036854775808,18446744073709551615]");
}

static void test_integer_beyond_uint64_is_invalid(void **state)
{
    char *mp = NULL, err[128];
    size_t len;
    assert_int_equal(swb_json_to_msgpack("18446744073709551616", &mp, &len, err, sizeof err),
                     SWB_E_INVALID);
    assert_null(mp);
    assert_int_equal(swb_json_to_msgpack("-9223372036854775809", &mp, &len, err, sizeof err),
                     SWB_E_INVALID);
}

static void test_reals_round_trip_and_stay_reals(void **state)
{
    assert_round_trip("[1.5,-0.25,1e300,3.0,0.1,2.5e-8]", "[1.5,-0.25,1e+300,3.0,0.1,2.5e-08]");
}

static void test_true_false_null_round_trip(void **state)
{
    assert_round_trip("[true,false,null]", "[true,false,null]");
    assert_round_trip("null", "null");
}

static void test_nested_round_trips(void **state)
{
    assert_round_trip("{\"a\":{\"b\":[1,{\"c\":[[],{}]}]},\"d\":[[[\"e\"]]]}",
                      "{\"a\":{\"b\":[1,{\"c\":[[],{}]}]},\"d\":[[[\"e\"]]]}");
}

static void test_small_ints_pack_minimally(void **state)
{
    char *mp = NULL;
    size_t len = 0;
    assert_int_equal(swb_json_to_msgpack("{\"a\":1}", &mp, &len, NULL, 0), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(mp,
                        "\x81\xa1"
                        "a\x01",
                        4);
    free(mp);
}

static void test_pretty_output_is_indented(void **state)
{
    char *mp = NULL, *out = NULL;
    size_t len;
    assert_int_equal(swb_json_to_msgpack("{\"a\":[1,2],\"b\":{}}", &mp, &len, NULL, 0), 0);
    assert_int_equal(swb_msgpack_to_json(mp, len, 1, &out), 0);
    assert_string_equal(out, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
    free(mp);
    free(out);
}

static void test_invalid_json_is_invalid_with_position(void **state)
{
    char *mp = NULL, err[128];
    size_t len;
    assert_int_equal(swb_json_to_msgpack("{\"a\":\n  1,}", &mp, &len, err, sizeof err),
                     SWB_E_INVALID);
    assert_null(mp);
    assert_non_null(strstr(err, "line 2 column 5"));
    const char *bad[] = {"",      "   ",      "{",       "[1,]",        "{\"a\" 1}",
                         "{1:2}", "tru",      "01",      "1.",          "-",
                         "1e",    "\"abc",    "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"",
                         "'a'",   "\"a\tb\"", "nan",     "[1 2]",       "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(swb_json_to_msgpack(bad[i], &mp, &len, err, sizeof err), SWB_E_INVALID);
}

static void test_trailing_characters_are_invalid(void **state)
{
    char *mp = NULL, err[128];
    size_t len;
    assert_int_equal(swb_json_to_msgpack("{} {}", &mp, &len, err, sizeof err), SWB_E_INVALID);
    assert_non_null(strstr(err, "trailing"));
}

static void test_invalid_utf8_in_json_is_invalid(void **state)
{
    char *mp = NULL;
    size_t len;
    assert_int_equal(swb_json_to_msgpack("\"\xc3\x28\"", &mp, &len, NULL, 0), SWB_E_INVALID);
    assert_int_equal(swb_json_to_msgpack("\"\xed\xa0\x80\"", &mp, &len, NULL, 0),
                     SWB_E_INVALID); /* encoded surrogate */
    assert_int_equal(swb_json_to_msgpack("\"\xc0\xaf\"", &mp, &len, NULL, 0),
                     SWB_E_INVALID); /* overlong */
}

static char *nested_json(int depth)
{
    char *s = malloc((size_t)depth * 2 + 2);
    for (int i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + 1 + i] = ']';
    }
    s[depth] = '1';
    s[2 * depth + 1] = '\0';
    return s;
}

static void test_json_at_max_depth_round_trips(void **state)
{
    char *json = nested_json(SWB_JSON_MAX_DEPTH);
    assert_round_trip(json, json);
    free(json);
}

static void test_json_too_deep_is_too_large(void **state)
{
    char *json = nested_json(SWB_JSON_MAX_DEPTH + 1), *mp = NULL, err[128];
    size_t len;
    assert_int_equal(swb_json_to_msgpack(json, &mp, &len, err, sizeof err), SWB_E_TOO_LARGE);
    assert_null(mp);
    free(json);
    json = nested_json(100000); /* no stack overflow either */
    assert_int_equal(swb_json_to_msgpack(json, &mp, &len, err, sizeof err), SWB_E_TOO_LARGE);
    free(json);
}

static void test_json_over_size_cap_is_too_large(void **state)
{
    size_t n = (size_t)SWB_JSON_MAX_INPUT + 1;
    char *json = malloc(n + 1), *mp = NULL, err[128];
    size_t len;
    memset(json, ' ', n);
    json[0] = '1';
    json[n] = '\0';
    assert_int_equal(swb_json_to_msgpack(json, &mp, &len, err, sizeof err), SWB_E_TOO_LARGE);
    assert_null(mp);
    free(json);
}

static void test_bin_renders_as_base64(void **state)
{
    char *out;
    assert_int_equal(render("\xc4\x05hello", 7, &out), 0);
    assert_string_equal(out, "\"aGVsbG8=\"");
    free(out);
    assert_int_equal(render("\xc4\x00", 2, &out), 0);
    assert_string_equal(out, "\"\"");
    free(out);
    assert_int_equal(render("\xc4\x04\x00\xff\x10\x80", 6, &out), 0);
    assert_string_equal(out, "\"AP8QgA==\"");
    free(out);
}

static void test_ext_renders_as_tagged_object(void **state)
{
    char *out;
    assert_int_equal(render("\xd4\x07\x2a", 3, &out), 0); /* fixext1 type 7 */
    assert_string_equal(out, "{\"$ext\":7,\"data\":\"Kg==\"}");
    free(out);
    assert_int_equal(render("\xc7\x00\xff", 3, &out), 0); /* ext8 of 0 bytes, type -1 */
    assert_string_equal(out, "{\"$ext\":-1,\"data\":\"\"}");
    free(out);
}

static void test_non_string_map_keys_render_as_strings(void **state)
{
    /* {1: "a", -2: "b", nil: 0, true: 0, [1,2]: 0, bin "hi": 0, "k\"": 0} */
    static const unsigned char mp[] = {0x87, 0x01, 0xa1, 'a',  0xfe, 0xa1, 'b',  0xc0,
                                       0x00, 0xc3, 0x00, 0x92, 0x01, 0x02, 0x00, 0xc4,
                                       0x02, 'h',  'i',  0x00, 0xa2, 'k',  '"',  0x00};
    char *out;
    assert_int_equal(render(mp, sizeof mp, &out), 0);
    assert_string_equal(out, "{\"1\":\"a\",\"-2\":\"b\",\"null\":0,\"true\":0,\"[1,2]\":0,"
                             "\"aGk=\":0,\"k\\\"\":0}");
    free(out);
}

/* {{...{nil: nil}...: nil}: nil}, `depth` maps deep, each the key of the one around it. */
static size_t nested_keys(unsigned char *buf, int depth)
{
    size_t n = 0;
    for (int i = 0; i < depth; i++)
        buf[n++] = 0x81;
    for (int i = 0; i <= depth; i++)
        buf[n++] = 0xc0;
    return n;
}

static void test_map_keys_nested_as_keys_are_escaped_at_every_level(void **state)
{
    unsigned char mp[8];
    char *out;
    assert_int_equal(render(mp, nested_keys(mp, 3), &out), 0);
    assert_string_equal(out, "{\"{\\\"{\\\\\\\"null\\\\\\\":null}\\\":null}\":null}");
    free(out);
}

static void test_json_over_the_output_cap_is_too_large(void **state)
{
    /* Escaping doubles the text at each level: 61 bytes ask for gigabytes of JSON. */
    unsigned char mp[61];
    char *out = NULL;
    assert_int_equal(render(mp, nested_keys(mp, 30), &out), SWB_E_TOO_LARGE);
    assert_null(out);
}

static void test_the_output_cap_leaves_room_for_the_widest_value(void **state)
{
    /* 1000 chains of one-element arrays, five deep, ending in false, at the deepest levels,
     * pretty: about 112 characters a byte (an array of one element at depth 31 is 129 for
     * its one byte), the most a value without arrays or maps as keys can need. */
    enum { N = 1000, OUTER = SWB_JSON_MAX_DEPTH - 6, CHAIN = 6 };
    static unsigned char mp[OUTER + 3 + N * CHAIN];
    memset(mp, 0x91, sizeof mp);
    mp[OUTER] = 0xdc;
    mp[OUTER + 1] = N >> 8;
    mp[OUTER + 2] = N & 0xff;
    for (int i = 0; i < N; i++)
        mp[OUTER + 3 + i * CHAIN + CHAIN - 1] = 0xc2;
    char *out = NULL;
    assert_int_equal(swb_msgpack_to_json(mp, sizeof mp, 1, &out), 0);
    assert_true(strlen(out) > 110 * sizeof mp);
    free(out);
}

static void test_floats_render_shortest(void **state)
{
    char *out;
    /* float32 0.1 and float64 1.0 */
    assert_int_equal(render("\xca\x3d\xcc\xcc\xcd", 5, &out), 0);
    assert_string_equal(out, "0.1");
    free(out);
    assert_int_equal(render("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9, &out), 0);
    assert_string_equal(out, "1.0");
    free(out);
}

static void test_nan_and_infinity_render_as_null(void **state)
{
    char *out;
    assert_int_equal(render("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, &out), 0);
    assert_string_equal(out, "null");
    free(out);
    assert_int_equal(render("\xca\xff\x80\x00\x00", 5, &out), 0);
    assert_string_equal(out, "null");
    free(out);
}

static void test_truncated_msgpack_is_malformed(void **state)
{
    char *mp = NULL, *out = NULL;
    size_t len;
    assert_int_equal(swb_json_to_msgpack("{\"a\":[1,\"xyz\",2.5,18446744073709551615],\"b\":null}",
                                         &mp, &len, NULL, 0),
                     0);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(render(mp, cut, &out), SWB_E_MALFORMED);
        assert_null(out);
    }
    free(mp);
}

static void test_array32_bomb_is_malformed(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\xdd\xff\xff\xff\xff", 5, &out), SWB_E_MALFORMED);
    assert_null(out);
    assert_int_equal(render("\xdd\x00\x00\x00\x03\x01\x02", 7, &out), SWB_E_MALFORMED);
}

static void test_map32_and_str32_bombs_are_malformed(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\xdf\xff\xff\xff\xff\x01\x01", 7, &out), SWB_E_MALFORMED);
    assert_int_equal(render("\xdb\xff\xff\xff\xff"
                            "abc",
                            8, &out),
                     SWB_E_MALFORMED);
    assert_int_equal(render("\xc9\xff\xff\xff\xff\x01", 6, &out), SWB_E_MALFORMED);
    assert_null(out);
}

static void test_msgpack_too_deep_is_too_large(void **state)
{
    unsigned char buf[SWB_JSON_MAX_DEPTH + 2];
    char *out = NULL;
    memset(buf, 0x91, sizeof buf); /* fixarray of one element, nested */
    buf[SWB_JSON_MAX_DEPTH + 1] = 0x01;
    assert_int_equal(render(buf, sizeof buf, &out), SWB_E_TOO_LARGE);
    assert_null(out);
    /* one level less is fine */
    assert_int_equal(render(buf + 1, sizeof buf - 1, &out), 0);
    free(out);
}

static void test_reserved_type_byte_is_malformed(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\xc1", 1, &out), SWB_E_MALFORMED);
    assert_int_equal(render("\x92\x01\xc1", 3, &out), SWB_E_MALFORMED);
}

static void test_trailing_msgpack_bytes_are_malformed(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\x01\x02", 2, &out), SWB_E_MALFORMED);
    assert_null(out);
}

static void test_empty_msgpack_is_malformed(void **state)
{
    char *out = NULL;
    assert_int_equal(render("", 0, &out), SWB_E_MALFORMED);
    assert_int_equal(render(NULL, 0, &out), SWB_E_MALFORMED);
}

static void test_msgpack_over_size_cap_is_too_large(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\x01", (size_t)SWB_JSON_MAX_INPUT + 1, &out), SWB_E_TOO_LARGE);
}

static void test_msgpack_str_not_utf8_is_invalid(void **state)
{
    char *out = NULL;
    assert_int_equal(render("\xa2\xc3\x28", 3, &out), SWB_E_INVALID);
    assert_null(out);
}

static void test_msgpack_unpack_gives_objects(void **state)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(swb_msgpack_unpack("\x82\xa1x\x01\xa1y\x92\xc3\xc0", 9, &u), 0);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(u.data.via.map.size, 2);
    assert_int_equal(u.data.via.map.ptr[1].val.type, MSGPACK_OBJECT_ARRAY);
    msgpack_unpacked_destroy(&u);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_object_round_trips),
    cmocka_unit_test(test_array_round_trips),
    cmocka_unit_test(test_string_round_trips_with_escapes_and_unicode),
    cmocka_unit_test(test_string_with_nul_round_trips),
    cmocka_unit_test(test_int64_limits_round_trip),
    cmocka_unit_test(test_uint64_above_int64_round_trips),
    cmocka_unit_test(test_integer_beyond_uint64_is_invalid),
    cmocka_unit_test(test_reals_round_trip_and_stay_reals),
    cmocka_unit_test(test_true_false_null_round_trip),
    cmocka_unit_test(test_nested_round_trips),
    cmocka_unit_test(test_small_ints_pack_minimally),
    cmocka_unit_test(test_pretty_output_is_indented),
    cmocka_unit_test(test_invalid_json_is_invalid_with_position),
    cmocka_unit_test(test_trailing_characters_are_invalid),
    cmocka_unit_test(test_invalid_utf8_in_json_is_invalid),
    cmocka_unit_test(test_json_at_max_depth_round_trips),
    cmocka_unit_test(test_json_too_deep_is_too_large),
    cmocka_unit_test(test_json_over_size_cap_is_too_large),
    cmocka_unit_test(test_bin_renders_as_base64),
    cmocka_unit_test(test_ext_renders_as_tagged_object),
    cmocka_unit_test(test_non_string_map_keys_render_as_strings),
    cmocka_unit_test(test_map_keys_nested_as_keys_are_escaped_at_every_level),
    cmocka_unit_test(test_json_over_the_output_cap_is_too_large),
    cmocka_unit_test(test_the_output_cap_leaves_room_for_the_widest_value),
    cmocka_unit_test(test_floats_render_shortest),
    cmocka_unit_test(test_nan_and_infinity_render_as_null),
    cmocka_unit_test(test_truncated_msgpack_is_malformed),
    cmocka_unit_test(test_array32_bomb_is_malformed),
    cmocka_unit_test(test_map32_and_str32_bombs_are_malformed),
    cmocka_unit_test(test_msgpack_too_deep_is_too_large),
    cmocka_unit_test(test_reserved_type_byte_is_malformed),
    cmocka_unit_test(test_trailing_msgpack_bytes_are_malformed),
    cmocka_unit_test(test_empty_msgpack_is_malformed),
    cmocka_unit_test(test_msgpack_over_size_cap_is_too_large),
    cmocka_unit_test(test_msgpack_str_not_utf8_is_invalid),
    cmocka_unit_test(test_msgpack_unpack_gives_objects),
};

SWB_TEST_MAIN(tests)
