/*
 * test_proto_decode.c - the header decoder against malformed and hostile input.
 *
 * Each case is crafted byte by byte (a header's bytes are small enough to read in hex) and
 * must come back with its one precise error code. Inputs are decoded from heap copies of
 * exactly their length, so a sanitized build reports any read past the end.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "test_proto_util.h"

/* A message under construction. */
typedef struct {
    uint8_t b[8192];
    size_t n;
} mb_t;

__attribute__((format(printf, 2, 3))) static void mb_hex(mb_t *m, const char *fmt, ...)
{
    char hex[4096];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(hex, sizeof hex, fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < sizeof hex);
    m->n += hex_parse(hex, m->b + m->n, sizeof m->b - m->n);
}

static void mb_fill(mb_t *m, uint8_t byte, size_t count)
{
    assert_true(m->n + count <= sizeof m->b);
    memset(m->b + m->n, byte, count);
    m->n += count;
}

/* A str of `len` bytes of `c` with the smallest header. */
static void mb_str(mb_t *m, size_t len, char c)
{
    if (len <= 31)
        mb_hex(m, "%02x", 0xa0 | (unsigned)len);
    else if (len <= 0xff)
        mb_hex(m, "d9 %02x", (unsigned)len);
    else
        mb_hex(m, "da %04x", (unsigned)len);
    mb_fill(m, (uint8_t)c, len);
}

/* Decodes from a heap copy of exactly m->n bytes. */
static int mb_decode(const mb_t *m)
{
    uint8_t *copy = malloc(m->n ? m->n : 1);
    assert_non_null(copy);
    memcpy(copy, m->b, m->n);
    swb_header_t h;
    int rc = swb_header_decode(copy, m->n, &h);
    free(copy);
    return rc;
}

static int dec(const char *hex)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "%s", hex);
    return mb_decode(&m);
}

/* HEARTBEAT (no required fields) with one more entry: key, then the value in hex. */
static int hb_with(unsigned key, const char *value_hex)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 03 %02x %s", key, value_hex);
    return mb_decode(&m);
}

/* HEARTBEAT with one more entry whose value is a str of `len` bytes of `c`. */
static int hb_with_str(unsigned key, size_t len, char c)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 03 %02x", key);
    mb_str(&m, len, c);
    return mb_decode(&m);
}

static const unsigned name_keys[] = {SWB_F_NAME, SWB_F_TO, SWB_F_FROM, SWB_F_SERVICE, SWB_F_PARENT};
static const unsigned uint_keys[] = {
    SWB_F_ID,       SWB_F_TO_KIND, SWB_F_KIND,      SWB_F_PID,       SWB_F_CAPACITY,
    SWB_F_DEADLINE, SWB_F_ATTEMPT, SWB_F_HB_IVL,    SWB_F_HB_LIVE,   SWB_F_CREDIT,
    SWB_F_LOAD,     SWB_F_COUNT,   SWB_F_MODE,      SWB_F_EVENT,     SWB_F_SIGNAL,
    SWB_F_MAX_MSG,  SWB_F_RESTART, SWB_F_MEM_LIMIT, SWB_F_CPU_LIMIT, SWB_F_BOOT};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_decode_empty_input_is_truncated(void **state)
{
    uint8_t b = 0x80;
    swb_header_t h;
    assert_int_equal(swb_header_decode(&b, 0, &h), SWB_E_TRUNCATED);
    assert_int_equal(swb_header_decode(NULL, 0, &h), SWB_E_TRUNCATED);
}

static void check_every_prefix(const uint8_t *full, size_t n)
{
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, full, len);
        swb_header_t h;
        int rc = swb_header_decode(copy, len, &h);
        free(copy);
        if (rc != SWB_E_TRUNCATED)
            fail_msg("%s cut to %zu of %zu bytes: %s", swb_cmd_name(full[4]), len, n,
                     swb_errname(rc));
    }
}

static void test_decode_every_prefix_is_truncated(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    for (unsigned cmd = 1; cmd <= SWB_CMD_MAX; cmd++) {
        swb_header_t h = example_required((swb_cmd_t)cmd);
        check_every_prefix(buf, check_roundtrip(&h, buf, sizeof buf));
        h = example_full((swb_cmd_t)cmd);
        check_every_prefix(buf, check_roundtrip(&h, buf, sizeof buf));
    }
    /* long strings (str8, str16) and an unknown nested field */
    mb_t m = {.n = 0};
    mb_hex(&m, "86 00 01 01 03 0f");
    mb_str(&m, 1000, 't');
    mb_hex(&m, "03");
    mb_str(&m, 64, 'n');
    mb_hex(&m, "cd 01 00 92 81 01 93 c0 c3 cb 3f f0 00 00 00 00 00 00 c7 02 01 aa bb");
    mb_hex(&m, "02 cf 00 00 00 01 00 00 00 00");
    assert_int_equal(mb_decode(&m), SWB_OK);
    check_every_prefix(m.b, m.n);
}

static void test_decode_over_max_header_is_too_large(void **state)
{
    /* HEARTBEAT plus an unknown key holding a bin16 padded to exactly the limit */
    mb_t m = {.n = 0};
    size_t pad = SWB_MAX_HEADER - 5 - 2 - 3;
    mb_hex(&m, "83 00 01 01 03 cc 80 c5 %04zx", pad);
    mb_fill(&m, 0, pad);
    assert_int_equal(m.n, SWB_MAX_HEADER);
    assert_int_equal(mb_decode(&m), SWB_OK);
    m.n = 0;
    mb_hex(&m, "83 00 01 01 03 cc 80 c5 %04zx", pad + 1);
    mb_fill(&m, 0, pad + 1);
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
}

static void test_decode_non_map_is_malformed(void **state)
{
    static const char *const cases[] = {
        "92 00 01", "01", "a1 61", "c0", "c3", "dc 00 00", "c4 01 00", "cb 00 00 00 00 00 00 00 00",
        "ff",       "c1"};
    for (size_t i = 0; i < N_OF(cases); i++)
        assert_int_equal(dec(cases[i]), SWB_E_MALFORMED);
}

static void test_decode_array32_bomb_is_malformed(void **state)
{
    assert_int_equal(dec("dd ff 00 00 00"), SWB_E_MALFORMED);
}

static void test_decode_map32_bomb_is_truncated(void **state)
{
    assert_int_equal(dec("df ff ff ff ff"), SWB_E_TRUNCATED);
    assert_int_equal(dec("df ff ff ff ff 00 01 01 0d"), SWB_E_TRUNCATED);
    assert_int_equal(dec("de ff ff 00 01 01 0d"), SWB_E_TRUNCATED);
}

static void test_decode_cut_map_header_is_truncated(void **state)
{
    assert_int_equal(dec("de"), SWB_E_TRUNCATED);
    assert_int_equal(dec("de 00"), SWB_E_TRUNCATED);
    assert_int_equal(dec("df 00 00 00"), SWB_E_TRUNCATED);
}

static void test_decode_map16_and_map32_headers_are_accepted(void **state)
{
    assert_int_equal(dec("de 00 02 00 01 01 0d"), SWB_OK);
    assert_int_equal(dec("df 00 00 00 02 00 01 01 0d"), SWB_OK);
}

static void test_decode_too_many_entries_is_too_large(void **state)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "de 00 20 00 01 01 03");
    for (unsigned k = 0; k < SWB_MAX_FIELDS - 2; k++)
        mb_hex(&m, "cc %02x c0", 100 + k);
    assert_int_equal(mb_decode(&m), SWB_OK);
    m.n = 0;
    mb_hex(&m, "de 00 21 00 01 01 03");
    for (unsigned k = 0; k < SWB_MAX_FIELDS - 1; k++)
        mb_hex(&m, "cc %02x c0", 100 + k);
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
}

static void test_decode_without_version_or_cmd_is_missing_field(void **state)
{
    assert_int_equal(dec("80"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("81 00 01"), SWB_E_MISSING_FIELD);
}

static void test_decode_first_key_not_version_is_malformed(void **state)
{
    assert_int_equal(dec("82 01 0d 00 01"), SWB_E_MALFORMED);
    assert_int_equal(dec("82 02 01 00 01"), SWB_E_MALFORMED);
    assert_int_equal(dec("81 01 0d"), SWB_E_MALFORMED);
}

static void test_decode_second_key_not_cmd_is_malformed(void **state)
{
    assert_int_equal(dec("82 00 01 02 05"), SWB_E_MALFORMED);
    assert_int_equal(dec("83 00 01 02 05 01 0d"), SWB_E_MALFORMED);
}

static void test_decode_other_version_is_version_before_anything_else(void **state)
{
    assert_int_equal(dec("82 00 02 01 0d"), SWB_E_VERSION);
    assert_int_equal(dec("82 00 00 01 0d"), SWB_E_VERSION);
    assert_int_equal(dec("82 00 ff 01 0d"), SWB_E_VERSION);
    assert_int_equal(dec("82 00 cf 00 00 00 01 00 00 00 01 01 0d"), SWB_E_VERSION);
    assert_int_equal(dec("81 00 02"), SWB_E_VERSION);
    /* whatever follows a version we do not speak is not looked at */
    assert_int_equal(dec("83 00 02 c1 c1 c1 c1"), SWB_E_VERSION);
    mb_t m = {.n = 0};
    mb_hex(&m, "de 00 28 00 02");
    mb_fill(&m, 0xc1, 2 * 40);
    assert_int_equal(mb_decode(&m), SWB_E_VERSION);
}

static void test_decode_version_in_any_integer_encoding(void **state)
{
    assert_int_equal(dec("82 00 cc 01 01 0d"), SWB_OK);
    assert_int_equal(dec("82 00 cd 00 01 01 0d"), SWB_OK);
    assert_int_equal(dec("82 00 d3 00 00 00 00 00 00 00 01 01 0d"), SWB_OK);
}

static void test_decode_version_not_an_integer_is_bad_type(void **state)
{
    assert_int_equal(dec("82 00 a1 31 01 0d"), SWB_E_BAD_TYPE);
    assert_int_equal(dec("82 00 c0 01 0d"), SWB_E_BAD_TYPE);
    assert_int_equal(dec("82 00 ca 3f 80 00 00 01 0d"), SWB_E_BAD_TYPE);
}

static void test_decode_unknown_cmd_is_unknown_cmd(void **state)
{
    static const char *const cases[] = {"82 00 01 01 00", "82 00 01 01 13", "82 00 01 01 cc ff",
                                        "82 00 01 01 ff", "82 00 01 01 cf ff ff ff ff ff ff ff ff"};
    for (size_t i = 0; i < N_OF(cases); i++)
        assert_int_equal(dec(cases[i]), SWB_E_UNKNOWN_CMD);
    assert_int_equal(dec("82 00 01 01 a3 42 59 45"), SWB_E_BAD_TYPE);
}

/* RELOAD (17) and SCALE (18), the last commands, are known: without their fields they are
 * missing_field, not unknown_command. */
static void test_decode_reload_and_scale_are_known_commands(void **state)
{
    assert_int_equal(dec("82 00 01 01 11"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("83 00 01 01 11 02 04"), SWB_OK);
    assert_int_equal(dec("85 00 01 01 11 02 04 03 a4 65 63 68 6f 1b a3 61 70 70"), SWB_OK);
    assert_int_equal(dec("82 00 01 01 12"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("84 00 01 01 12 02 06 03 a4 65 63 68 6f"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("84 00 01 01 12 02 06 16 04"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("84 00 01 01 12 03 a4 65 63 68 6f 16 04"), SWB_E_MISSING_FIELD);
    mb_t m = {.n = 0};
    mb_hex(&m, "85 00 01 01 12 02 06 03 a4 65 63 68 6f 16 00");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.cmd, SWB_CMD_SCALE);
    assert_int_equal(h.id, 6);
    assert_true(swb_str_eq(h.name, "echo"));
    assert_int_equal(h.count, 0);
    assert_int_equal(dec("82 00 01 01 13"), SWB_E_UNKNOWN_CMD);
}

static void test_decode_supervision_fields(void **state)
{
    /* SPAWN {id: 3, plugin: "echo", count: 2, restart: 1, mem_limit: 512, cpu_limit: 60} */
    mb_t m = {.n = 0};
    mb_hex(&m, "88 00 01 01 0b 02 03 15 a4 65 63 68 6f 16 02 1c 01 1d cd 02 00 1e 3c");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_true(SWB_HAS(&h, SWB_F_RESTART) && SWB_HAS(&h, SWB_F_MEM_LIMIT) &&
                SWB_HAS(&h, SWB_F_CPU_LIMIT));
    assert_int_equal(h.restart, SWB_RESTART_NEVER);
    assert_int_equal(h.mem_limit_mb, 512);
    assert_int_equal(h.cpu_limit_s, 60);
    assert_int_equal(hb_with(SWB_F_MEM_LIMIT, "ce ff ff ff ff"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_CPU_LIMIT, "ce ff ff ff ff"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_MEM_LIMIT, "00"), SWB_OK);
    /* EVENT restart with text and code */
    m.n = 0;
    mb_hex(&m, "86 00 01 01 0f 03 a2 77 31 0e 03 0f a3 61 62 63 18 05");
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.event, SWB_EV_RESTART);
    assert_int_equal(h.code, 3);
    assert_true(swb_str_eq(h.text, "abc"));
}

static void test_decode_trailing_bytes_is_trailing(void **state)
{
    assert_int_equal(dec("82 00 01 01 0d"), SWB_OK);
    assert_int_equal(dec("82 00 01 01 0d 00"), SWB_E_TRAILING);
    assert_int_equal(dec("82 00 01 01 0d 82 00 01 01 0d"), SWB_E_TRAILING);
}

/* The prefix decoder on a heap copy of exactly m->n bytes; *hlen gets the header's length. */
static int mb_decode_prefix(const mb_t *m, swb_header_t *h, size_t *hlen)
{
    uint8_t *copy = malloc(m->n ? m->n : 1);
    assert_non_null(copy);
    memcpy(copy, m->b, m->n);
    int rc = swb_header_decode_prefix(copy, m->n, h, hlen);
    free(copy);
    return rc;
}

static void test_decode_prefix_gives_the_header_length_and_leaves_the_rest(void **state)
{
    mb_t m = {.n = 0};
    swb_header_t h;
    size_t hlen = 99;
    /* TASK {id 7, service "ab"} followed by an inline body that is not even msgpack. */
    mb_hex(&m, "84 00 01 01 06 02 07 0b a2 61 62");
    size_t header = m.n;
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_OK);
    assert_int_equal(hlen, header); /* nothing after the map: no body */
    mb_hex(&m, "c1 c1 ff 00");
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_OK);
    assert_int_equal(hlen, header);
    assert_int_equal(swb_header_decode_prefix(m.b, m.n, &h, &hlen), SWB_OK); /* strings borrow */
    assert_int_equal(h.cmd, SWB_CMD_TASK);
    assert_int_equal(h.id, 7);
    assert_true(swb_str_eq(h.service, "ab"));
    assert_int_equal(mb_decode(&m), SWB_E_TRAILING); /* the strict decoder still says so */

    /* A body longer than any header is fine: only the map is limited. */
    mb_fill(&m, 0xab, SWB_MAX_HEADER + 100);
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_OK);
    assert_int_equal(hlen, header);
}

static void test_decode_prefix_of_the_inline_example_in_protocol_md(void **state)
{
    /* PROTOCOL.md section 2: TASK {id: 7, service: "sum"}, then {"a": 1, "b": 2} inline. */
    mb_t m = {.n = 0};
    mb_hex(&m, "84 00 01 01 06 02 07 0b a3 73 75 6d 82 a1 61 01 a1 62 02");
    swb_header_t h;
    size_t hlen = 0;
    assert_int_equal(m.n, 19);
    assert_int_equal(swb_header_decode_prefix(m.b, m.n, &h, &hlen), SWB_OK);
    assert_int_equal(hlen, 12);
    assert_int_equal(h.cmd, SWB_CMD_TASK);
    assert_int_equal(h.id, 7);
    assert_true(swb_str_eq(h.service, "sum"));
    assert_memory_equal(m.b + hlen,
                        "\x82\xa1"
                        "a"
                        "\x01\xa1"
                        "b"
                        "\x02",
                        7);
}

static void test_decode_prefix_reports_the_errors_of_the_map(void **state)
{
    swb_header_t h;
    size_t hlen = 99;
    mb_t m = {.n = 0};
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_TRUNCATED);
    assert_int_equal(hlen, 0);
    mb_hex(&m, "84 00 01 01 06 02 07 0b"); /* the service's value is missing */
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_TRUNCATED);
    m.n = 0;
    mb_hex(&m, "82 00 01 01 06 c0"); /* a TASK without id and service */
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_MISSING_FIELD);
    assert_int_equal(hlen, 0);
    m.n = 0;
    mb_hex(&m, "82 00 02 01 03 c0");
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_VERSION);
    m.n = 0;
    mb_hex(&m, "93 00 01 01");
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_MALFORMED);

    /* A map that runs past SWB_MAX_HEADER is too large, whatever follows it. */
    size_t pad = SWB_MAX_HEADER - 5 - 2 - 3;
    m.n = 0;
    mb_hex(&m, "83 00 01 01 03 cc 80 c5 %04zx", pad);
    mb_fill(&m, 0, pad);
    mb_fill(&m, 0xc0, 100);
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_OK);
    assert_int_equal(hlen, SWB_MAX_HEADER);
    m.n = 0;
    mb_hex(&m, "83 00 01 01 03 cc 80 c5 %04zx", pad + 1);
    mb_fill(&m, 0, pad + 1);
    mb_fill(&m, 0xc0, 100);
    assert_int_equal(mb_decode_prefix(&m, &h, &hlen), SWB_E_TOO_LARGE);
    assert_int_equal(hlen, 0);
}

static void test_decode_duplicate_key_is_malformed(void **state)
{
    assert_int_equal(dec("84 00 01 01 0d 02 01 02 02"), SWB_E_MALFORMED);
    assert_int_equal(dec("84 00 01 01 0d 02 01 cc 02 02"), SWB_E_MALFORMED);
    assert_int_equal(dec("83 00 01 01 0d 00 01"), SWB_E_MALFORMED);
    assert_int_equal(dec("83 00 01 01 0d 01 0d"), SWB_E_MALFORMED);
    assert_int_equal(dec("84 00 01 01 0d 64 00 64 01"), SWB_E_MALFORMED);
    assert_int_equal(dec("84 00 01 01 0d cd 01 00 c0 cc ff c0"), SWB_OK);
    assert_int_equal(dec("84 00 01 01 0d cd 01 00 c0 cd 01 00 c0"), SWB_E_MALFORMED);
}

static void test_decode_key_not_unsigned_integer_is_malformed(void **state)
{
    static const char *const keys[] = {"a1 32",          "ff", "d0 fe", "c0",      "c2",
                                       "ca 40 00 00 00", "90", "80",    "c4 01 02"};
    for (size_t i = 0; i < N_OF(keys); i++) {
        mb_t m = {.n = 0};
        mb_hex(&m, "83 00 01 01 0d %s 01", keys[i]);
        assert_int_equal(mb_decode(&m), SWB_E_MALFORMED);
    }
    assert_int_equal(dec("82 a1 30 01 01 0d"), SWB_E_MALFORMED);
    assert_int_equal(dec("82 00 01 a1 31 0d"), SWB_E_MALFORMED);
}

static void test_decode_keys_in_signed_encodings_are_accepted(void **state)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 d0 00 01 d1 00 01 0d d2 00 00 00 02 05");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.cmd, SWB_CMD_BYE);
    assert_int_equal(h.id, 5);
}

static void test_decode_fields_in_any_order(void **state)
{
    mb_t m = {.n = 0};
    /* TASK: service, deadline, id (reverse order) */
    mb_hex(&m, "85 00 01 01 06 0b a2 73 31 0c cd 03 e8 02 07");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.id, 7);
    assert_int_equal(h.deadline_ms, 1000);
    assert_true(swb_str_eq(h.service, "s1"));
}

static void test_decode_unknown_keys_of_every_type_are_skipped(void **state)
{
    static const char *const values[] = {"c0",
                                         "c2",
                                         "c3",
                                         "00",
                                         "7f",
                                         "e0",
                                         "cc ff",
                                         "cd ff ff",
                                         "ce ff ff ff ff",
                                         "cf ff ff ff ff ff ff ff ff",
                                         "d0 80",
                                         "d1 80 00",
                                         "d2 80 00 00 00",
                                         "d3 80 00 00 00 00 00 00 00",
                                         "ca 3f 80 00 00",
                                         "cb 3f f0 00 00 00 00 00 00",
                                         "a0",
                                         "a3 61 62 63",
                                         "d9 02 61 62",
                                         "da 00 01 61",
                                         "db 00 00 00 01 61",
                                         "c4 02 aa bb",
                                         "c5 00 01 aa",
                                         "c6 00 00 00 01 aa",
                                         "c7 01 05 aa",
                                         "c8 00 01 05 aa",
                                         "c9 00 00 00 01 05 aa",
                                         "d4 05 aa",
                                         "d5 05 aa bb",
                                         "d6 05 aa bb cc dd",
                                         "d7 05 00 00 00 00 00 00 00 00",
                                         "d8 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
                                         "90",
                                         "80",
                                         "92 01 a1 61",
                                         "82 01 92 02 03 a1 6b c0",
                                         "dc 00 02 01 02",
                                         "dd 00 00 00 01 c0",
                                         "de 00 01 01 02",
                                         "df 00 00 00 01 01 02",
                                         "c7 00 05",
                                         "c4 00"};
    static const char *const keys[] = {
        "20", "7f", "cc 80", "cd ff ff", "ce ff ff ff ff", "cf ff ff ff ff ff ff ff ff"};
    assert_int_equal(SWB_F_COUNT_, 0x20); /* the first key above is the first unknown one */
    for (size_t k = 0; k < N_OF(keys); k++) {
        for (size_t i = 0; i < N_OF(values); i++) {
            mb_t m = {.n = 0};
            /* BYE with the unknown entry between two known ones */
            mb_hex(&m, "85 00 01 01 0d 02 09 %s %s 10 03", keys[k], values[i]);
            swb_header_t h;
            int rc = swb_header_decode(m.b, m.n, &h);
            if (rc != SWB_OK)
                fail_msg("key %s value %s: %s", keys[k], values[i], swb_errname(rc));
            assert_int_equal(h.id, 9);
            assert_int_equal(h.attempt, 3);
            assert_int_equal(h.present, 0x10007u);
        }
    }
}

static void test_decode_deep_nesting_in_unknown_key_is_too_large(void **state)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 0d 64");
    mb_fill(&m, 0x91, 8);
    mb_hex(&m, "00");
    assert_int_equal(mb_decode(&m), SWB_OK);
    m.n = 0;
    mb_hex(&m, "83 00 01 01 0d 64");
    mb_fill(&m, 0x91, 9);
    mb_hex(&m, "00");
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
    /* maps nest too, through keys as well as values; and no stack is spent on depth */
    m.n = 0;
    mb_hex(&m, "83 00 01 01 0d 64");
    mb_fill(&m, 0x81, 4000);
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
}

static void test_decode_bomb_in_unknown_key_is_truncated(void **state)
{
    static const char *const bombs[] = {
        "dd ff 00 00 00", "df ff ff ff ff",    "dc ff ff", "de ff ff", "c6 ff ff ff ff",
        "db ff ff ff ff", "c9 ff ff ff ff 05", "c5 ff ff", "9f",       "8f"};
    for (size_t i = 0; i < N_OF(bombs); i++) {
        mb_t m = {.n = 0};
        mb_hex(&m, "83 00 01 01 0d 64 %s 00 00 00 00", bombs[i]);
        assert_int_equal(mb_decode(&m), SWB_E_TRUNCATED);
    }
}

static void test_decode_reserved_byte_in_unknown_key_is_malformed(void **state)
{
    assert_int_equal(dec("83 00 01 01 0d 64 c1"), SWB_E_MALFORMED);
    assert_int_equal(dec("83 00 01 01 0d 64 92 00 c1"), SWB_E_MALFORMED);
}

static void test_decode_uint_field_accepts_every_integer_encoding(void **state)
{
    static const char *const fives[] = {"05",
                                        "cc 05",
                                        "cd 00 05",
                                        "ce 00 00 00 05",
                                        "cf 00 00 00 00 00 00 00 05",
                                        "d0 05",
                                        "d1 00 05",
                                        "d2 00 00 00 05",
                                        "d3 00 00 00 00 00 00 00 05"};
    for (size_t i = 0; i < N_OF(fives); i++) {
        mb_t m = {.n = 0};
        mb_hex(&m, "83 00 01 01 03 08 %s", fives[i]);
        swb_header_t h;
        assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
        assert_int_equal(h.pid, 5);
    }
}

static void test_decode_uint_out_of_range_is_bad_value(void **state)
{
    for (size_t i = 0; i < N_OF(uint_keys); i++) {
        unsigned k = uint_keys[i];
        assert_int_equal(hb_with(k, "ff"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(k, "d3 80 00 00 00 00 00 00 00"), SWB_E_BAD_VALUE);
        if (k != SWB_F_ID && k != SWB_F_BOOT)
            assert_int_equal(hb_with(k, "cf 00 00 00 01 00 00 00 00"), SWB_E_BAD_VALUE);
    }
    assert_int_equal(hb_with(SWB_F_PID, "ce ff ff ff ff"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_ID, "cf ff ff ff ff ff ff ff ff"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_BOOT, "cf ff ff ff ff ff ff ff ff"), SWB_OK);
}

/* WELCOME's boot id: 64 bits, optional (a broker older than the field sends none). */
static void test_decode_welcome_boot_is_optional_uint64(void **state)
{
    /* WELCOME {name: "c", hb_ivl: 1000, hb_live: 3, max_msg: 65536, boot: 2^64 - 2} */
    mb_t m = {.n = 0};
    mb_hex(&m, "87 00 01 01 02 03 a1 63 11 cd 03 e8 12 03 1a ce 00 01 00 00 1f cf ff ff ff ff ff "
               "ff ff fe");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_true(SWB_HAS(&h, SWB_F_BOOT));
    assert_true(h.boot == UINT64_MAX - 1);
    assert_int_equal(h.max_msg, 65536);
    /* the same without boot: still a WELCOME, the field absent */
    m.n = 0;
    mb_hex(&m, "86 00 01 01 02 03 a1 63 11 cd 03 e8 12 03 1a ce 00 01 00 00");
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_false(SWB_HAS(&h, SWB_F_BOOT));
    assert_true(h.boot == 0);
    /* a boot in any integer encoding, 0 included; negative or not an integer is refused */
    assert_int_equal(hb_with(SWB_F_BOOT, "00"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_BOOT, "d0 05"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_BOOT, "ff"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_BOOT, "a1 31"), SWB_E_BAD_TYPE);
}

static void test_decode_int_field_range_is_int32(void **state)
{
    static const unsigned keys[] = {SWB_F_PRIORITY, SWB_F_CODE};
    for (size_t i = 0; i < N_OF(keys); i++) {
        mb_t m = {.n = 0};
        mb_hex(&m, "83 00 01 01 03 %02x d2 80 00 00 00", keys[i]);
        swb_header_t h;
        assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
        assert_int_equal(keys[i] == SWB_F_CODE ? h.code : h.priority, INT32_MIN);
        assert_int_equal(hb_with(keys[i], "ce 7f ff ff ff"), SWB_OK);
        assert_int_equal(hb_with(keys[i], "d3 ff ff ff ff ff ff ff fe"), SWB_OK);
        assert_int_equal(hb_with(keys[i], "ce 80 00 00 00"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(keys[i], "d3 ff ff ff ff 7f ff ff ff"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(keys[i], "cf ff ff ff ff ff ff ff ff"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(keys[i], "a1 31"), SWB_E_BAD_TYPE);
    }
}

static void test_decode_wrong_type_is_bad_type(void **state)
{
    static const char *const not_int[] = {"c0",       "c2", "c3", "ca 3f 80 00 00", "a1 31",
                                          "c4 01 31", "90", "80", "d4 00 00"};
    static const char *const not_str[] = {
        "c0", "c3", "01", "ff", "c4 01 61", "c5 00 01 61", "91 a1 61", "81 01 02", "d4 00 61"};
    static const char *const not_array[] = {"c0", "01", "a1 61", "c4 01 61", "81 01 a1 61"};
    static const char *const bad_entry[] = {"c0", "01", "c4 01 61", "91 a1 61", "80"};
    for (size_t i = 0; i < N_OF(uint_keys); i++)
        for (size_t j = 0; j < N_OF(not_int); j++)
            assert_int_equal(hb_with(uint_keys[i], not_int[j]), SWB_E_BAD_TYPE);
    for (size_t j = 0; j < N_OF(not_int); j++) {
        assert_int_equal(hb_with(SWB_F_PRIORITY, not_int[j]), SWB_E_BAD_TYPE);
        assert_int_equal(hb_with(SWB_F_CODE, not_int[j]), SWB_E_BAD_TYPE);
    }
    static const unsigned str_keys[] = {SWB_F_NAME,   SWB_F_TO,   SWB_F_FROM,  SWB_F_SERVICE,
                                        SWB_F_PARENT, SWB_F_TEXT, SWB_F_PLUGIN};
    for (size_t i = 0; i < N_OF(str_keys); i++)
        for (size_t j = 0; j < N_OF(not_str); j++)
            assert_int_equal(hb_with(str_keys[i], not_str[j]), SWB_E_BAD_TYPE);
    for (size_t j = 0; j < N_OF(not_array); j++)
        assert_int_equal(hb_with(SWB_F_SERVICES, not_array[j]), SWB_E_BAD_TYPE);
    for (size_t j = 0; j < N_OF(bad_entry); j++) {
        char v[64];
        snprintf(v, sizeof v, "92 a1 61 %s", bad_entry[j]);
        assert_int_equal(hb_with(SWB_F_SERVICES, v), SWB_E_BAD_TYPE);
    }
}

static void test_decode_bad_names_are_rejected(void **state)
{
    for (size_t i = 0; i < N_OF(name_keys); i++) {
        unsigned k = name_keys[i];
        assert_int_equal(hb_with(k, "a0"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(k, "d9 00"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(k, "a3 61 00 62"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with(k, "a1 00"), SWB_E_BAD_VALUE);
        assert_int_equal(hb_with_str(k, SWB_MAX_NAME, 'n'), SWB_OK);
        assert_int_equal(hb_with_str(k, SWB_MAX_NAME + 1, 'n'), SWB_E_TOO_LARGE);
        assert_int_equal(hb_with_str(k, 300, 'n'), SWB_E_TOO_LARGE);
    }
}

static void test_decode_bad_service_entries_are_rejected(void **state)
{
    assert_int_equal(hb_with(SWB_F_SERVICES, "92 a1 61 a0"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_SERVICES, "91 a2 00 61"), SWB_E_BAD_VALUE);
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 03 09 92 a1 61");
    mb_str(&m, SWB_MAX_NAME, 's');
    assert_int_equal(mb_decode(&m), SWB_OK);
    m.n = 0;
    mb_hex(&m, "83 00 01 01 03 09 92 a1 61");
    mb_str(&m, SWB_MAX_NAME + 1, 's');
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
}

static void test_decode_too_many_services_is_too_large(void **state)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 03 09 dc 00 10");
    for (int i = 0; i < SWB_MAX_SERVICES; i++)
        mb_hex(&m, "a1 %02x", 'a' + i);
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.n_services, SWB_MAX_SERVICES);
    assert_true(swb_str_eq(h.services[15], "p"));
    m.n = 0;
    mb_hex(&m, "83 00 01 01 03 09 dc 00 11");
    for (int i = 0; i < SWB_MAX_SERVICES + 1; i++)
        mb_hex(&m, "a1 %02x", 'a' + i);
    assert_int_equal(mb_decode(&m), SWB_E_TOO_LARGE);
    assert_int_equal(hb_with(SWB_F_SERVICES, "90"), SWB_OK);
}

static void test_decode_text_and_plugin_limits(void **state)
{
    assert_int_equal(hb_with_str(SWB_F_TEXT, SWB_MAX_TEXT, 't'), SWB_OK);
    assert_int_equal(hb_with_str(SWB_F_TEXT, SWB_MAX_TEXT + 1, 't'), SWB_E_TOO_LARGE);
    assert_int_equal(hb_with_str(SWB_F_TEXT, 0, 't'), SWB_OK);
    assert_int_equal(hb_with(SWB_F_TEXT, "a3 61 00 62"), SWB_OK);
    assert_int_equal(hb_with_str(SWB_F_PLUGIN, SWB_MAX_TEXT, 'p'), SWB_OK);
    assert_int_equal(hb_with_str(SWB_F_PLUGIN, SWB_MAX_TEXT + 1, 'p'), SWB_E_TOO_LARGE);
    assert_int_equal(hb_with(SWB_F_PLUGIN, "a0"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_PLUGIN, "a3 61 00 62"), SWB_E_BAD_VALUE);
}

static void test_decode_string_longer_than_input_is_truncated(void **state)
{
    assert_int_equal(hb_with(SWB_F_NAME, "d9 c8 61 62"), SWB_E_TRUNCATED);
    assert_int_equal(hb_with(SWB_F_TEXT, "db ff ff ff ff 61"), SWB_E_TRUNCATED);
    assert_int_equal(hb_with(SWB_F_TEXT, "da ff"), SWB_E_TRUNCATED);
    assert_int_equal(hb_with(SWB_F_SERVICES, "dd ff ff ff ff a1 61"), SWB_E_TRUNCATED);
}

static void test_decode_enum_out_of_range_is_bad_value(void **state)
{
    assert_int_equal(hb_with(SWB_F_TO_KIND, "03"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_TO_KIND, "04"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_KIND, "03"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_KIND, "04"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_MODE, "01"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_MODE, "02"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_EVENT, "00"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_EVENT, "01"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "04"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "05"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "06"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "07"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "08"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_EVENT, "09"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_EVENT, "cd 01 01"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_RESTART, "00"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_RESTART, "01"), SWB_OK);
    assert_int_equal(hb_with(SWB_F_RESTART, "02"), SWB_E_BAD_VALUE);
    assert_int_equal(hb_with(SWB_F_RESTART, "cc 80"), SWB_E_BAD_VALUE);
}

static void test_decode_missing_required_field_is_missing_field(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    for (unsigned cmd = 1; cmd <= SWB_CMD_MAX; cmd++) {
        swb_header_t req = example_required((swb_cmd_t)cmd);
        for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
            if (!SWB_HAS(&req, f))
                continue;
            /* encode without `f` by sending it on a command that does not require it */
            swb_header_t h = req;
            h.cmd = SWB_CMD_HEARTBEAT;
            h.present &= ~(1u << f);
            assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_OK);
            buf[4] = (uint8_t)cmd; /* cmd is the 5th byte: 0x8N 00 01 01 <cmd> */
            swb_header_t out;
            int rc = swb_header_decode(buf, n, &out);
            if (rc != SWB_E_MISSING_FIELD)
                fail_msg("%s without field %u: %s", swb_cmd_name(cmd), f, swb_errname(rc));
        }
    }
}

static void test_decode_send_needs_to_for_peer_and_group(void **state)
{
    assert_int_equal(dec("83 00 01 01 04 05 00"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("83 00 01 01 04 05 02"), SWB_E_MISSING_FIELD);
    assert_int_equal(dec("83 00 01 01 04 05 01"), SWB_OK);
    assert_int_equal(dec("83 00 01 01 04 05 03"), SWB_OK);
    assert_int_equal(dec("84 00 01 01 04 05 00 04 a1 77"), SWB_OK);
    assert_int_equal(dec("84 00 01 01 04 04 a1 77 05 02"), SWB_OK);
    assert_int_equal(dec("82 00 01 01 04"), SWB_E_MISSING_FIELD);
}

static void test_decode_strings_borrow_from_the_buffer(void **state)
{
    mb_t m = {.n = 0};
    mb_hex(&m, "83 00 01 01 0e 03 a2 77 31");
    swb_header_t h;
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_E_MISSING_FIELD);
    m.n = 0;
    mb_hex(&m, "84 00 01 01 0f 18 02 03 a2 77 31");
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_ptr_equal(h.name.ptr, (const char *)m.b + 9);
    assert_int_equal(h.name.len, 2);
}

static void test_decode_clears_fields_not_present(void **state)
{
    swb_header_t h;
    memset(&h, 0xa5, sizeof h);
    mb_t m = {.n = 0};
    mb_hex(&m, "82 00 01 01 0d");
    assert_int_equal(swb_header_decode(m.b, m.n, &h), SWB_OK);
    assert_int_equal(h.present, 3);
    assert_int_equal(h.id, 0);
    assert_int_equal(h.n_services, 0);
    assert_null(h.name.ptr);
    assert_int_equal(h.max_msg, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_decode_empty_input_is_truncated),
    cmocka_unit_test(test_decode_every_prefix_is_truncated),
    cmocka_unit_test(test_decode_over_max_header_is_too_large),
    cmocka_unit_test(test_decode_non_map_is_malformed),
    cmocka_unit_test(test_decode_array32_bomb_is_malformed),
    cmocka_unit_test(test_decode_map32_bomb_is_truncated),
    cmocka_unit_test(test_decode_cut_map_header_is_truncated),
    cmocka_unit_test(test_decode_map16_and_map32_headers_are_accepted),
    cmocka_unit_test(test_decode_too_many_entries_is_too_large),
    cmocka_unit_test(test_decode_without_version_or_cmd_is_missing_field),
    cmocka_unit_test(test_decode_first_key_not_version_is_malformed),
    cmocka_unit_test(test_decode_second_key_not_cmd_is_malformed),
    cmocka_unit_test(test_decode_other_version_is_version_before_anything_else),
    cmocka_unit_test(test_decode_version_in_any_integer_encoding),
    cmocka_unit_test(test_decode_version_not_an_integer_is_bad_type),
    cmocka_unit_test(test_decode_unknown_cmd_is_unknown_cmd),
    cmocka_unit_test(test_decode_reload_and_scale_are_known_commands),
    cmocka_unit_test(test_decode_supervision_fields),
    cmocka_unit_test(test_decode_trailing_bytes_is_trailing),
    cmocka_unit_test(test_decode_prefix_gives_the_header_length_and_leaves_the_rest),
    cmocka_unit_test(test_decode_prefix_of_the_inline_example_in_protocol_md),
    cmocka_unit_test(test_decode_prefix_reports_the_errors_of_the_map),
    cmocka_unit_test(test_decode_duplicate_key_is_malformed),
    cmocka_unit_test(test_decode_key_not_unsigned_integer_is_malformed),
    cmocka_unit_test(test_decode_keys_in_signed_encodings_are_accepted),
    cmocka_unit_test(test_decode_fields_in_any_order),
    cmocka_unit_test(test_decode_unknown_keys_of_every_type_are_skipped),
    cmocka_unit_test(test_decode_deep_nesting_in_unknown_key_is_too_large),
    cmocka_unit_test(test_decode_bomb_in_unknown_key_is_truncated),
    cmocka_unit_test(test_decode_reserved_byte_in_unknown_key_is_malformed),
    cmocka_unit_test(test_decode_uint_field_accepts_every_integer_encoding),
    cmocka_unit_test(test_decode_uint_out_of_range_is_bad_value),
    cmocka_unit_test(test_decode_welcome_boot_is_optional_uint64),
    cmocka_unit_test(test_decode_int_field_range_is_int32),
    cmocka_unit_test(test_decode_wrong_type_is_bad_type),
    cmocka_unit_test(test_decode_bad_names_are_rejected),
    cmocka_unit_test(test_decode_bad_service_entries_are_rejected),
    cmocka_unit_test(test_decode_too_many_services_is_too_large),
    cmocka_unit_test(test_decode_text_and_plugin_limits),
    cmocka_unit_test(test_decode_string_longer_than_input_is_truncated),
    cmocka_unit_test(test_decode_enum_out_of_range_is_bad_value),
    cmocka_unit_test(test_decode_missing_required_field_is_missing_field),
    cmocka_unit_test(test_decode_send_needs_to_for_peer_and_group),
    cmocka_unit_test(test_decode_strings_borrow_from_the_buffer),
    cmocka_unit_test(test_decode_clears_fields_not_present),
};

SWB_TEST_MAIN(tests)
