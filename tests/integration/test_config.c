/*
 * Worker config (swb_spawn_opts_t.config, like Node's workerData): the msgpack value a parent
 * gives reaches the plugin's init through swb_ctx_config, byte for byte, whichever way the
 * worker starts: a thread, a process (through its environment), a restart after a crash, a
 * reload's replacement, a scale-up, a pool. The config_echo plugin answers with what its init
 * got.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define CONFIG_ECHO TEST_PLUGIN("config_echo")

/* {"db": "postgres://x", "n": 3, "tags": [1, true, nil]} */
static const unsigned char CONFIG[] = {0x83, 0xa2, 'd', 'b', 0xac, 'p',  'o',  's',  't', 'g',
                                       'r',  'e',  's', ':', '/',  '/',  'x',  0xa1, 'n', 0x03,
                                       0xa4, 't',  'a', 'g', 's',  0x93, 0x01, 0xc3, 0xc0};

static int setup_fast(void **state)
{
    swb_broker_opts_t o = {.restart_backoff_min_ms = 50, .restart_backoff_max_ms = 400};
    return harness_setup_with(state, &o);
}

#define SWB_CT(name) cmocka_unit_test_setup_teardown(name, setup_fast, harness_teardown)

/* Wait for EVENT `ev` about `name` (any child but `not` when name is NULL). */
static int wait_event(swb_peer_t *p, int ev, const char *name, const char * not, swb_msg_t *m,
                      int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        int rc = recv_type(p, m, SWB_MSG_EVENT, (int)(end - now_ms()), NULL);
        if (rc != SWB_OK)
            return rc;
        if (m->event == ev && (name ? !strcmp(m->name, name) : strcmp(m->name, not ) != 0))
            return SWB_OK;
    }
    return SWB_E_TIMEOUT;
}

static int spawn_with(harness_t *h, int mode, const char *name, const void *config, size_t len,
                      swb_child_t *c)
{
    size_t n = 0;
    swb_spawn_opts_t o = SWB_OPTS(swb_spawn_opts_t, .plugin = CONFIG_ECHO, .name = name,
                                  .mode = mode, .config = config, .config_len = len);
    return swb_spawn(h->parent, &o, c, 1, &n);
}

/* Call config_echo and fail unless it answers exactly these bytes. */
static void assert_config(swb_peer_t *p, const void *want, size_t len)
{
    swb_msg_t r = {0};
    assert_int_equal(swb_call(p, "config_echo", NULL, 0, 5000, &r), SWB_OK);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, want, len);
    swb_msg_close(&r);
}

static void test_a_thread_child_gets_its_config(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, NULL, CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

static void test_a_process_child_gets_its_config(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, NULL, CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

/* The largest config there is still fits a process child's environment. */
static void test_a_process_child_gets_a_config_of_the_largest_size(void **state)
{
    harness_t *h = *state;
    size_t len = SWB_CONFIG_MAX;
    unsigned char *big = malloc(len);
    assert_non_null(big);
    uint32_t data = (uint32_t)(len - 5);
    big[0] = 0xc6; /* bin32 */
    big[1] = (unsigned char)(data >> 24);
    big[2] = (unsigned char)(data >> 16);
    big[3] = (unsigned char)(data >> 8);
    big[4] = (unsigned char)data;
    for (size_t i = 5; i < len; i++)
        big[i] = (unsigned char)(i * 7);
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, NULL, big, len, &c), SWB_OK);
    assert_config(h->parent, big, len);
    free(big);
}

static void test_no_config_is_nil(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, "p", NULL, 0, &c), SWB_OK);
    assert_config(h->parent, "\xc0", 1);
    assert_int_equal(swb_disconnect(h->parent, c.name), SWB_OK);
    int code, sig;
    assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, "t", NULL, 0, &c), SWB_OK);
    assert_config(h->parent, "\xc0", 1);
}

static void test_a_restarted_process_child_keeps_its_config(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, "crash", CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_READY, c.name, NULL, &m, 5000), SWB_OK);
    assert_int_not_equal(m.pid, c.pid); /* a new process under the same name */
    swb_msg_close(&m);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

static void test_a_reload_replacement_keeps_the_config(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, "old", CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_int_equal(swb_reload(h->parent, NULL, 10000), SWB_OK);
    assert_false(pid_alive(c.pid)); /* only the replacement is left to answer */
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

static void test_a_scaled_up_child_gets_the_config(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, "grp", CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_int_equal(swb_scale(h->parent, "grp", 2), SWB_OK);
    swb_msg_t m = {0};
    assert_int_equal(wait_event(h->parent, SWB_EVENT_READY, NULL, c.name, &m, 5000), SWB_OK);
    swb_msg_close(&m);
    /* The first one leaves: the new one alone answers. */
    assert_int_equal(swb_disconnect(h->parent, c.name), SWB_OK);
    int code, sig;
    assert_int_equal(swb_wait_exit(h->parent, c.name, &code, &sig, 5000), SWB_OK);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

static void test_a_pool_gives_its_workers_the_config(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        swb_pool_t *pool = NULL;
        swb_pool_opts_t o = SWB_OPTS(swb_pool_opts_t, .plugin = CONFIG_ECHO, .workers = 2,
                                     .mode = mode, .config = CONFIG, .config_len = sizeof CONFIG);
        assert_int_equal(swb_pool_new(&pool, &o), SWB_OK);
        for (int i = 0; i < 4; i++) {
            swb_msg_t r = {0};
            assert_int_equal(swb_pool_call(pool, NULL, 0, 5000, &r), SWB_OK);
            assert_int_equal(r.len, sizeof CONFIG);
            assert_memory_equal(r.body, CONFIG, sizeof CONFIG);
            swb_msg_close(&r);
        }
        swb_pool_destroy(&pool);
    }
}

static void test_a_config_that_is_not_msgpack_is_refused(void **state)
{
    harness_t *h = *state;
    swb_child_t c;
    /* The reserved byte, a value with bytes after it, a value cut short. */
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, NULL, "\xc1", 1, &c), SWB_E_BAD_VALUE);
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, NULL, "\x01\x02", 2, &c), SWB_E_BAD_VALUE);
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, NULL, "\x92\x01", 2, &c), SWB_E_BAD_VALUE);
    /* Nothing was started: a good spawn still works. */
    assert_int_equal(spawn_with(h, SWB_CHILD_THREAD, NULL, CONFIG, sizeof CONFIG, &c), SWB_OK);
    assert_config(h->parent, CONFIG, sizeof CONFIG);
}

static void test_an_oversized_config_is_refused(void **state)
{
    harness_t *h = *state;
    size_t len = SWB_CONFIG_MAX + 1;
    unsigned char *big = calloc(1, len);
    assert_non_null(big);
    uint32_t data = (uint32_t)(len - 5);
    big[0] = 0xc6;
    big[1] = (unsigned char)(data >> 24);
    big[2] = (unsigned char)(data >> 16);
    big[3] = (unsigned char)(data >> 8);
    big[4] = (unsigned char)data;
    swb_child_t c;
    assert_int_equal(spawn_with(h, SWB_CHILD_PROCESS, NULL, big, len, &c), SWB_E_TOO_LARGE);
    free(big);
}

/* ---- the command line: JSON in, msgpack to the plugin ---- */

/* {"k": [1, "x"]}, as `--config '{"k":[1,"x"]}'` gives it. */
static const unsigned char CLI_CONFIG[] = {0x81, 0xa1, 'k', 0x92, 0x01, 0xa1, 'x'};

static pid_t cli_pid;

static int teardown_cli(void **state)
{
    if (cli_pid > 0) {
        kill(-cli_pid, SIGKILL); /* its group: a broker's worker processes too */
        waitpid(cli_pid, NULL, 0);
        cli_pid = 0;
    }
    return harness_teardown(state);
}

static pid_t run_swb(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        execv(SWB_BIN_DIR "/swb", argv);
        _exit(127);
    }
    return pid;
}

/* Call until a worker serves config_echo (it joins by itself), then check the bytes. */
static void assert_config_soon(swb_peer_t *p, const void *want, size_t len)
{
    int64_t end = now_ms() + 10000;
    swb_msg_t r = {0};
    int rc;
    while ((rc = swb_call(p, "config_echo", NULL, 0, 2000, &r)) != SWB_OK && now_ms() < end) {
        swb_msg_close(&r);
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rc, SWB_OK);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, want, len);
    swb_msg_close(&r);
}

static void test_swb_worker_takes_a_json_config(void **state)
{
    harness_t *h = *state;
    char *argv[] = {"swb",       "worker",   "--endpoint",          h->endpoint, "--plugin",
                    CONFIG_ECHO, "--config", "{\"k\": [1, \"x\"]}", NULL};
    cli_pid = run_swb(argv);
    assert_true(cli_pid > 0);
    assert_config_soon(h->parent, CLI_CONFIG, sizeof CLI_CONFIG);
}

static void test_swb_broker_gives_its_workers_a_json_config(void **state)
{
    harness_t *h = *state;
    char ep[300];
    snprintf(ep, sizeof ep, "ipc://%s/cli.sock", h->dir);
    char *argv[] = {"swb",       "broker",   "--endpoint",        ep,  "--workers", "2", "--plugin",
                    CONFIG_ECHO, "--config", "{\"k\":[1,\"x\"]}", NULL};
    cli_pid = run_swb(argv);
    assert_true(cli_pid > 0);
    swb_peer_t *p = NULL;
    int64_t end = now_ms() + 10000;
    swb_peer_opts_t po = SWB_OPTS(swb_peer_opts_t, .endpoint = ep, .name = "cli-client");
    while (swb_peer_new(&p, &po) != SWB_OK && now_ms() < end) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(p);
    for (int i = 0; i < 4; i++)
        assert_config_soon(p, CLI_CONFIG, sizeof CLI_CONFIG);
    swb_peer_destroy(&p);
}

static void test_a_config_that_is_not_json_is_a_usage_error(void **state)
{
    (void)state;
    char *argv[] = {"swb", "worker", "--plugin", "echo", "--config", "{nope", NULL};
    pid_t pid = run_swb(argv);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
}

#define SWB_CLI(name) cmocka_unit_test_setup_teardown(name, harness_setup, teardown_cli)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        SWB_CT(test_a_thread_child_gets_its_config),
        SWB_CT(test_a_process_child_gets_its_config),
        SWB_CT(test_a_process_child_gets_a_config_of_the_largest_size),
        SWB_CT(test_no_config_is_nil),
        SWB_CT(test_a_restarted_process_child_keeps_its_config),
        SWB_CT(test_a_reload_replacement_keeps_the_config),
        SWB_CT(test_a_scaled_up_child_gets_the_config),
        SWB_CT(test_a_pool_gives_its_workers_the_config),
        SWB_CT(test_a_config_that_is_not_msgpack_is_refused),
        SWB_CT(test_an_oversized_config_is_refused),
        SWB_CLI(test_swb_worker_takes_a_json_config),
        SWB_CLI(test_swb_broker_gives_its_workers_a_json_config),
        SWB_CLI(test_a_config_that_is_not_json_is_a_usage_error),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
