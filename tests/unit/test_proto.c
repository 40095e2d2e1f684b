/*
 * test_proto.c - the header codec's round trips and the encoder's rules.
 *
 * Every command is encoded with its required fields only and with every field it may carry,
 * decoded, compared field by field and encoded again to the same bytes. Malformed input is in
 * test_proto_decode.c; the spec's examples and msgpack-c cross-checks in test_proto_spec.c.
 */
#include "test_proto_util.h"

static void roundtrip_cmd(swb_cmd_t cmd)
{
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t req = example_required(cmd);
    swb_header_t full = example_full(cmd);
    check_roundtrip(&req, buf, sizeof buf);
    check_roundtrip(&full, buf, sizeof buf);
}

static void test_roundtrip_hello(void **state)
{
    roundtrip_cmd(SWB_CMD_HELLO);
}

static void test_roundtrip_welcome(void **state)
{
    roundtrip_cmd(SWB_CMD_WELCOME);
}

static void test_roundtrip_heartbeat(void **state)
{
    roundtrip_cmd(SWB_CMD_HEARTBEAT);
}

static void test_roundtrip_send(void **state)
{
    roundtrip_cmd(SWB_CMD_SEND);
}

static void test_roundtrip_deliver(void **state)
{
    roundtrip_cmd(SWB_CMD_DELIVER);
}

static void test_roundtrip_task(void **state)
{
    roundtrip_cmd(SWB_CMD_TASK);
}

static void test_roundtrip_result(void **state)
{
    roundtrip_cmd(SWB_CMD_RESULT);
}

static void test_roundtrip_cancel(void **state)
{
    roundtrip_cmd(SWB_CMD_CANCEL);
}

static void test_roundtrip_credit(void **state)
{
    roundtrip_cmd(SWB_CMD_CREDIT);
}

static void test_roundtrip_stats(void **state)
{
    roundtrip_cmd(SWB_CMD_STATS);
}

static void test_roundtrip_spawn(void **state)
{
    roundtrip_cmd(SWB_CMD_SPAWN);
}

static void test_roundtrip_drain(void **state)
{
    roundtrip_cmd(SWB_CMD_DRAIN);
}

static void test_roundtrip_bye(void **state)
{
    roundtrip_cmd(SWB_CMD_BYE);
}

static void test_roundtrip_error(void **state)
{
    roundtrip_cmd(SWB_CMD_ERROR);
}

static void test_roundtrip_event(void **state)
{
    roundtrip_cmd(SWB_CMD_EVENT);
}

static void test_roundtrip_kill(void **state)
{
    roundtrip_cmd(SWB_CMD_KILL);
}

static void test_roundtrip_reload(void **state)
{
    roundtrip_cmd(SWB_CMD_RELOAD);
}

static void test_roundtrip_scale(void **state)
{
    roundtrip_cmd(SWB_CMD_SCALE);
}

/* The examples really carry what the tests below rely on: every command has one, and each of
 * its required fields is in it. */
static void test_examples_cover_every_command(void **state)
{
    for (unsigned cmd = 1; cmd <= SWB_CMD_MAX; cmd++) {
        swb_header_t req = example_required((swb_cmd_t)cmd);
        swb_header_t full = example_full((swb_cmd_t)cmd);
        assert_int_equal(req.cmd, cmd);
        assert_int_equal(full.present & req.present, req.present);
    }
}

/* SPAWN's supervision fields, RELOAD and SCALE, and EVENT's new values and text, one by one. */
static void test_roundtrip_supervision_fields(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h = example_required(SWB_CMD_SPAWN);
    for (uint32_t r = SWB_RESTART_ON_FAILURE; r <= SWB_RESTART_NEVER; r++) {
        set_uint(&h, SWB_F_RESTART, r);
        check_roundtrip(&h, buf, sizeof buf);
    }
    set_uint(&h, SWB_F_MEM_LIMIT, UINT32_MAX);
    set_uint(&h, SWB_F_CPU_LIMIT, UINT32_MAX);
    check_roundtrip(&h, buf, sizeof buf);
    set_uint(&h, SWB_F_MEM_LIMIT, 0);
    set_uint(&h, SWB_F_CPU_LIMIT, 0);
    check_roundtrip(&h, buf, sizeof buf);

    for (uint32_t ev = SWB_EV_STARTED; ev <= SWB_EV_RELOADED; ev++) {
        h = example_required(SWB_CMD_EVENT);
        set_uint(&h, SWB_F_EVENT, ev);
        check_roundtrip(&h, buf, sizeof buf);
        swb_header_set_str(&h, SWB_F_TEXT, "restart in 200 ms: exit status 3");
        set_uint(&h, SWB_F_CODE, (uint64_t)(int64_t)SWB_E_SPAWN);
        check_roundtrip(&h, buf, sizeof buf);
    }

    /* RELOAD: the group and the parent each alone */
    h = example_required(SWB_CMD_RELOAD);
    swb_header_set_str(&h, SWB_F_NAME, "echo");
    check_roundtrip(&h, buf, sizeof buf);
    h = example_required(SWB_CMD_RELOAD);
    swb_header_set_str(&h, SWB_F_PARENT, "app");
    check_roundtrip(&h, buf, sizeof buf);
    /* SCALE down to nothing is still a SCALE */
    h = example_required(SWB_CMD_SCALE);
    set_uint(&h, SWB_F_COUNT, 0);
    check_roundtrip(&h, buf, sizeof buf);
}

/* HEARTBEAT requires nothing, so any one field can ride on it alone. */
static void test_roundtrip_every_field_alone(void **state)
{
    static const char *const one[] = {"svc"};
    uint8_t buf[SWB_MAX_HEADER];
    for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        switch (f) {
        case SWB_F_NAME:
        case SWB_F_TO:
        case SWB_F_FROM:
        case SWB_F_SERVICE:
        case SWB_F_TEXT:
        case SWB_F_PLUGIN:
        case SWB_F_PARENT:
            swb_header_set_str(&h, (swb_field_t)f, "x");
            break;
        case SWB_F_SERVICES:
            set_services(&h, 1, one);
            break;
        case SWB_F_EVENT:
            set_uint(&h, SWB_F_EVENT, SWB_EV_RELOADED);
            break;
        default:
            set_uint(&h, (swb_field_t)f, 1);
            break;
        }
        size_t n = check_roundtrip(&h, buf, sizeof buf);
        /* map(3) version cmd key value: the field really went on the wire */
        assert_int_equal(buf[0], 0x83);
        assert_int_equal(buf[5], f);
        assert_true(n >= 7);
    }
}

static void test_roundtrip_all_fields_at_once(void **state)
{
    static const char *const svc[] = {"a", "b", "c"};
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HEARTBEAT);
    for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
        switch (f) {
        case SWB_F_NAME:
        case SWB_F_TO:
        case SWB_F_FROM:
        case SWB_F_SERVICE:
        case SWB_F_TEXT:
        case SWB_F_PLUGIN:
        case SWB_F_PARENT:
            swb_header_set_str(&h, (swb_field_t)f, "name");
            break;
        case SWB_F_SERVICES:
            set_services(&h, 3, svc);
            break;
        case SWB_F_EVENT:
            set_uint(&h, SWB_F_EVENT, SWB_EV_STARTED);
            break;
        case SWB_F_TO_KIND:
        case SWB_F_KIND:
        case SWB_F_MODE:
        case SWB_F_RESTART:
            set_uint(&h, (swb_field_t)f, 1);
            break;
        default:
            set_uint(&h, (swb_field_t)f, f);
            break;
        }
    }
    check_roundtrip(&h, buf, sizeof buf);
    /* 32 entries: map16 */
    assert_int_equal(buf[0], 0xde);
    assert_int_equal(buf[1] << 8 | buf[2], SWB_F_COUNT_);
}

static int is_str_field(unsigned f)
{
    switch (f) {
    case SWB_F_NAME:
    case SWB_F_TO:
    case SWB_F_FROM:
    case SWB_F_SERVICE:
    case SWB_F_TEXT:
    case SWB_F_PLUGIN:
    case SWB_F_PARENT:
        return 1;
    default:
        return 0;
    }
}

/* The round-trip checks compare headers with swbt_header_diff; a field it skipped would pass
 * any round trip unseen. */
static void test_header_diff_notices_every_field(void **state)
{
    static const char *const svc[] = {"a"}, *const other[] = {"b"};
    for (unsigned f = SWB_F_VERSION; f < SWB_F_COUNT_; f++) {
        swb_header_t a, b;
        swb_header_init(&a, SWB_CMD_HEARTBEAT);
        if (f == SWB_F_VERSION || f == SWB_F_CMD) {
            b = a;
            if (f == SWB_F_VERSION)
                b.version++;
            else
                b.cmd++;
        } else if (f == SWB_F_SERVICES) {
            set_services(&a, 1, svc);
            b = a;
            set_services(&b, 1, other);
        } else if (is_str_field(f)) {
            swb_header_set_str(&a, (swb_field_t)f, "a");
            b = a;
            swb_header_set_str(&b, (swb_field_t)f, "b");
        } else {
            set_uint(&a, (swb_field_t)f, 1);
            b = a;
            set_uint(&b, (swb_field_t)f, 2);
        }
        assert_int_equal(swbt_header_diff(&a, &a), -1);
        if (swbt_header_diff(&a, &b) != (int)f)
            fail_msg("swbt_header_diff does not compare field %u", f);
    }
}

static void test_roundtrip_integer_limits(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    static const uint64_t u32s[] = {0, 127, 128, 255, 256, 65535, 65536, UINT32_MAX};
    static const int32_t i32s[] = {0,         -1,  -32, -33, -128, -129,  -32768, -32769,
                                   INT32_MIN, 127, 128, 255, 256,  65535, 65536,  INT32_MAX};
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        set_uint(&h, SWB_F_PID, u32s[i]);
        set_uint(&h, SWB_F_MAX_MSG, u32s[i]);
        set_uint(&h, SWB_F_ID, u32s[i] * u32s[i] + u32s[i]);
        check_roundtrip(&h, buf, sizeof buf);
    }
    for (size_t i = 0; i < sizeof i32s / sizeof i32s[0]; i++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        SWB_SET(&h, SWB_F_PRIORITY);
        h.priority = i32s[i];
        SWB_SET(&h, SWB_F_CODE);
        h.code = -(i32s[i] / 2);
        check_roundtrip(&h, buf, sizeof buf);
    }
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_CANCEL);
    set_uint(&h, SWB_F_ID, UINT64_MAX);
    check_roundtrip(&h, buf, sizeof buf);
}

static void test_roundtrip_string_limits(void **state)
{
    static char name[SWB_MAX_NAME + 1], text[SWB_MAX_TEXT + 1], plugin[SWB_MAX_TEXT + 1];
    memset(name, 'n', SWB_MAX_NAME);
    memset(text, 't', SWB_MAX_TEXT);
    memset(plugin, 'p', SWB_MAX_TEXT);
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HEARTBEAT);
    swb_header_set_str(&h, SWB_F_NAME, name);
    swb_header_set_str(&h, SWB_F_TEXT, text);
    swb_header_set_str(&h, SWB_F_PLUGIN, plugin);
    check_roundtrip(&h, buf, sizeof buf);
    swb_header_set_str(&h, SWB_F_TEXT, ""); /* text may be empty */
    check_roundtrip(&h, buf, sizeof buf);
    /* every string length class: fixstr, str8, str16 */
    for (size_t len = 0; len <= SWB_MAX_TEXT; len += len < 40 ? 1 : 37) {
        text[len] = '\0';
        swb_header_set_str(&h, SWB_F_TEXT, text);
        check_roundtrip(&h, buf, sizeof buf);
        text[len] = 't';
    }
}

static void test_roundtrip_max_services(void **state)
{
    static char names[SWB_MAX_SERVICES][SWB_MAX_NAME + 1];
    const char *ptrs[SWB_MAX_SERVICES];
    for (int i = 0; i < SWB_MAX_SERVICES; i++) {
        memset(names[i], 'a' + i, SWB_MAX_NAME);
        ptrs[i] = names[i];
    }
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h = example_full(SWB_CMD_HELLO);
    set_services(&h, SWB_MAX_SERVICES, ptrs);
    check_roundtrip(&h, buf, sizeof buf);
    set_services(&h, 0, ptrs); /* a client serves nothing */
    check_roundtrip(&h, buf, sizeof buf);
}

/* The largest header the rules allow still fits in SWB_MAX_HEADER. */
static void test_roundtrip_largest_header(void **state)
{
    static char name[SWB_MAX_NAME + 1], text[SWB_MAX_TEXT + 1];
    memset(name, 'n', SWB_MAX_NAME);
    memset(text, 't', SWB_MAX_TEXT);
    const char *svc[SWB_MAX_SERVICES];
    for (int i = 0; i < SWB_MAX_SERVICES; i++)
        svc[i] = name;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HEARTBEAT);
    for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
        switch (f) {
        case SWB_F_NAME:
        case SWB_F_TO:
        case SWB_F_FROM:
        case SWB_F_SERVICE:
        case SWB_F_PARENT:
            swb_header_set_str(&h, (swb_field_t)f, name);
            break;
        case SWB_F_TEXT:
        case SWB_F_PLUGIN:
            swb_header_set_str(&h, (swb_field_t)f, text);
            break;
        case SWB_F_SERVICES:
            set_services(&h, SWB_MAX_SERVICES, svc);
            break;
        case SWB_F_TO_KIND:
        case SWB_F_KIND:
            set_uint(&h, (swb_field_t)f, 3);
            break;
        case SWB_F_MODE:
            set_uint(&h, (swb_field_t)f, SWB_SPAWN_THREAD);
            break;
        case SWB_F_RESTART:
            set_uint(&h, (swb_field_t)f, SWB_RESTART_NEVER);
            break;
        case SWB_F_EVENT:
            set_uint(&h, (swb_field_t)f, SWB_EV_RELOADED);
            break;
        case SWB_F_PRIORITY:
        case SWB_F_CODE:
            set_uint(&h, (swb_field_t)f, (uint64_t)INT32_MIN);
            break;
        case SWB_F_ID:
        case SWB_F_BOOT:
            set_uint(&h, (swb_field_t)f, UINT64_MAX);
            break;
        default:
            set_uint(&h, (swb_field_t)f, UINT32_MAX);
            break;
        }
    }
    uint8_t buf[SWB_MAX_HEADER];
    size_t n = check_roundtrip(&h, buf, sizeof buf);
    assert_int_equal(__builtin_popcount(h.present), SWB_F_COUNT_);
    assert_true(n <= SWB_MAX_HEADER);
}

static void test_encode_writes_version_cmd_then_fields_in_key_order(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h = example_full(SWB_CMD_HELLO);
    size_t n = check_roundtrip(&h, buf, sizeof buf);
    /* 9 entries: version 1, cmd HELLO, then id, name, kind, pid, services, capacity, parent */
    uint8_t want[] = {0x89, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03};
    assert_memory_equal(buf, want, sizeof want);
    int last = -1, seen = 0;
    for (size_t i = 1; i < n && seen < 9; seen++) {
        int key = buf[i];
        assert_true(key > last);
        last = key;
        /* skip the value: fixint, fixstr or fixarray of fixstr, uint16 */
        i++;
        uint8_t b = buf[i];
        if (b <= 0x7f)
            i += 1;
        else if (b >= 0xa0 && b <= 0xbf)
            i += 1 + (b & 0x1f);
        else if (b == 0xcd)
            i += 3;
        else if (b >= 0x90 && b <= 0x9f) {
            unsigned items = b & 0x0f;
            i++;
            for (unsigned k = 0; k < items; k++)
                i += 1 + (buf[i] & 0x1f);
        } else
            fail_msg("unexpected byte %02x", b);
    }
    assert_int_equal(seen, 9);
}

static void test_encode_smallest_integer_encodings(void **state)
{
    static const struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {127, "7f"},
        {128, "cc 80"},
        {255, "cc ff"},
        {256, "cd 01 00"},
        {65535, "cd ff ff"},
        {65536, "ce 00 01 00 00"},
        {-1, "ff"},
        {-32, "e0"},
        {-33, "d0 df"},
        {-128, "d0 80"},
        {-129, "d1 ff 7f"},
        {-32768, "d1 80 00"},
        {-32769, "d2 ff ff 7f ff"},
        {INT32_MAX, "ce 7f ff ff ff"},
        {INT32_MIN, "d2 80 00 00 00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        SWB_SET(&h, SWB_F_CODE);
        h.code = (int32_t)cases[i].v;
        uint8_t buf[64], want[16];
        size_t n, wn = hex_parse(cases[i].hex, want, sizeof want);
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_OK);
        assert_int_equal(n, 6 + wn);
        assert_int_equal(buf[5], SWB_F_CODE);
        assert_memory_equal(buf + 6, want, wn);
    }
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HEARTBEAT);
    set_uint(&h, SWB_F_ID, (uint64_t)UINT32_MAX + 1);
    uint8_t buf[64], want[16];
    size_t n, wn = hex_parse("cf 00 00 00 01 00 00 00 00", want, sizeof want);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_OK);
    assert_memory_equal(buf + 6, want, wn);
}

static void test_encode_buffer_too_small_returns_too_large(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    swb_header_t h = example_full(SWB_CMD_HELLO);
    size_t need = check_roundtrip(&h, buf, sizeof buf);
    for (size_t cap = 0; cap < need; cap++) {
        uint8_t *exact = test_malloc(cap ? cap : 1); /* cmocka reports overruns of it */
        size_t n = 99;
        assert_int_equal(swb_header_encode(&h, cap ? exact : NULL, cap, &n), SWB_E_TOO_LARGE);
        assert_int_equal(n, 0);
        test_free(exact);
    }
    size_t n;
    assert_int_equal(swb_header_encode(&h, buf, need, &n), SWB_OK);
    assert_int_equal(n, need);
}

static void test_encode_missing_required_field_returns_missing_field(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    for (unsigned cmd = 1; cmd <= SWB_CMD_MAX; cmd++) {
        swb_header_t req = example_required((swb_cmd_t)cmd);
        for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
            if (!SWB_HAS(&req, f))
                continue;
            swb_header_t h = req;
            h.present &= ~(1u << f);
            assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_MISSING_FIELD);
        }
    }
}

static void test_encode_send_to_peer_or_group_needs_to(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    for (uint32_t k = SWB_TO_PEER; k <= SWB_TO_ALL; k++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_SEND);
        set_uint(&h, SWB_F_TO_KIND, k);
        int want = k == SWB_TO_PEER || k == SWB_TO_GROUP ? SWB_E_MISSING_FIELD : SWB_OK;
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), want);
        swb_header_set_str(&h, SWB_F_TO, "w");
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_OK);
    }
}

static void test_encode_rejects_bad_names(void **state)
{
    static char long_name[SWB_MAX_NAME + 2];
    memset(long_name, 'x', SWB_MAX_NAME + 1);
    static const swb_field_t names[] = {SWB_F_NAME, SWB_F_TO, SWB_F_FROM, SWB_F_SERVICE,
                                        SWB_F_PARENT};
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        swb_header_t h;
        swb_header_init(&h, SWB_CMD_HEARTBEAT);
        swb_header_set_str(&h, names[i], "");
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_BAD_VALUE);
        swb_header_set_str(&h, names[i], long_name);
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_TOO_LARGE);
        SWB_SET(&h, names[i]);
        swb_str_t nul = {"a\0b", 3};
        switch (names[i]) {
        case SWB_F_NAME:
            h.name = nul;
            break;
        case SWB_F_TO:
            h.to = nul;
            break;
        case SWB_F_FROM:
            h.from = nul;
            break;
        case SWB_F_SERVICE:
            h.service = nul;
            break;
        default:
            h.parent = nul;
            break;
        }
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_BAD_VALUE);
    }
}

static void test_encode_rejects_bad_services(void **state)
{
    static char long_name[SWB_MAX_NAME + 2];
    memset(long_name, 'x', SWB_MAX_NAME + 1);
    const char *bad_empty[] = {"ok", ""};
    const char *bad_long[] = {long_name};
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    swb_header_t h = example_full(SWB_CMD_HELLO);
    set_services(&h, 2, bad_empty);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_BAD_VALUE);
    set_services(&h, 1, bad_long);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_TOO_LARGE);
    h.n_services = SWB_MAX_SERVICES + 1;
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_TOO_LARGE);
}

static void test_encode_rejects_long_text_and_plugin(void **state)
{
    static char text[SWB_MAX_TEXT + 2];
    memset(text, 't', SWB_MAX_TEXT + 1);
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    swb_header_t h = example_full(SWB_CMD_ERROR);
    swb_header_set_str(&h, SWB_F_TEXT, text);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_TOO_LARGE);
    h = example_full(SWB_CMD_SPAWN);
    swb_header_set_str(&h, SWB_F_PLUGIN, text);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_TOO_LARGE);
    swb_header_set_str(&h, SWB_F_PLUGIN, "");
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_BAD_VALUE);
}

static void test_encode_rejects_enum_out_of_range(void **state)
{
    static const struct {
        swb_cmd_t cmd;
        swb_field_t f;
        uint32_t bad;
    } cases[] = {
        {SWB_CMD_SEND, SWB_F_TO_KIND, 4},
        {SWB_CMD_HELLO, SWB_F_KIND, 4},
        {SWB_CMD_SPAWN, SWB_F_MODE, 2},
        {SWB_CMD_EVENT, SWB_F_EVENT, 0},
        {SWB_CMD_EVENT, SWB_F_EVENT, 9},
        {SWB_CMD_SPAWN, SWB_F_RESTART, 2},
        {SWB_CMD_SPAWN, SWB_F_RESTART, UINT32_MAX},
    };
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swb_header_t h = example_full(cases[i].cmd);
        set_uint(&h, cases[i].f, cases[i].bad);
        assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_BAD_VALUE);
    }
}

static void test_encode_accepts_every_enum_value(void **state)
{
    static const struct {
        swb_cmd_t cmd;
        swb_field_t f;
        uint32_t lo, hi;
    } cases[] = {
        {SWB_CMD_SEND, SWB_F_TO_KIND, SWB_TO_PEER, SWB_TO_ALL},
        {SWB_CMD_HELLO, SWB_F_KIND, SWB_KIND_CLIENT, SWB_KIND_REMOTE},
        {SWB_CMD_SPAWN, SWB_F_MODE, SWB_SPAWN_PROCESS, SWB_SPAWN_THREAD},
        {SWB_CMD_SPAWN, SWB_F_RESTART, SWB_RESTART_ON_FAILURE, SWB_RESTART_NEVER},
        {SWB_CMD_EVENT, SWB_F_EVENT, SWB_EV_STARTED, SWB_EV_RELOADED},
    };
    uint8_t buf[SWB_MAX_HEADER];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (uint32_t v = cases[i].lo; v <= cases[i].hi; v++) {
            swb_header_t h = example_full(cases[i].cmd);
            set_uint(&h, cases[i].f, v);
            check_roundtrip(&h, buf, sizeof buf);
        }
    }
}

static void test_encode_rejects_other_version_and_unknown_cmd(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_BYE);
    h.version = 2;
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_VERSION);
    swb_header_init(&h, SWB_CMD_BYE);
    h.cmd = 0;
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_UNKNOWN_CMD);
    h.cmd = SWB_CMD_MAX + 1;
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_E_UNKNOWN_CMD);
}

static void test_encode_ignores_present_bits_past_last_field(void **state)
{
    uint8_t buf[SWB_MAX_HEADER];
    size_t n;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_BYE);
    /* With 32 fields every bit is one (boot is the last): then there is nothing to ignore. */
    h.present |= ~(uint32_t)((1ull << SWB_F_COUNT_) - 1);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, &n), SWB_OK);
    assert_int_equal(n, 5);
}

static void test_encode_rejects_null_arguments(void **state)
{
    uint8_t buf[16];
    size_t n;
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_BYE);
    assert_int_equal(swb_header_encode(NULL, buf, sizeof buf, &n), SWB_E_INVALID);
    assert_int_equal(swb_header_encode(&h, buf, sizeof buf, NULL), SWB_E_INVALID);
    assert_int_equal(swb_header_encode(&h, NULL, 16, &n), SWB_E_INVALID);
}

static void test_header_init_sets_version_and_cmd_only(void **state)
{
    swb_header_t h;
    memset(&h, 0xa5, sizeof h);
    swb_header_init(&h, SWB_CMD_TASK);
    assert_int_equal(h.version, SWB_PROTO_VERSION);
    assert_int_equal(h.cmd, SWB_CMD_TASK);
    assert_int_equal(h.present, (1u << SWB_F_VERSION) | (1u << SWB_F_CMD));
    assert_int_equal(h.n_services, 0);
    assert_int_equal(h.id, 0);
}

static void test_header_set_str_sets_and_clears(void **state)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HELLO);
    swb_header_set_str(&h, SWB_F_NAME, "w1");
    assert_true(SWB_HAS(&h, SWB_F_NAME));
    assert_true(swb_str_eq(h.name, "w1"));
    swb_header_set_str(&h, SWB_F_NAME, NULL);
    assert_false(SWB_HAS(&h, SWB_F_NAME));
    assert_int_equal(h.name.len, 0);
    uint32_t before = h.present;
    swb_header_set_str(&h, SWB_F_PID, "not a string field");
    swb_header_set_str(&h, (swb_field_t)SWB_F_COUNT_, "no such field");
    assert_int_equal(h.present, before);
}

static void test_cmd_name_names_every_command(void **state)
{
    static const char *const want[] = {NULL,      "HELLO", "WELCOME", "HEARTBEAT", "SEND",
                                       "DELIVER", "TASK",  "RESULT",  "CANCEL",    "CREDIT",
                                       "STATS",   "SPAWN", "DRAIN",   "BYE",       "ERROR",
                                       "EVENT",   "KILL",  "RELOAD",  "SCALE"};
    _Static_assert(sizeof want / sizeof want[0] == SWB_CMD_MAX + 1, "a name for every command");
    for (uint32_t c = 1; c <= SWB_CMD_MAX; c++)
        assert_string_equal(swb_cmd_name(c), want[c]);
    assert_null(swb_cmd_name(0));
    assert_null(swb_cmd_name(SWB_CMD_MAX + 1));
    assert_null(swb_cmd_name(UINT32_MAX));
}

static void test_str_eq_compares_length_and_bytes(void **state)
{
    swb_str_t s = {"abcdef", 3};
    assert_true(swb_str_eq(s, "abc"));
    assert_false(swb_str_eq(s, "ab"));
    assert_false(swb_str_eq(s, "abcd"));
    assert_false(swb_str_eq(s, "abd"));
    assert_true(swb_str_eq((swb_str_t){NULL, 0}, ""));
    assert_false(swb_str_eq((swb_str_t){NULL, 0}, "a"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_roundtrip_hello),
    cmocka_unit_test(test_roundtrip_welcome),
    cmocka_unit_test(test_roundtrip_heartbeat),
    cmocka_unit_test(test_roundtrip_send),
    cmocka_unit_test(test_roundtrip_deliver),
    cmocka_unit_test(test_roundtrip_task),
    cmocka_unit_test(test_roundtrip_result),
    cmocka_unit_test(test_roundtrip_cancel),
    cmocka_unit_test(test_roundtrip_credit),
    cmocka_unit_test(test_roundtrip_stats),
    cmocka_unit_test(test_roundtrip_spawn),
    cmocka_unit_test(test_roundtrip_drain),
    cmocka_unit_test(test_roundtrip_bye),
    cmocka_unit_test(test_roundtrip_error),
    cmocka_unit_test(test_roundtrip_event),
    cmocka_unit_test(test_roundtrip_kill),
    cmocka_unit_test(test_roundtrip_reload),
    cmocka_unit_test(test_roundtrip_scale),
    cmocka_unit_test(test_examples_cover_every_command),
    cmocka_unit_test(test_roundtrip_supervision_fields),
    cmocka_unit_test(test_roundtrip_every_field_alone),
    cmocka_unit_test(test_roundtrip_all_fields_at_once),
    cmocka_unit_test(test_header_diff_notices_every_field),
    cmocka_unit_test(test_roundtrip_integer_limits),
    cmocka_unit_test(test_roundtrip_string_limits),
    cmocka_unit_test(test_roundtrip_max_services),
    cmocka_unit_test(test_roundtrip_largest_header),
    cmocka_unit_test(test_encode_writes_version_cmd_then_fields_in_key_order),
    cmocka_unit_test(test_encode_smallest_integer_encodings),
    cmocka_unit_test(test_encode_buffer_too_small_returns_too_large),
    cmocka_unit_test(test_encode_missing_required_field_returns_missing_field),
    cmocka_unit_test(test_encode_send_to_peer_or_group_needs_to),
    cmocka_unit_test(test_encode_rejects_bad_names),
    cmocka_unit_test(test_encode_rejects_bad_services),
    cmocka_unit_test(test_encode_rejects_long_text_and_plugin),
    cmocka_unit_test(test_encode_rejects_enum_out_of_range),
    cmocka_unit_test(test_encode_accepts_every_enum_value),
    cmocka_unit_test(test_encode_rejects_other_version_and_unknown_cmd),
    cmocka_unit_test(test_encode_ignores_present_bits_past_last_field),
    cmocka_unit_test(test_encode_rejects_null_arguments),
    cmocka_unit_test(test_header_init_sets_version_and_cmd_only),
    cmocka_unit_test(test_header_set_str_sets_and_clears),
    cmocka_unit_test(test_cmd_name_names_every_command),
    cmocka_unit_test(test_str_eq_compares_length_and_bytes),
};

SWB_TEST_MAIN(tests)
