/*
 * parallel_sum - Promise.all over a pool of three worker processes.
 *
 *     const parts = await Promise.all([sum(1, 100000), sum(100001, 200000),
 *                                      sum(200001, 300000)]);
 *
 * A pool (swb_pool_new: a private broker plus three processes of the example plugin, which
 * serves "sum") gets the three ranges submitted at once with swb_submit; then each result
 * is awaited with swb_wait and printed with the worker that computed it, and the parts are
 * added up: 45000150000. Exit status 0 only if every part and the total are right.
 */
#include <inttypes.h>
#include <stdio.h>

#include "swb_body.h"
#include "switchboard.h"

#define N_PARTS 3
#define WAIT_MS 10000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "parallel_sum: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

/* Submit {"from": from, "to": to} to the service. */
static int submit_range(swb_peer_t *client, const char *service, int64_t from, int64_t to,
                        uint64_t *id)
{
    swb_out_t o;
    const void *body;
    size_t len;
    swb_out_init(&o);
    swb_out_int(&o, "from", from);
    swb_out_int(&o, "to", to);
    int rc = swb_out_finish(&o, &body, &len);
    if (rc == 0)
        rc = swb_submit(client, service, body, len, NULL, id);
    swb_out_free(&o);
    return rc;
}

static int run(swb_pool_t *pool)
{
    swb_peer_t *client = swb_pool_peer(pool);
    const char *service = swb_pool_service(pool);
    uint64_t ids[N_PARTS];
    int rc;

    /* Submit all three before waiting for any: they run at the same time. */
    for (int i = 0; i < N_PARTS; i++) {
        rc = submit_range(client, service, i * 100000 + 1, (i + 1) * 100000, &ids[i]);
        if (rc)
            return fail("cannot submit", rc);
    }
    printf("submitted %d tasks to \"%s\" at once; awaiting all of them\n", N_PARTS, service);

    int failed = 0;
    int64_t total = 0;
    swb_msg_t m = {0};
    for (int i = 0; i < N_PARTS; i++) {
        int64_t from = i * 100000 + 1, to = (i + 1) * 100000;
        if ((rc = swb_wait(client, ids[i], &m, WAIT_MS)) != SWB_OK) {
            fprintf(stderr, "parallel_sum: task %d failed: %s: %s\n", i, swb_errname(rc),
                    m.text[0] ? m.text : swb_strerror(rc));
            failed = 1;
            continue;
        }
        int64_t sum = -1, pid = -1;
        char worker[SWB_NAME_MAX + 1] = "?";
        swb_body_t in;
        swb_body_open(&in, m.body, m.len); /* on failure the fields read as missing */
        swb_body_i64(&in, "sum", &sum);
        swb_body_i64(&in, "pid", &pid);
        swb_body_strcpy(&in, "worker", worker, sizeof worker);
        int64_t want = (from + to) * (to - from + 1) / 2;
        char what[64];
        snprintf(what, sizeof what, "sum(%" PRId64 "..%" PRId64 ")", from, to);
        printf("  %-20s = %11" PRId64 "   by %s (pid %" PRId64 ")%s\n", what, sum, worker, pid,
               sum == want ? "" : "  WRONG");
        failed |= sum != want;
        total += sum;
    }
    swb_msg_close(&m);
    printf("  %-20s = %11" PRId64 "   (expected 45000150000)\n", "total", total);
    return failed || total != 45000150000;
}

int main(void)
{
    swb_pool_t *pool = NULL;
    swb_pool_opts_t o = {.plugin = "parallel_sum", .workers = N_PARTS, .mode = SWB_CHILD_PROCESS};
    int rc = swb_pool_new(&pool, &o);
    if (rc)
        return fail("cannot start the pool", rc);
    printf("pool of %d worker processes serving \"%s\"\n", N_PARTS, swb_pool_service(pool));
    int failed = run(pool);
    swb_pool_destroy(&pool); /* stops the workers and removes the pool's socket */
    puts(failed ? "parallel_sum: FAILED" : "parallel_sum: ok");
    return failed;
}
