/*
 * What a peer on another machine (tcp) may not do, because nothing vouches for its machine or
 * user: SPAWN a plugin by path (any file here, run in the broker's process for a thread
 * child), or RELOAD or SCALE another parent's children. It may spawn plugins by name and act
 * on its own children. A local peer (ipc, which only the broker's user may connect to) may do
 * all of it, as `swb reload` and `swb scale` do for the workers of `swb broker`.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

/* The harness's ipc broker, bound to a loopback tcp port too. */
static int two_transports_setup(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    if (!h || harness_dir(h) != 0) {
        free(h);
        return -1;
    }
    *state = h;
    const char *eps[] = {h->endpoint, "tcp://127.0.0.1:*"};
    swb_broker_opts_t o =
        SWB_OPTS(swb_broker_opts_t, .endpoints = eps, .n_endpoints = 2, .heartbeat_ivl_ms = 200);
    if (swb_broker_new(&h->broker, &o) != SWB_OK || swb_broker_start(h->broker) != SWB_OK ||
        !(h->parent = harness_client(h, "test-parent")))
        return -1; /* cmocka runs the teardown */
    return 0;
}

static swb_peer_t *tcp_client(harness_t *h, const char *name)
{
    const char *ep = NULL;
    for (size_t i = 0; (ep = swb_broker_bound(h->broker, i)) != NULL; i++)
        if (strncmp(ep, "tcp://", 6) == 0)
            break;
    assert_non_null(ep);
    swb_peer_t *p = NULL;
    swb_peer_opts_t o = SWB_OPTS(swb_peer_opts_t, .endpoint = ep, .name = name);
    assert_int_equal(swb_peer_new(&p, &o), SWB_OK);
    return p;
}

static void spawn_sum(swb_peer_t *parent, const char *plugin)
{
    swb_child_t c[2];
    size_t n = 0;
    swb_spawn_opts_t o = SWB_OPTS(swb_spawn_opts_t, .plugin = plugin, .mode = SWB_CHILD_THREAD,
                                  .name = "sum", .count = 2);
    assert_int_equal(swb_spawn(parent, &o, c, 2, &n), SWB_OK);
    assert_int_equal(n, 2);
}

static void test_a_tcp_peer_may_not_reload_or_scale_another_parents_children(void **state)
{
    harness_t *h = *state;
    spawn_sum(h->parent, "sum");
    swb_peer_t *remote = tcp_client(h, "remote");
    assert_int_equal(swb_request_scale(remote, "test-parent", "sum", 0), SWB_E_NOT_PERMITTED);
    assert_int_equal(swb_request_reload(remote, "test-parent", "sum"), SWB_E_NOT_PERMITTED);
    swb_peer_destroy(&remote);
    harness_call_sum_ok(h->parent, 5000); /* both workers still serve */

    /* A local peer may (what `swb scale` does). */
    swb_peer_t *local = harness_client(h, "local");
    assert_non_null(local);
    assert_int_equal(swb_request_scale(local, "test-parent", "sum", 1), SWB_OK);
    swb_peer_destroy(&local);
    harness_call_sum_ok(h->parent, 5000);
}

static void test_a_tcp_peer_may_spawn_by_name_but_not_by_path(void **state)
{
    harness_t *h = *state;
    swb_peer_t *remote = tcp_client(h, "remote");
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t by_path =
        SWB_OPTS(swb_spawn_opts_t, .plugin = SWB_PLUGIN_DIR "/sum.so", .mode = SWB_CHILD_THREAD);
    assert_int_equal(swb_spawn(remote, &by_path, &c, 1, &n), SWB_E_NOT_PERMITTED);
    assert_int_equal(n, 0);

    /* By name, and its own children it may scale. */
    spawn_sum(remote, "sum");
    harness_call_sum_ok(remote, 5000);
    assert_int_equal(swb_scale(remote, "sum", 1), SWB_OK);
    swb_peer_destroy(&remote);
}

static void test_a_local_peer_may_spawn_by_path(void **state)
{
    harness_t *h = *state;
    spawn_sum(h->parent, SWB_PLUGIN_DIR "/sum.so");
    harness_call_sum_ok(h->parent, 5000);
}

#define SWB_PERM(t) cmocka_unit_test_setup_teardown(t, two_transports_setup, harness_teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_PERM(test_a_tcp_peer_may_not_reload_or_scale_another_parents_children),
        SWB_PERM(test_a_tcp_peer_may_spawn_by_name_but_not_by_path),
        SWB_PERM(test_a_local_peer_may_spawn_by_path),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
