/*
 * A hostile client: a raw ZeroMQ DEALER (no peer library) sends the broker garbage, wrong
 * shapes and oversized frames. Where a reply is possible it must be an ERROR with the precise
 * code (the one the codec gives for those bytes), and afterwards the broker must still serve
 * a normal round trip to an echo child and answer STATS.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness.h"
#include "swb_test.h"

#define MAX_MSG      (64u * 1024) /* this broker's frame limit */
#define N_RANDOM     3000
#define RANDOM_BATCH 100

/* The raw client, file-level so teardown closes it whatever happened. */
static void *raw_ctx, *raw_sock;

static int hostile_setup(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    if (!h || harness_dir(h) != 0) {
        free(h);
        return -1;
    }
    swb_broker_opts_t o = {.max_msg_size = MAX_MSG};
    *state = h;
    if (harness_broker_with(h, &o) != SWB_OK || !(h->parent = harness_client(h, "test-parent")) ||
        !(raw_sock = raw_dealer(&raw_ctx, h->endpoint)))
        return -1; /* cmocka runs the teardown */
    return 0;
}

static int hostile_teardown(void **state)
{
    raw_close(&raw_ctx, &raw_sock);
    return harness_teardown(state);
}

/* The broker still works for well-behaved peers: echo round trip with a process child, and
 * STATS, which has counted the bad input. */
static void assert_broker_serves(harness_t *h, int expect_malformed)
{
    swb_spawn_opts_t o = {.plugin = "echo", .mode = SWB_CHILD_PROCESS};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    harness_echo_ok(h->parent, c.name, "still there?");

    void *stats = NULL;
    size_t slen = 0;
    assert_int_equal(swb_peer_stats(h->parent, &stats, &slen, 5000), SWB_OK);
    int64_t malformed = -1, peers = -1;
    assert_int_equal(unpack_map_int(stats, slen, "malformed", &malformed), 0);
    assert_int_equal(unpack_map_int(stats, slen, "peer_count", &peers), 0);
    free(stats);
    assert_true(peers >= 2); /* us and the echo child */
    if (expect_malformed)
        assert_true(malformed > 0);
}

/* Send the frames and expect one ERROR back with `code`; returns the reply's id. */
static uint64_t expect_error(const void *const *frames, const size_t *lens, size_t n, int code)
{
    assert_int_equal(raw_send_frames(raw_sock, frames, lens, n), 0);
    swb_header_t r;
    unsigned char buf[SWB_MAX_HEADER];
    for (int64_t end = now_ms() + 5000;;) {
        assert_true(now_ms() < end);
        assert_int_equal(raw_recv(raw_sock, &r, buf, sizeof buf, 1000), SWB_OK);
        if (r.cmd == SWB_CMD_HEARTBEAT)
            continue;
        break;
    }
    assert_int_equal(r.cmd, SWB_CMD_ERROR);
    if (r.code != code)
        fail_msg("expected ERROR %s, got %s (%.*s)", swb_errname(code), swb_errname(r.code),
                 (int)r.text.len, r.text.ptr);
    return r.id;
}

static void expect_error1(const void *frame, size_t len, int code)
{
    const void *f[] = {frame};
    size_t l[] = {len};
    expect_error(f, l, 1, code);
}

static size_t encode(const swb_header_t *h, unsigned char *buf)
{
    size_t n = 0;
    assert_int_equal(swb_header_encode(h, buf, SWB_MAX_HEADER, &n), SWB_OK);
    return n;
}

static void test_commands_before_hello_get_not_registered(void **state)
{
    harness_t *h = *state;
    unsigned char buf[SWB_MAX_HEADER];
    swb_header_t q;

    swb_header_init(&q, SWB_CMD_SEND);
    SWB_SET(&q, SWB_F_TO_KIND);
    q.to_kind = SWB_TO_PEER;
    swb_header_set_str(&q, SWB_F_TO, "test-parent");
    SWB_SET(&q, SWB_F_ID);
    q.id = 11;
    size_t n = encode(&q, buf);
    const void *f[] = {buf, "\xa3hey"};
    size_t l[] = {n, 4};
    assert_int_equal(expect_error(f, l, 2, SWB_E_NOT_REGISTERED), 11);

    swb_header_init(&q, SWB_CMD_STATS);
    SWB_SET(&q, SWB_F_ID);
    q.id = 12;
    l[0] = encode(&q, buf);
    assert_int_equal(expect_error(f, l, 1, SWB_E_NOT_REGISTERED), 12);

    swb_header_init(&q, SWB_CMD_SPAWN);
    SWB_SET(&q, SWB_F_ID);
    q.id = 13;
    swb_header_set_str(&q, SWB_F_PLUGIN, "echo");
    SWB_SET(&q, SWB_F_COUNT);
    q.count = 1;
    l[0] = encode(&q, buf);
    assert_int_equal(expect_error(f, l, 1, SWB_E_NOT_REGISTERED), 13);

    /* Nothing of it reached the peer it named. */
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 50, NULL), SWB_E_TIMEOUT);
    assert_broker_serves(h, 0);
}

static void test_unknown_version_gets_version_error(void **state)
{
    /* {0: 99, 1: SEND, 2: 5} and {0: 2, 1: 1}: a later protocol, told "version". */
    expect_error1("\x83\x00\x63\x01\x04\x02\x05", 7, SWB_E_VERSION);
    expect_error1("\x82\x00\x02\x01\x01", 5, SWB_E_VERSION);
    assert_broker_serves(*state, 1);
}

static void test_truncated_and_bomb_headers_get_precise_errors(void **state)
{
    /* A map of two entries that ends after one. */
    expect_error1("\x82\x00\x01", 3, SWB_E_TRUNCATED);
    /* A str8 claiming 200 bytes with 3 there. */
    expect_error1("\x83\x00\x01\x01\x01\x03\xd9\xc8"
                  "abc",
                  11, SWB_E_TRUNCATED);
    /* The array32 bomb: 4 G elements claimed in 5 bytes; not a map, so malformed, and no
     * allocation attempted (ASan would catch one). */
    expect_error1("\xdd\xff\xff\xff\xff", 5, SWB_E_MALFORMED);
    /* The same as a map32: the count cannot fit in what remains. */
    swb_header_t h;
    int want = swb_header_decode("\xdf\xff\xff\xff\xff", 5, &h);
    assert_int_not_equal(want, SWB_OK);
    expect_error1("\xdf\xff\xff\xff\xff", 5, want);
    /* Not msgpack at all. */
    expect_error1("\xc1", 1, SWB_E_MALFORMED);
    assert_broker_serves(*state, 1);
}

static void test_wrong_frame_counts_and_empty_frames_get_errors(void **state)
{
    unsigned char buf[SWB_MAX_HEADER];
    swb_header_t q;
    swb_header_init(&q, SWB_CMD_HEARTBEAT);
    size_t n = encode(&q, buf);

    const void *f3[] = {buf, "\xc0", "\xc0"};
    size_t l3[] = {n, 1, 1};
    expect_error(f3, l3, 3, SWB_E_MALFORMED); /* [header][body][extra] */
    const void *f5[] = {buf, "", "", "", ""};
    size_t l5[] = {n, 0, 0, 0, 0};
    expect_error(f5, l5, 5, SWB_E_MALFORMED);

    expect_error1("", 0, SWB_E_TRUNCATED); /* one empty frame */
    const void *fe[] = {"", ""};
    size_t le[] = {0, 0};
    expect_error(fe, le, 2, SWB_E_TRUNCATED); /* empty header, empty body */
    assert_broker_serves(*state, 1);
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_random_frames_each_get_the_codecs_error(void **state)
{
    uint32_t seed = 0x5eed1234u;
    int sent = 0, checked = 0;
    while (sent < N_RANDOM) {
        int want[RANDOM_BATCH], k = 0;
        while (k < RANDOM_BATCH && sent < N_RANDOM) {
            unsigned char frame[80], body[16];
            size_t len = 1 + xorshift(&seed) % 64, off = 0;
            uint32_t shape = xorshift(&seed) % 3;
            if (shape == 1) { /* a valid preamble, then garbage: exercises the field reader */
                frame[off++] = (unsigned char)(0x80 | (2 + xorshift(&seed) % 14));
                frame[off++] = 0x00;
                frame[off++] = 0x01;
                frame[off++] = 0x01;
                frame[off++] = (unsigned char)(1 + xorshift(&seed) % 16);
            }
            for (; off < len + (shape == 1 ? 5 : 0); off++)
                frame[off] = (unsigned char)xorshift(&seed);
            /* Alone, the frame may be a header with an inline body after it; followed by a
             * body frame, it must be a header and nothing else. */
            swb_header_t h;
            size_t hlen;
            int code = shape == 2 ? swb_header_decode(frame, off, &h)
                                  : swb_header_decode_prefix(frame, off, &h, &hlen);
            if (code == SWB_OK)
                continue; /* a valid header by chance: not what this test is about */
            size_t blen = 1 + xorshift(&seed) % sizeof body;
            for (size_t i = 0; i < blen; i++)
                body[i] = (unsigned char)xorshift(&seed);
            const void *f[] = {frame, body};
            size_t l[] = {off, blen};
            assert_int_equal(raw_send_frames(raw_sock, f, l, shape == 2 ? 2 : 1), 0);
            want[k++] = code;
            sent++;
        }
        /* Replies come back in order on this one connection. */
        for (int i = 0; i < k; i++) {
            swb_header_t r;
            unsigned char buf[SWB_MAX_HEADER];
            int rc;
            do
                rc = raw_recv(raw_sock, &r, buf, sizeof buf, 5000);
            while (rc == SWB_OK && r.cmd == SWB_CMD_HEARTBEAT);
            assert_int_equal(rc, SWB_OK);
            assert_int_equal(r.cmd, SWB_CMD_ERROR);
            if (r.code != want[i])
                fail_msg("random frame %d: expected %s, got %s", checked, swb_errname(want[i]),
                         swb_errname(r.code));
            checked++;
        }
    }
    assert_int_equal(checked, N_RANDOM);
    assert_broker_serves(*state, 1);
}

static void test_frame_over_max_msg_size_is_refused_and_broker_survives(void **state)
{
    harness_t *h = *state;
    size_t big = MAX_MSG + 1;
    unsigned char *junk = calloc(1, big);
    assert_non_null(junk);
    junk[0] = 0xc6; /* whatever it claims, ZeroMQ refuses the frame by size */
    const void *f[] = {junk};
    size_t l[] = {big};
    assert_int_equal(raw_send_frames(raw_sock, f, l, 1), 0);
    free(junk);
    /* ZeroMQ drops the connection; the DEALER reconnects on its own. The client can then be
     * served again: a probe gets its not_registered ERROR with its id. */
    unsigned char buf[SWB_MAX_HEADER];
    swb_header_t q, r;
    swb_header_init(&q, SWB_CMD_STATS);
    SWB_SET(&q, SWB_F_ID);
    int answered = 0;
    for (uint64_t id = 100; !answered && id < 200; id++) {
        q.id = id;
        assert_int_equal(raw_send_header(raw_sock, &q, NULL, 0), 0);
        int64_t end = now_ms() + 100;
        while (!answered && now_ms() < end)
            if (raw_recv(raw_sock, &r, buf, sizeof buf, 50) == SWB_OK && r.cmd == SWB_CMD_ERROR) {
                if (r.code != SWB_E_NOT_REGISTERED)
                    fail_msg("probe %llu: got ERROR %s id %llu (%.*s)", (unsigned long long)id,
                             swb_errname(r.code), (unsigned long long)r.id, (int)r.text.len,
                             r.text.ptr);
                assert_true(r.id >= 100 && r.id <= id);
                answered = 1;
            }
    }
    assert_true(answered);

    /* The peer library refuses, before sending, a body the broker would not take. */
    void *body = calloc(1, big);
    assert_non_null(body);
    assert_int_equal(swb_peer_send(h->parent, "test-parent", body, big), SWB_E_TOO_LARGE);
    free(body);
    assert_broker_serves(h, 0);
}

/* A peer that set a routing id longer than a registry record keeps (32 bytes) is told so at
 * HELLO, with bad_value, whether its name is new or one a peer already holds; nothing
 * overflows, and the broker serves on. */
static void test_hello_with_a_long_routing_id_is_refused(void **state)
{
    harness_t *h = *state;
    void *ctx = zmq_ctx_new();
    assert_non_null(ctx);
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(s);
    char rid[40];
    memset(rid, 'r', sizeof rid);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, sizeof rid), 0);
    assert_int_equal(zmq_connect(s, h->endpoint), 0);
    const char *names[] = {"long-rid", "test-parent"}; /* a new name, and one that is taken */
    for (int i = 0; i < 2; i++) {
        swb_header_t q;
        swb_header_init(&q, SWB_CMD_HELLO);
        SWB_SET(&q, SWB_F_ID);
        q.id = 7 + (uint64_t)i;
        swb_header_set_str(&q, SWB_F_NAME, names[i]);
        SWB_SET(&q, SWB_F_KIND);
        q.kind = SWB_KIND_CLIENT;
        assert_int_equal(raw_send_header(s, &q, NULL, 0), 0);
        swb_header_t r;
        unsigned char buf[SWB_MAX_HEADER];
        assert_int_equal(raw_recv(s, &r, buf, sizeof buf, 5000), SWB_OK);
        assert_int_equal(r.cmd, SWB_CMD_ERROR);
        assert_int_equal(r.code, SWB_E_BAD_VALUE);
        assert_int_equal(r.id, 7 + (uint64_t)i);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    assert_broker_serves(h, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_commands_before_hello_get_not_registered, hostile_setup,
                                    hostile_teardown),
    cmocka_unit_test_setup_teardown(test_unknown_version_gets_version_error, hostile_setup,
                                    hostile_teardown),
    cmocka_unit_test_setup_teardown(test_truncated_and_bomb_headers_get_precise_errors,
                                    hostile_setup, hostile_teardown),
    cmocka_unit_test_setup_teardown(test_wrong_frame_counts_and_empty_frames_get_errors,
                                    hostile_setup, hostile_teardown),
    cmocka_unit_test_setup_teardown(test_random_frames_each_get_the_codecs_error, hostile_setup,
                                    hostile_teardown),
    cmocka_unit_test_setup_teardown(test_hello_with_a_long_routing_id_is_refused, hostile_setup,
                                    hostile_teardown),
    cmocka_unit_test_setup_teardown(test_frame_over_max_msg_size_is_refused_and_broker_survives,
                                    hostile_setup, hostile_teardown),
};

SWB_TEST_MAIN(tests)
