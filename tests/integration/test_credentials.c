/*
 * What the broker believes about a peer comes from the transport where it can: the pid of an
 * ipc peer (its socket's credentials), not the one it claims; a worker over tcp is remote
 * whatever kind it claims.
 */
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_proto.h"
#include "swb_test.h"

/* Say HELLO on a raw socket as `name`, claiming `kind` and `pid`; returns the reply's cmd. */
static uint32_t hello(void *sock, const char *name, uint32_t kind, uint32_t pid)
{
    swb_header_t h;
    swb_header_init(&h, SWB_CMD_HELLO);
    swb_header_set_str(&h, SWB_F_NAME, name);
    SWB_SET(&h, SWB_F_KIND);
    h.kind = kind;
    SWB_SET(&h, SWB_F_PID);
    h.pid = pid;
    const char *svc = "credsvc";
    SWB_SET(&h, SWB_F_SERVICES);
    h.n_services = 1;
    h.services[0] = (swb_str_t){svc, (uint32_t)strlen(svc)};
    SWB_SET(&h, SWB_F_CAPACITY);
    h.capacity = 1;
    assert_int_equal(raw_send_header(sock, &h, NULL, 0), 0);
    unsigned char buf[SWB_MAX_HEADER];
    swb_header_t r;
    assert_int_equal(raw_recv(sock, &r, buf, sizeof buf, 5000), SWB_OK);
    return r.cmd;
}

/* The STATS entry of peer `name`: its pid and kind. */
static void peer_facts(harness_t *h, const char *name, int64_t *pid, char *kind, size_t cap)
{
    void *st = NULL;
    size_t len = 0;
    assert_int_equal(swb_peer_stats(h->parent, &st, &len, 5000), SWB_OK);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, st, len, &off), MSGPACK_UNPACK_SUCCESS);
    int found = 0;
    msgpack_object_map *m = &u.data.via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        if (m->ptr[i].key.via.str.size != 5 || memcmp(m->ptr[i].key.via.str.ptr, "peers", 5))
            continue;
        msgpack_object_array *a = &m->ptr[i].val.via.array;
        for (uint32_t j = 0; j < a->size; j++) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_object(&pk, a->ptr[j]);
            char n[SWB_NAME_MAX + 1];
            if (unpack_map_str(sb.data, sb.size, "name", n, sizeof n) == 0 && !strcmp(n, name)) {
                assert_int_equal(unpack_map_int(sb.data, sb.size, "pid", pid), 0);
                assert_int_equal(unpack_map_str(sb.data, sb.size, "kind", kind, cap), 0);
                found = 1;
            }
            msgpack_sbuffer_destroy(&sb);
        }
    }
    msgpack_unpacked_destroy(&u);
    free(st);
    assert_true(found);
}

static void test_ipc_peer_pid_comes_from_the_socket_not_the_claim(void **state)
{
    harness_t *h = *state;
    void *ctx = NULL, *sock = raw_dealer(&ctx, h->endpoint);
    assert_non_null(sock);
    assert_int_equal(hello(sock, "liar", SWB_KIND_PROCESS, 1), SWB_CMD_WELCOME);
    int64_t pid = 0;
    char kind[16];
    peer_facts(h, "liar", &pid, kind, sizeof kind);
    assert_int_equal(pid, getpid()); /* not 1, as it claimed */
    assert_string_equal(kind, "process");
    raw_close(&ctx, &sock);
}

static void test_a_worker_over_tcp_is_remote_whatever_it_claims(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    *state = h;
    assert_int_equal(harness_dir(h), 0);
    /* Any free loopback port: the broker reports the one it got. */
    const char *both[] = {h->endpoint, "tcp://127.0.0.1:*"};
    swb_broker_opts_t o = {.endpoints = both, .n_endpoints = 2, .heartbeat_ivl_ms = 200};
    assert_int_equal(swb_broker_new(&h->broker, &o), SWB_OK);
    assert_int_equal(swb_broker_start(h->broker), SWB_OK);
    h->parent = harness_client(h, "test-parent");
    assert_non_null(h->parent);
    /* Bound in order: the private inproc endpoint, then the two given. */
    assert_string_equal(swb_broker_bound(h->broker, 0), swb_broker_inproc(h->broker));
    assert_string_equal(swb_broker_bound(h->broker, 1), h->endpoint);
    const char *tcp = swb_broker_bound(h->broker, 2);
    assert_non_null(tcp);
    assert_null(strchr(tcp, '*')); /* the port the broker got */
    assert_true(strncmp(tcp, "tcp://127.0.0.1:", 16) == 0);
    assert_null(swb_broker_bound(h->broker, 3));
    void *ctx = NULL, *sock = raw_dealer(&ctx, tcp);
    assert_non_null(sock);
    assert_int_equal(hello(sock, "far", SWB_KIND_THREAD, (uint32_t)getpid()), SWB_CMD_WELCOME);
    int64_t pid = -1;
    char kind[16];
    peer_facts(h, "far", &pid, kind, sizeof kind);
    assert_string_equal(kind, "remote");
    raw_close(&ctx, &sock);
}

/* Bound to "tcp://127.0.0.1:*" alone, the broker hands its process children the port it
 * got, so they join and serve. */
static void test_process_children_join_a_wildcard_tcp_port(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    *state = h;
    assert_int_equal(harness_dir(h), 0);
    const char *tcp[] = {"tcp://127.0.0.1:*"};
    swb_broker_opts_t o = {.endpoints = tcp, .n_endpoints = 1, .no_default = 1};
    assert_int_equal(swb_broker_new(&h->broker, &o), SWB_OK);
    assert_int_equal(swb_broker_start(h->broker), SWB_OK);
    const char *ep = swb_broker_endpoint(h->broker);
    assert_non_null(ep);
    assert_null(strchr(ep, '*'));
    swb_peer_opts_t po = {.broker = h->broker, .name = "test-parent"};
    assert_int_equal(swb_peer_new(&h->parent, &po), SWB_OK);
    swb_spawn_opts_t so = {.plugin = "sum", .mode = SWB_CHILD_PROCESS, .count = 1};
    swb_child_t c;
    size_t n = 0;
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
    harness_call_sum_ok(h->parent, 10000);
}

static int no_setup(void **state)
{
    *state = NULL;
    return 0;
}

static const struct CMUnitTest tests[] = {
    SWB_IT(test_ipc_peer_pid_comes_from_the_socket_not_the_claim),
    cmocka_unit_test_setup_teardown(test_a_worker_over_tcp_is_remote_whatever_it_claims, no_setup,
                                    harness_teardown),
    cmocka_unit_test_setup_teardown(test_process_children_join_a_wildcard_tcp_port, no_setup,
                                    harness_teardown),
};

SWB_TEST_MAIN(tests)
