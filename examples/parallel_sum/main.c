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

#include "../../workers/plugin_util.h"
#include "switchboard.h"

#define N_PARTS 3
#define WAIT_MS 10000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "parallel_sum: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

/* {"from": from, "to": to} into o. */
static int pack_range(pu_out_t *o, int64_t from, int64_t to)
{
    return msgpack_pack_map(&o->pk, 2) || pu_pack_str(&o->pk, "from") ||
                   msgpack_pack_int64(&o->pk, from) || pu_pack_str(&o->pk, "to") ||
                   msgpack_pack_int64(&o->pk, to)
               ? SWB_E_NOMEM
               : 0;
}

static int run(swb_pool_t *pool)
{
    swb_peer_t *client = swb_pool_peer(pool);
    const char *service = swb_pool_service(pool);
    uint64_t ids[N_PARTS];
    int rc;

    /* Submit all three before waiting for any: they run at the same time. */
    for (int i = 0; i < N_PARTS; i++) {
        pu_out_t o;
        pu_out_init(&o);
        rc = pack_range(&o, i * 100000 + 1, (i + 1) * 100000);
        if (rc == 0)
            rc = swb_submit(client, service, o.sb.data, o.sb.size, NULL, &ids[i]);
        pu_out_destroy(&o);
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
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        if (pu_unpack(m.body, m.len, &u) == 0) {
            pu_get_i64(pu_map_get(&u.data, "sum"), &sum);
            pu_get_i64(pu_map_get(&u.data, "pid"), &pid);
            pu_get_str(pu_map_get(&u.data, "worker"), worker, sizeof worker);
        }
        msgpack_unpacked_destroy(&u);
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
