/*
 * What lets programs and plugins built against another release keep working: swb_version
 * names the running library; option structs filled with SWB_OPTS work end to end; a struct
 * from a newer header is taken while it sets nothing this library does not know, and refused
 * when it does; plugins are checked for an ABI this host speaks.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "swb_test.h"

static void test_the_library_says_its_version(void **state)
{
    int major = -1, minor = -1, patch = -1;
    const char *v = swb_version(&major, &minor, &patch);
    assert_non_null(v);
    /* Built together, the header and the library agree; a forgotten bump of either fails. */
    assert_string_equal(v, SWB_VERSION_STRING);
    assert_int_equal(major, SWB_VERSION_MAJOR);
    assert_int_equal(minor, SWB_VERSION_MINOR);
    assert_int_equal(patch, SWB_VERSION_PATCH);
    assert_string_equal(swb_version(NULL, NULL, NULL), v);
}

static void test_options_filled_with_SWB_OPTS_work_end_to_end(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = "sum", .mode = SWB_CHILD_THREAD);
    assert_int_equal(so.size, sizeof so);
    assert_int_equal(swb_spawn(h->parent, &so, &c, 1, &n), SWB_OK);
    assert_int_equal(n, 1);
    size_t len;
    void *body = pack_map_int2(&len, "a", 1, "b", 2);
    swb_task_opts_t to = SWB_OPTS(swb_task_opts_t, .deadline_ms = 5000);
    uint64_t id = 0;
    assert_int_equal(swb_submit(h->parent, "sum", body, len, &to, &id), SWB_OK);
    swb_msg_t r = {0};
    assert_int_equal(swb_wait(h->parent, id, &r, 5000), SWB_OK);
    int64_t v = 0;
    assert_int_equal(unpack_map_int(r.body, r.len, "sum", &v), 0);
    assert_int_equal(v, 3);
    swb_msg_close(&r);
    free(body);
}

/* A swb_broker_opts_t as a later header might define it: one more field at the end. */
typedef struct {
    swb_broker_opts_t o;
    uint64_t future;
} newer_broker_opts_t;

static void test_a_newer_broker_opts_is_taken_while_its_new_field_is_zero(void **state)
{
    newer_broker_opts_t opts = {.o = {.size = sizeof opts, .no_default = 1}};
    swb_broker_t *b = NULL;
    assert_int_equal(swb_broker_new(&b, &opts.o), SWB_OK);
    assert_non_null(b);
    swb_broker_destroy(&b);
}

static void test_a_newer_broker_opts_that_sets_its_new_field_is_refused(void **state)
{
    newer_broker_opts_t opts = {.o = {.size = sizeof opts, .no_default = 1}, .future = 1};
    swb_broker_t *b = (swb_broker_t *)&opts; /* must come back NULL */
    swb_log_set_level(-1);
    assert_int_equal(swb_broker_new(&b, &opts.o), SWB_E_INVALID);
    swb_log_set_level(SWB_LOG_WARN);
    assert_null(b);
}

typedef struct {
    swb_task_opts_t o;
    uint64_t future;
} newer_task_opts_t;

static void test_a_task_with_options_this_library_does_not_know_is_not_submitted(void **state)
{
    harness_t *h = *state;
    newer_task_opts_t opts = {.o = {.size = sizeof opts, .deadline_ms = 1000}, .future = 7};
    uint64_t id = 0;
    swb_log_set_level(-1);
    assert_int_equal(swb_submit(h->parent, "sum", NULL, 0, &opts.o, &id), SWB_E_INVALID);
    swb_log_set_level(SWB_LOG_WARN);
    assert_int_equal(swb_peer_outstanding(h->parent), 0);
}

static void test_plugin_service_names_what_a_plugin_serves(void **state)
{
    char svc[SWB_NAME_MAX + 1];
    assert_int_equal(swb_plugin_service("sum", NULL, svc, sizeof svc), SWB_OK);
    assert_string_equal(svc, "sum");
    assert_int_equal(swb_plugin_service("echo", NULL, svc, sizeof svc), SWB_OK);
    assert_string_equal(svc, "echo");
    swb_log_set_level(-1);
    assert_int_equal(swb_plugin_service("no-such-plugin", NULL, svc, sizeof svc), SWB_E_PLUGIN);
    swb_log_set_level(SWB_LOG_WARN);
}

static void test_plugins_of_an_abi_this_host_does_not_speak_are_refused(void **state)
{
    char svc[SWB_NAME_MAX + 1];
    swb_log_set_level(-1);
    /* A zeroed descriptor (abi 0) and one from a newer header (abi + 1). */
    assert_int_equal(swb_plugin_service(TEST_PLUGIN("abi_zero"), NULL, svc, sizeof svc), SWB_E_ABI);
    assert_int_equal(swb_plugin_service(TEST_PLUGIN("bad_abi"), NULL, svc, sizeof svc), SWB_E_ABI);
    swb_pool_t *pool = NULL;
    swb_pool_opts_t po = SWB_OPTS(swb_pool_opts_t, .plugin = TEST_PLUGIN("abi_zero"), .workers = 1);
    assert_int_equal(swb_pool_new(&pool, &po), SWB_E_ABI);
    assert_null(pool);
    swb_log_set_level(SWB_LOG_WARN);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_library_says_its_version),
        SWB_IT(test_options_filled_with_SWB_OPTS_work_end_to_end),
        cmocka_unit_test(test_a_newer_broker_opts_is_taken_while_its_new_field_is_zero),
        cmocka_unit_test(test_a_newer_broker_opts_that_sets_its_new_field_is_refused),
        SWB_IT(test_a_task_with_options_this_library_does_not_know_is_not_submitted),
        cmocka_unit_test(test_plugin_service_names_what_a_plugin_serves),
        cmocka_unit_test(test_plugins_of_an_abi_this_host_does_not_speak_are_refused),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
