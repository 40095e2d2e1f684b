/*
 * Routing through a real broker: errors for unknown targets, ordering under volume, large
 * bodies, broadcast and group sends, worker-to-worker messages through relay workers, and the
 * peer's file descriptor in a poll(2) loop. Receivers run in other threads and processes.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define N_ORDERED 100000
#define WINDOW    5000 /* messages in flight; well under the broker's per-peer HWM (10000) */
#define ACK_EVERY 1000 /* must match tests/plugins/seqcheck.c */

static void put_u32(unsigned char *b, uint32_t v)
{
    b[0] = 0xce;
    b[1] = (unsigned char)(v >> 24);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 8);
    b[4] = (unsigned char)v;
}

static int get_u32(const void *body, size_t len, uint32_t *v)
{
    const unsigned char *b = body;
    if (len != 5 || b[0] != 0xce)
        return -1;
    *v = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    return 0;
}

static void spawn_one(harness_t *h, const char *plugin, int mode, const char *name, swb_child_t *c)
{
    swb_spawn_opts_t o = {.plugin = plugin, .mode = mode, .name = name};
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
}

/* ---- errors ----------------------------------------------------------------------------- */

static void test_send_to_unknown_peer_returns_error_with_target_and_id(void **state)
{
    harness_t *h = *state;
    size_t len;
    void *body = pack_str(&len, "anyone there?");
    swb_msg_t m = {0};

    /* Through the peer API: the ERROR names the target and carries the request's id. */
    assert_int_equal(swb_peer_send(h->parent, "nobody-here", body, len), SWB_OK);
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_ERROR, 5000, NULL), SWB_OK);
    assert_int_equal(m.code, SWB_E_UNKNOWN_PEER);
    assert_string_equal(swb_errname(m.code), "unknown_peer");
    assert_string_equal(m.name, "nobody-here");
    assert_true(m.id != 0);
    uint64_t first_id = m.id;
    assert_int_equal(swb_peer_send(h->parent, "nobody-else", body, len), SWB_OK);
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_ERROR, 5000, NULL), SWB_OK);
    assert_string_equal(m.name, "nobody-else");
    assert_true(m.id > first_id); /* each request has its own id */
    swb_msg_close(&m);

    /* On the wire, where the test picks the id: the same id comes back. */
    void *ctx = NULL, *sock = raw_dealer(&ctx, h->endpoint);
    assert_non_null(sock);
    swb_header_t q, r;
    unsigned char buf[SWB_MAX_HEADER];
    swb_header_init(&q, SWB_CMD_HELLO);
    swb_header_set_str(&q, SWB_F_NAME, "raw-client");
    SWB_SET(&q, SWB_F_KIND);
    q.kind = SWB_KIND_CLIENT;
    SWB_SET(&q, SWB_F_ID);
    q.id = 1;
    assert_int_equal(raw_send_header(sock, &q, NULL, 0), 0);
    assert_int_equal(raw_recv(sock, &r, buf, sizeof buf, 5000), SWB_OK);
    assert_int_equal(r.cmd, SWB_CMD_WELCOME);
    swb_header_init(&q, SWB_CMD_SEND);
    SWB_SET(&q, SWB_F_TO_KIND);
    q.to_kind = SWB_TO_PEER;
    swb_header_set_str(&q, SWB_F_TO, "ghost");
    SWB_SET(&q, SWB_F_ID);
    q.id = 4242;
    assert_int_equal(raw_send_header(sock, &q, body, len), 0);
    int got = SWB_E_TIMEOUT;
    for (int64_t end = now_ms() + 5000; now_ms() < end;) {
        if ((got = raw_recv(sock, &r, buf, sizeof buf, 1000)) == SWB_OK && r.cmd == SWB_CMD_ERROR)
            break;
    }
    raw_close(&ctx, &sock);
    free(body);
    assert_int_equal(got, SWB_OK);
    assert_int_equal(r.cmd, SWB_CMD_ERROR);
    assert_int_equal(r.code, SWB_E_UNKNOWN_PEER);
    assert_int_equal(r.id, 4242);
    assert_true(swb_str_eq(r.name, "ghost"));
}

static void test_group_send_to_unserved_service_returns_no_such_service(void **state)
{
    harness_t *h = *state;
    size_t len;
    void *body = pack_str(&len, "hello group");
    assert_int_equal(swb_peer_send_group(h->parent, "nobody-serves-this", body, len), SWB_OK);
    free(body);
    swb_msg_t m = {0};
    assert_int_equal(recv_type(h->parent, &m, SWB_MSG_ERROR, 5000, NULL), SWB_OK);
    assert_int_equal(m.code, SWB_E_NO_SERVICE);
    assert_string_equal(swb_errname(m.code), "no_such_service");
    assert_string_equal(m.name, "nobody-serves-this");
    assert_true(m.id != 0);
    swb_msg_close(&m);
}

/* ---- ordering under volume -------------------------------------------------------------- */

/* Send 0..N-1 to `to`, never more than WINDOW ahead of the acks the receiver sends back
 * (a uint32 count every ACK_EVERY). Any ERROR at the sender fails the test. */
static void send_window(swb_peer_t *tx, const char *to)
{
    unsigned char b[5];
    uint32_t acked = 0;
    swb_msg_t m = {0};
    int64_t end = now_ms() + 60000;
    for (uint32_t i = 0; i < N_ORDERED;) {
        if (i - acked < WINDOW) {
            put_u32(b, i);
            int rc = swb_peer_send(tx, to, b, sizeof b);
            if (rc != SWB_OK)
                fail_msg("send %u: %s", i, swb_strerror(rc));
            i++;
            if (i % 256)
                continue; /* look for acks now and then, without waiting */
        }
        int rc = swb_peer_recv(tx, &m, i - acked < WINDOW ? 0 : 5000);
        if (rc == SWB_E_TIMEOUT) {
            if (i - acked >= WINDOW)
                fail_msg("no ack after %u sent, %u acked", i, acked);
            continue;
        }
        assert_int_equal(rc, SWB_OK);
        if (m.type == SWB_MSG_ERROR)
            fail_msg("sender got ERROR %s (%s) after %u sent", swb_errname(m.code), m.text, i);
        uint32_t a;
        if (m.type == SWB_MSG_DELIVER && strcmp(m.from, to) == 0 && get_u32(m.body, m.len, &a) == 0)
            acked = a;
        assert_true(now_ms() < end);
    }
    swb_msg_close(&m);
}

typedef struct {
    swb_peer_t *rx;
    char tx_name[SWB_NAME_MAX + 1];
    uint32_t count, bad;
    int64_t first_bad;
    int rc;
} rx_state_t;

static void *rx_thread(void *arg)
{
    rx_state_t *s = arg;
    swb_msg_t m = {0};
    uint32_t expect = 0;
    s->first_bad = -1;
    int64_t end = now_ms() + 60000;
    while (s->count < N_ORDERED && now_ms() < end) {
        s->rc = swb_peer_recv(s->rx, &m, 5000);
        if (s->rc != SWB_OK)
            break;
        uint32_t v;
        if (m.type != SWB_MSG_DELIVER || get_u32(m.body, m.len, &v) != 0)
            continue;
        if (v != expect) {
            s->bad++;
            if (s->first_bad < 0)
                s->first_bad = v;
        }
        expect = v + 1;
        if (++s->count % ACK_EVERY == 0) {
            unsigned char ack[5];
            put_u32(ack, s->count);
            swb_peer_send(s->rx, s->tx_name, ack, sizeof ack);
        }
    }
    swb_msg_close(&m);
    return NULL;
}

static void test_100k_messages_arrive_in_order_at_a_peer_in_another_thread(void **state)
{
    harness_t *h = *state;
    /* Static: if an assertion ends this function early, the thread still has its state. */
    static rx_state_t s;
    s.rx = harness_client(h, "rx-thread");
    assert_non_null(s.rx);
    snprintf(s.tx_name, sizeof s.tx_name, "%s", swb_peer_name(h->parent));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rx_thread, &s), 0);
    send_window(h->parent, "rx-thread");
    pthread_join(t, NULL); /* the receiver ends by itself (count reached or timeout) */
    swb_peer_destroy(&s.rx);
    assert_int_equal(s.rc, SWB_OK);
    assert_int_equal(s.count, N_ORDERED);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.first_bad, -1);
}

static void ordered_to_child(harness_t *h, int mode)
{
    swb_child_t c;
    spawn_one(h, TEST_PLUGIN("seqcheck"), mode, NULL, &c);
    send_window(h->parent, c.name);
    size_t len;
    void *done = pack_str(&len, "done");
    assert_int_equal(swb_peer_send(h->parent, c.name, done, len), SWB_OK);
    free(done);
    swb_msg_t m = {0};
    int64_t count = -1, bad = -1, first_bad = 0;
    for (int64_t end = now_ms() + 10000; now_ms() < end;) {
        assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 10000, NULL), SWB_OK);
        if (unpack_map_int(m.body, m.len, "count", &count) == 0)
            break;
    }
    assert_int_equal(unpack_map_int(m.body, m.len, "bad", &bad), 0);
    assert_int_equal(unpack_map_int(m.body, m.len, "first_bad", &first_bad), 0);
    swb_msg_close(&m);
    assert_int_equal(count, N_ORDERED);
    assert_int_equal(bad, 0);
    assert_int_equal(first_bad, -1);
}

static void test_100k_messages_arrive_in_order_at_a_process_child(void **state)
{
    ordered_to_child(*state, SWB_CHILD_PROCESS);
}

static void test_100k_messages_arrive_in_order_at_a_thread_child(void **state)
{
    ordered_to_child(*state, SWB_CHILD_THREAD);
}

/* ---- large bodies ----------------------------------------------------------------------- */

static void big_round_trip(harness_t *h, int mode)
{
    swb_child_t c;
    spawn_one(h, "echo", mode, NULL, &c);
    size_t len = 1u << 20; /* 1 MiB: a msgpack bin32 of len - 5 pseudo-random bytes */
    unsigned char *body = malloc(len);
    assert_non_null(body);
    uint32_t n = (uint32_t)(len - 5), x = 2463534242u;
    body[0] = 0xc6;
    body[1] = (unsigned char)(n >> 24);
    body[2] = (unsigned char)(n >> 16);
    body[3] = (unsigned char)(n >> 8);
    body[4] = (unsigned char)n;
    for (size_t i = 5; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        body[i] = (unsigned char)x;
    }
    assert_int_equal(swb_peer_send(h->parent, c.name, body, len), SWB_OK);
    swb_msg_t m = {0};
    int rc = recv_type(h->parent, &m, SWB_MSG_DELIVER, 10000, NULL);
    if (rc == SWB_OK) {
        assert_string_equal(m.from, c.name);
        assert_int_equal(m.len, len);
        assert_memory_equal(m.body, body, len);
    }
    swb_msg_close(&m);
    free(body);
    assert_int_equal(rc, SWB_OK);
}

static void test_1mib_body_round_trip_to_a_thread_child(void **state)
{
    big_round_trip(*state, SWB_CHILD_THREAD);
}

static void test_1mib_body_round_trip_to_a_process_child(void **state)
{
    big_round_trip(*state, SWB_CHILD_PROCESS);
}

/* ---- broadcast and groups --------------------------------------------------------------- */

/* The next application message must be a DELIVER from `from` whose body is `body`. */
static void expect_next(swb_peer_t *p, const char *from, const void *body, size_t len, int to_kind)
{
    swb_msg_t m = {0};
    assert_int_equal(swb_peer_recv(p, &m, 5000), SWB_OK);
    if (m.type != SWB_MSG_DELIVER)
        fail_msg("%s: expected DELIVER, got type %d (%s %s)", swb_peer_name(p), m.type,
                 swb_errname(m.code), m.text);
    assert_string_equal(m.from, from);
    assert_int_equal(m.len, len);
    assert_memory_equal(m.body, body, len);
    if (to_kind >= 0)
        assert_int_equal(m.to_kind, to_kind);
    swb_msg_close(&m);
}

static void test_broadcast_reaches_every_peer_but_the_sender(void **state)
{
    harness_t *h = *state;
    swb_peer_t *a = harness_client(h, "bc-a"), *b = harness_client(h, "bc-b"),
               *c = harness_client(h, "bc-c");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    /* Children too, one thread and one process: seqcheck counts a uint32 without answering. */
    swb_child_t kids[2];
    spawn_one(h, TEST_PLUGIN("seqcheck"), SWB_CHILD_THREAD, "bc-thread", &kids[0]);
    spawn_one(h, TEST_PLUGIN("seqcheck"), SWB_CHILD_PROCESS, "bc-proc", &kids[1]);

    unsigned char all[5], marker[5];
    put_u32(all, 0);
    put_u32(marker, 77);
    assert_int_equal(swb_peer_broadcast(a, all, sizeof all), SWB_OK);
    /* The broker handles a's messages in order, so a copy of the broadcast to a would reach
     * a before this marker does. */
    assert_int_equal(swb_peer_send(a, "bc-a", marker, sizeof marker), SWB_OK);
    expect_next(a, "bc-a", marker, sizeof marker, SWB_TO_PEER);
    expect_next(b, "bc-a", all, sizeof all, SWB_TO_ALL);
    expect_next(c, "bc-a", all, sizeof all, SWB_TO_ALL);
    expect_next(h->parent, "bc-a", all, sizeof all, SWB_TO_ALL);

    size_t len;
    void *done = pack_str(&len, "done");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(swb_peer_send(h->parent, kids[i].name, done, len), SWB_OK);
        swb_msg_t m = {0};
        int64_t count = -1, bad = -1;
        assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, 5000, NULL), SWB_OK);
        assert_string_equal(m.from, kids[i].name);
        assert_int_equal(unpack_map_int(m.body, m.len, "count", &count), 0);
        assert_int_equal(unpack_map_int(m.body, m.len, "bad", &bad), 0);
        swb_msg_close(&m);
        assert_int_equal(count, 1);
        assert_int_equal(bad, 0);
    }
    free(done);
    swb_peer_destroy(&a);
    swb_peer_destroy(&b);
    swb_peer_destroy(&c);
}

static swb_peer_t *service_peer(harness_t *h, const char *name, const char *service)
{
    const char *svc[] = {service};
    swb_peer_opts_t o = {.endpoint = h->endpoint, .name = name, .services = svc, .n_services = 1};
    swb_peer_t *p = NULL;
    assert_int_equal(swb_peer_new(&p, &o), SWB_OK);
    return p;
}

static void test_group_send_reaches_only_the_peers_serving_it(void **state)
{
    harness_t *h = *state;
    swb_peer_t *w1 = service_peer(h, "alpha-1", "alpha"), *w2 = service_peer(h, "alpha-2", "alpha"),
               *w3 = service_peer(h, "beta-1", "beta");
    unsigned char x[5], y[5], marker[5];
    put_u32(x, 1);
    put_u32(y, 2);
    put_u32(marker, 99);
    const char *me = swb_peer_name(h->parent);

    assert_int_equal(swb_peer_send_group(h->parent, "alpha", x, sizeof x), SWB_OK);
    /* Sent after the group message: if beta-1 or the sender had got it, it would come first. */
    assert_int_equal(swb_peer_send(h->parent, "beta-1", marker, sizeof marker), SWB_OK);
    assert_int_equal(swb_peer_send(h->parent, me, marker, sizeof marker), SWB_OK);
    expect_next(w1, me, x, sizeof x, SWB_TO_GROUP);
    expect_next(w2, me, x, sizeof x, SWB_TO_GROUP);
    expect_next(w3, me, marker, sizeof marker, SWB_TO_PEER);
    expect_next(h->parent, me, marker, sizeof marker, SWB_TO_PEER);

    /* A member sending to its own group reaches the others, not itself. */
    assert_int_equal(swb_peer_send_group(w1, "alpha", y, sizeof y), SWB_OK);
    assert_int_equal(swb_peer_send(w1, "alpha-1", marker, sizeof marker), SWB_OK);
    expect_next(w1, "alpha-1", marker, sizeof marker, SWB_TO_PEER);
    expect_next(w2, "alpha-1", y, sizeof y, SWB_TO_GROUP);

    swb_peer_destroy(&w1);
    swb_peer_destroy(&w2);
    swb_peer_destroy(&w3);
}

/* ---- worker to worker ------------------------------------------------------------------- */

#define N_RELAYS 4

static void test_relay_workers_reach_each_other_through_the_broker(void **state)
{
    harness_t *h = *state;
    swb_child_t r[N_RELAYS];
    swb_spawn_opts_t o = {
        .plugin = "relay", .mode = SWB_CHILD_THREAD, .count = 2, .name = "relay-t"};
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &o, r, 2, &n), SWB_OK);
    assert_int_equal(n, 2);
    o.mode = SWB_CHILD_PROCESS;
    o.name = "relay-p";
    assert_int_equal(swb_spawn(h->parent, &o, r + 2, 2, &n), SWB_OK);
    assert_int_equal(n, 2);

    /*
     * Worker i is asked to broadcast {"all": true, "origin": i}. The broker delivers it to the
     * three other relays and to us; each relay forwards a body once (it drops the repeats), so
     * it reaches us from every relay that received it. A copy of i's message from relay j
     * proves j got it; all four copies prove i's message reached every other worker.
     */
    for (int i = 0; i < N_RELAYS; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "all", 3);
        msgpack_pack_true(&pk);
        msgpack_pack_str_with_body(&pk, "origin", 6);
        msgpack_pack_str_with_body(&pk, r[i].name, strlen(r[i].name));
        assert_int_equal(swb_peer_send(h->parent, r[i].name, sb.data, sb.size), SWB_OK);
        msgpack_sbuffer_destroy(&sb);

        int seen[N_RELAYS] = {0}, n_seen = 0;
        swb_msg_t m = {0};
        int64_t end = now_ms() + 5000;
        while (n_seen < N_RELAYS) {
            int64_t left = end - now_ms();
            if (left <= 0)
                break;
            assert_int_equal(recv_type(h->parent, &m, SWB_MSG_DELIVER, (int)left, NULL), SWB_OK);
            char origin[SWB_NAME_MAX + 1];
            if (unpack_map_str(m.body, m.len, "origin", origin, sizeof origin) != 0 ||
                strcmp(origin, r[i].name) != 0)
                continue; /* a late repeat of an earlier round */
            assert_int_equal(m.to_kind, SWB_TO_ALL);
            for (int j = 0; j < N_RELAYS; j++)
                if (strcmp(m.from, r[j].name) == 0 && !seen[j]) {
                    seen[j] = 1;
                    n_seen++;
                }
        }
        swb_msg_close(&m);
        for (int j = 0; j < N_RELAYS; j++)
            if (!seen[j])
                fail_msg("%s's message never reached %s", r[i].name, r[j].name);
    }
}

/* ---- the peer's fd in a poll loop ------------------------------------------------------- */

static void test_peer_fd_signals_poll_and_recv_0_reads_the_message(void **state)
{
    harness_t *h = *state;
    swb_peer_t *other = harness_client(h, "poke");
    assert_non_null(other);
    int fd = -1;
    assert_int_equal(swb_peer_fd(h->parent, &fd), SWB_OK);
    assert_true(fd >= 0);
    swb_msg_t m = {0};
    while (swb_peer_recv(h->parent, &m, 0) == SWB_OK) {
    } /* empty the socket, so the fd is re-armed (edge triggered) */

    size_t len;
    void *body = pack_str(&len, "wake up");
    assert_int_equal(swb_peer_send(other, swb_peer_name(h->parent), body, len), SWB_OK);
    int got = 0, wakes = 0;
    for (int64_t end = now_ms() + 5000; !got && now_ms() < end;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(end - now_ms()));
        if (r <= 0)
            break;
        wakes++;
        /* After a signal: recv with timeout 0 until it says there is nothing more. Heartbeats
         * wake the fd too and are consumed inside. */
        while (swb_peer_recv(h->parent, &m, 0) == SWB_OK)
            if (m.type == SWB_MSG_DELIVER && strcmp(m.from, "poke") == 0) {
                assert_int_equal(m.len, len);
                assert_memory_equal(m.body, body, len);
                got = 1;
            }
    }
    swb_msg_close(&m);
    free(body);
    swb_peer_destroy(&other);
    assert_true(wakes > 0);
    assert_true(got);
}

static const struct CMUnitTest tests[] = {
    SWB_IT(test_send_to_unknown_peer_returns_error_with_target_and_id),
    SWB_IT(test_group_send_to_unserved_service_returns_no_such_service),
    SWB_IT(test_100k_messages_arrive_in_order_at_a_peer_in_another_thread),
    SWB_IT(test_100k_messages_arrive_in_order_at_a_process_child),
    SWB_IT(test_100k_messages_arrive_in_order_at_a_thread_child),
    SWB_IT(test_1mib_body_round_trip_to_a_thread_child),
    SWB_IT(test_1mib_body_round_trip_to_a_process_child),
    SWB_IT(test_broadcast_reaches_every_peer_but_the_sender),
    SWB_IT(test_group_send_reaches_only_the_peers_serving_it),
    SWB_IT(test_relay_workers_reach_each_other_through_the_broker),
    SWB_IT(test_peer_fd_signals_poll_and_recv_0_reads_the_message),
};

SWB_TEST_MAIN(tests)
