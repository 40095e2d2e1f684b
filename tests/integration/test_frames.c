/*
 * The two layouts of a message through a real broker (PROTOCOL.md section 2): a small body
 * inline, after the header in one frame; a large or empty one in a frame of its own. Whatever
 * layout a sender picks, receivers get the same bytes; the broker sends small bodies inline
 * and large ones apart; and a header frame with bytes after the map, followed by a body frame,
 * is still an error. Raw DEALER sockets play the peers whose frames the tests must see.
 */
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "harness.h"
#include "swb_test.h"

#define INLINE_MAX 1024 /* the largest body the runtime sends inline (frames.c) */

/* A msgpack bin of exactly `total` bytes (total >= 2), its payload pseudo-random. */
static unsigned char *make_body(size_t total)
{
    unsigned char *b = malloc(total);
    assert_non_null(b);
    size_t head = total <= 257 ? 2 : total <= 65538 ? 3 : 5;
    size_t n = total - head;
    if (head == 2) {
        b[0] = 0xc4;
        b[1] = (unsigned char)n;
    } else if (head == 3) {
        b[0] = 0xc5;
        b[1] = (unsigned char)(n >> 8);
        b[2] = (unsigned char)n;
    } else {
        b[0] = 0xc6;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (unsigned char)(n >> (24 - 8 * i));
    }
    uint32_t x = 2463534242u ^ (uint32_t)total;
    for (size_t i = head; i < total; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (unsigned char)x;
    }
    return b;
}

/* ---- raw peers ------------------------------------------------------------------------ */

typedef struct {
    void *ctx, *sock;
} raw_t;

/* File-level, so that the teardown closes them whatever happened. */
static raw_t a, b2;

static int frames_teardown(void **state)
{
    raw_close(&a.ctx, &a.sock);
    raw_close(&b2.ctx, &b2.sock);
    return harness_teardown(state);
}

static size_t encode(const swb_header_t *h, unsigned char *buf)
{
    size_t n = 0;
    assert_int_equal(swb_header_encode(h, buf, SWB_MAX_HEADER, &n), SWB_OK);
    return n;
}

/* One message: its frames copied into malloc'd buffers, and its header (strings borrowed from
 * f[0]) with the header's length in f[0]. */
typedef struct {
    int n;
    unsigned char *f[4];
    size_t len[4];
    swb_header_t h;
    size_t hlen;
} frames_t;

static void frames_free(frames_t *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->f[i]);
    m->n = 0;
}

/* The next message that is not a HEARTBEAT. */
static void recv_frames(raw_t *r, frames_t *m)
{
    for (int64_t end = now_ms() + 5000;;) {
        assert_true(now_ms() < end);
        zmq_pollitem_t it = {.socket = r->sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 500) <= 0)
            continue;
        m->n = 0;
        int more = 1;
        while (more) {
            zmq_msg_t f;
            zmq_msg_init(&f);
            assert_true(zmq_msg_recv(&f, r->sock, 0) >= 0);
            more = zmq_msg_more(&f);
            assert_true(m->n < 4);
            m->len[m->n] = zmq_msg_size(&f);
            m->f[m->n] = malloc(m->len[m->n] + 1);
            assert_non_null(m->f[m->n]);
            memcpy(m->f[m->n], zmq_msg_data(&f), m->len[m->n]);
            m->n++;
            zmq_msg_close(&f);
        }
        assert_int_equal(swb_header_decode_prefix(m->f[0], m->len[0], &m->h, &m->hlen), SWB_OK);
        if (m->h.cmd != SWB_CMD_HEARTBEAT)
            return;
        frames_free(m);
    }
}

static void raw_join(harness_t *h, raw_t *r, const char *name)
{
    r->sock = raw_dealer(&r->ctx, h->endpoint);
    assert_non_null(r->sock);
    swb_header_t q;
    swb_header_init(&q, SWB_CMD_HELLO);
    swb_header_set_str(&q, SWB_F_NAME, name);
    SWB_SET(&q, SWB_F_KIND);
    q.kind = SWB_KIND_CLIENT;
    assert_int_equal(raw_send_header(r->sock, &q, NULL, 0), 0);
    frames_t m;
    recv_frames(r, &m);
    assert_int_equal(m.h.cmd, SWB_CMD_WELCOME);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.hlen, m.len[0]); /* nothing after the header */
    frames_free(&m);
}

/* A SEND to `to` with `body` inline (after the header, in one frame) or apart. */
static void raw_send_to(raw_t *r, const char *to, const void *body, size_t len, int inl)
{
    swb_header_t q;
    swb_header_init(&q, SWB_CMD_SEND);
    SWB_SET(&q, SWB_F_TO_KIND);
    q.to_kind = SWB_TO_PEER;
    swb_header_set_str(&q, SWB_F_TO, to);
    unsigned char *buf = malloc(SWB_MAX_HEADER + len);
    assert_non_null(buf);
    size_t n = encode(&q, buf);
    if (inl) {
        memcpy(buf + n, body, len);
        const void *f[] = {buf};
        size_t l[] = {n + len};
        assert_int_equal(raw_send_frames(r->sock, f, l, 1), 0);
    } else {
        const void *f[] = {buf, body};
        size_t l[] = {n, len};
        assert_int_equal(raw_send_frames(r->sock, f, l, 2), 0);
    }
    free(buf);
}

/* The next message on `r` must be an ERROR with `code`. */
static void expect_raw_error(raw_t *r, int code)
{
    frames_t m;
    recv_frames(r, &m);
    assert_int_equal(m.h.cmd, SWB_CMD_ERROR);
    if (m.h.code != code)
        fail_msg("expected ERROR %s, got %s (%.*s)", swb_errname(code), swb_errname(m.h.code),
                 (int)m.h.text.len, m.h.text.ptr);
    frames_free(&m);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void task_bodies_come_back_unchanged(harness_t *h, int mode)
{
    swb_spawn_opts_t o = {.plugin = "echo", .mode = mode};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, &c, 1, &n), SWB_OK);
    /* Either side of the inline limit, an empty-payload bin, and several frames' worth. */
    const size_t sizes[] = {2, 100, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1, 5000, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *body = make_body(sizes[i]);
        swb_msg_t r = {0};
        int rc = swb_call(h->parent, "echo", body, sizes[i], 10000, &r);
        if (rc != SWB_OK)
            fail_msg("body of %zu bytes: %s (%s)", sizes[i], swb_errname(rc), r.text);
        assert_int_equal(r.len, sizes[i]);
        assert_memory_equal(r.body, body, sizes[i]);
        swb_msg_close(&r);
        free(body);
    }
}

static void test_task_bodies_either_side_of_the_inline_limit_thread(void **state)
{
    task_bodies_come_back_unchanged(*state, SWB_CHILD_THREAD);
}

static void test_task_bodies_either_side_of_the_inline_limit_process(void **state)
{
    task_bodies_come_back_unchanged(*state, SWB_CHILD_PROCESS);
}

static void test_a_body_inline_or_apart_reaches_the_peer_unchanged(void **state)
{
    harness_t *h = *state;
    raw_join(h, &a, "raw-a");
    const size_t sizes[] = {2, INLINE_MAX, 3000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *body = make_body(sizes[i]);
        for (int inl = 0; inl < 2; inl++) {
            raw_send_to(&a, "test-parent", body, sizes[i], inl);
            swb_msg_t m = {0};
            assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
            assert_string_equal(m.from, "raw-a");
            assert_int_equal(m.len, sizes[i]);
            assert_memory_equal(m.body, body, sizes[i]);
            swb_msg_close(&m);
        }
        free(body);
    }
    /* An empty body frame is a body of no bytes, not a missing one. */
    raw_send_to(&a, "test-parent", "", 0, 0);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
    assert_non_null(m.body);
    assert_int_equal(m.len, 0);
    swb_msg_close(&m);
}

/* The next message on `r` must be a DELIVER of `body` in the layout the size calls for. */
static void expect_layout(raw_t *r, const void *body, size_t len)
{
    frames_t m;
    recv_frames(r, &m);
    size_t hlen = m.hlen;
    assert_int_equal(m.h.cmd, SWB_CMD_DELIVER);
    if (len > 0 && len <= INLINE_MAX) {
        assert_int_equal(m.n, 1);
        assert_int_equal(m.len[0] - hlen, len);
        assert_memory_equal(m.f[0] + hlen, body, len);
    } else {
        assert_int_equal(m.n, 2);
        assert_int_equal(hlen, m.len[0]);
        assert_int_equal(m.len[1], len);
        assert_memory_equal(m.f[1], body, len);
    }
    frames_free(&m);
}

static void test_the_broker_sends_small_bodies_inline_and_large_ones_apart(void **state)
{
    harness_t *h = *state;
    raw_join(h, &a, "raw-a");
    raw_join(h, &b2, "raw-b");
    const size_t sizes[] = {2, INLINE_MAX, INLINE_MAX + 1, 3000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *body = make_body(sizes[i]);
        /* From the peer library, and from a raw peer in both layouts: the broker decides. */
        assert_int_equal(swb_peer_send(h->parent, "raw-b", body, sizes[i]), SWB_OK);
        expect_layout(&b2, body, sizes[i]);
        for (int inl = 0; inl < 2; inl++) {
            raw_send_to(&a, "raw-b", body, sizes[i], inl);
            expect_layout(&b2, body, sizes[i]);
        }
        free(body);
    }
}

static void test_bytes_after_the_header_before_a_body_frame_are_trailing_bytes(void **state)
{
    harness_t *h = *state;
    raw_join(h, &a, "raw-a");
    swb_header_t q;
    swb_header_init(&q, SWB_CMD_HEARTBEAT);
    unsigned char buf[SWB_MAX_HEADER + 8];
    size_t n = encode(&q, buf);
    buf[n] = 0xc0; /* a body inline and another in its own frame: which one? */
    const void *f[] = {buf, "\xc0"};
    size_t l[] = {n + 1, 1};
    assert_int_equal(raw_send_frames(a.sock, f, l, 2), 0);
    expect_raw_error(&a, SWB_E_TRAILING);

    /* Inline or not, a header map may not run past SWB_MAX_HEADER bytes: here an unknown key
     * whose value is a 5000-byte string. */
    size_t big = 5000;
    unsigned char *frame = malloc(16 + big);
    assert_non_null(frame);
    size_t o = 0;
    frame[o++] = 0x83; /* {0: 1, 1: HEARTBEAT, 40: str32} */
    frame[o++] = 0x00;
    frame[o++] = 0x01;
    frame[o++] = 0x01;
    frame[o++] = SWB_CMD_HEARTBEAT;
    frame[o++] = 40;
    frame[o++] = 0xdb;
    for (int i = 0; i < 4; i++)
        frame[o++] = (unsigned char)(big >> (24 - 8 * i));
    memset(frame + o, 'x', big);
    const void *g[] = {frame};
    size_t gl[] = {o + big};
    assert_int_equal(raw_send_frames(a.sock, g, gl, 1), 0);
    free(frame);
    expect_raw_error(&a, SWB_E_TOO_LARGE);

    /* The connection still works: a body inline reaches the parent. */
    raw_send_to(&a, "test-parent", "\x2a", 1, 1);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
    assert_int_equal(m.len, 1);
    assert_int_equal(((const unsigned char *)m.body)[0], 0x2a);
    swb_msg_close(&m);
}

#define SWB_FRAMES_IT(name) cmocka_unit_test_setup_teardown(name, harness_setup, frames_teardown)

static const struct CMUnitTest tests[] = {
    SWB_IT(test_task_bodies_either_side_of_the_inline_limit_thread),
    SWB_IT(test_task_bodies_either_side_of_the_inline_limit_process),
    SWB_FRAMES_IT(test_a_body_inline_or_apart_reaches_the_peer_unchanged),
    SWB_FRAMES_IT(test_the_broker_sends_small_bodies_inline_and_large_ones_apart),
    SWB_FRAMES_IT(test_bytes_after_the_header_before_a_body_frame_are_trailing_bytes),
};

SWB_TEST_MAIN(tests)
