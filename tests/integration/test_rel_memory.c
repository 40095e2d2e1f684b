/*
 * Reliability: the broker's memory bound.
 *
 * Promise: a `swb broker --max-memory 64` sent 1 MiB task bodies faster than its one worker
 * can take them refuses new tasks with `queue_full` and a text naming the bound once its heap
 * passes 64 MiB, answers every task it took, and once they are done takes new tasks again.
 * Every submitted task ends in exactly one outcome: a result or that refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define WAVE     100
#define BODY_MB  1
#define TASK_MS  20
#define BOUND_MB "64"

typedef struct {
    harness_t h;
    pid_t broker;
    swb_peer_t *client;
} memt_t;

static int setup(void **state)
{
    memt_t *t = calloc(1, sizeof *t);
    if (!t || harness_dir(&t->h) != 0) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    memt_t *t = *state;
    swb_peer_destroy(&t->client);
    harness_kill_reap(t->broker); /* its worker follows it (PR_SET_PDEATHSIG) */
    harness_rmdir(&t->h);
    free(t);
    return 0;
}

static pid_t start_broker(memt_t *t)
{
    char *argv[] = {SWB_BIN_DIR "/swb", "broker", "-e",        t->h.endpoint,
                    "--max-memory",     BOUND_MB, "--workers", "1",
                    "--plugin",         "sleep",  NULL};
    return harness_exec(argv, -1, 0);
}

/* {"ms": TASK_MS, "pad": <BODY_MB MiB>} */
static void *big_body(size_t *len)
{
    static char pad[(BODY_MB << 20) - 1024]; /* the sleep plugin reads up to 1 MiB */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "ms", 2);
    msgpack_pack_int(&pk, TASK_MS);
    msgpack_pack_str_with_body(&pk, "pad", 3);
    msgpack_pack_bin_with_body(&pk, pad, sizeof pad);
    *len = sb.size;
    return msgpack_sbuffer_release(&sb);
}

static int call_sleep(swb_peer_t *p)
{
    size_t len;
    void *body = pack_map_int(&len, "ms", 0);
    swb_msg_t r = {0};
    int rc = swb_call(p, "sleep", body, len, 5000, &r);
    swb_msg_close(&r);
    free(body);
    return rc;
}

static void test_past_the_memory_bound_new_tasks_get_queue_full(void **state)
{
    memt_t *t = *state;
    t->broker = start_broker(t);
    assert_true(t->broker > 0);
    swb_peer_opts_t o = SWB_OPTS(swb_peer_opts_t, .endpoint = t->h.endpoint);
    for (int i = 0; i < 50 && !t->client; i++) /* until the broker is up */
        if (swb_peer_new(&t->client, &o) != SWB_OK)
            usleep(100 * 1000);
    assert_non_null(t->client);
    /* The worker is up once a call goes through. */
    int rc = SWB_E_NO_SERVICE;
    for (int i = 0; i < 100 && rc != SWB_OK; i++)
        if ((rc = call_sleep(t->client)) != SWB_OK)
            usleep(100 * 1000);
    assert_int_equal(rc, SWB_OK);

    size_t len;
    void *body = big_body(&len);
    static uint64_t ids[2 * WAVE];
    static int seen[2 * WAVE];
    for (int i = 0; i < 2 * WAVE; i++) {
        if (i == WAVE)
            usleep(500 * 1000); /* a few of the broker's ticks: it has looked at its heap */
        assert_int_equal(swb_submit(t->client, "sleep", body, len, NULL, &ids[i]), SWB_OK);
    }
    free(body);

    int ok = 0, refused = 0, other = 0;
    for (int n = 0; n < 2 * WAVE; n++) {
        swb_msg_t r = {0};
        rc = swb_wait_any(t->client, &r, 30000);
        int k = -1;
        for (int i = 0; i < 2 * WAVE && k < 0; i++)
            if (ids[i] == r.id)
                k = i;
        if (k < 0)
            fail_msg("outcome %d for no task of ours (id %llu)", rc, (unsigned long long)r.id);
        if (seen[k]++)
            fail_msg("task %d answered twice", k);
        if (rc == SWB_OK)
            ok++;
        else if (rc == SWB_E_QUEUE_FULL && strstr(r.text, "memory bound"))
            refused++;
        else {
            other++;
            fprintf(stderr, "task %d: %s (%s)\n", k, swb_strerror(rc), r.text);
        }
        swb_msg_close(&r);
    }
    printf("memory bound: %d tasks of %d MiB: %d answered, %d refused, %d other\n", 2 * WAVE,
           BODY_MB, ok, refused, other);
    assert_int_equal(swb_peer_outstanding(t->client), 0);
    assert_int_equal(other, 0);
    /* Where the bound trips within the first wave depends on when the broker looks. */
    assert_int_equal(ok + refused, 2 * WAVE);
    assert_true(ok >= 1);
    assert_true(refused >= 1);
    assert_true(harness_stat(t->client, "memory_pauses") >= 1);

    /* Its tasks done, the heap is back under the bound: new tasks are taken again. */
    rc = SWB_E_QUEUE_FULL;
    for (int i = 0; i < 50 && rc != SWB_OK; i++)
        if ((rc = call_sleep(t->client)) != SWB_OK)
            usleep(100 * 1000);
    assert_int_equal(rc, SWB_OK);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_past_the_memory_bound_new_tasks_get_queue_full, setup,
                                        teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
