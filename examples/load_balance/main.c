/*
 * load_balance - the broker gives tasks to the worker that is free, so a fast worker takes
 * most of them.
 *
 * Two workers of the example plugin serve "work": "fast" (2 ms a task) and "slow" (20 ms, its
 * name contains "slow"). The program submits 100 tasks at once, collects the results with
 * swb_wait_any, and counts who ran each (the reply names the worker). Then it asks the broker
 * for STATS and prints each worker's "done" count, which must agree. Round-robin would give
 * each 50; least-loaded dispatch gives the fast one about ten times as many. Exit status 0
 * only if every task succeeded, the counts agree and the fast worker took most.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swb_body.h"
#include "switchboard.h"

#define N_TASKS 100
#define WAIT_MS 10000

static const char *const names[2] = {"fast", "slow"};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "load_balance: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

static int which(const char *name)
{
    return strcmp(name, names[0]) == 0 ? 0 : strcmp(name, names[1]) == 0 ? 1 : -1;
}

/* Submit N_TASKS, wait for them all, count them per worker into took[]. */
static int run_tasks(swb_peer_t *p, int took[2])
{
    static const unsigned char nil = 0xc0; /* the tasks carry no input */
    for (int i = 0; i < N_TASKS; i++) {
        int rc = swb_submit(p, "work", &nil, 1, NULL, NULL);
        if (rc)
            return fail("cannot submit", rc);
    }
    printf("submitted %d tasks at once\n", N_TASKS);
    swb_msg_t m = {0};
    int failed = 0;
    for (int i = 0; i < N_TASKS; i++) {
        int rc = swb_wait_any(p, &m, WAIT_MS);
        if (rc) {
            fprintf(stderr, "load_balance: a task failed: %s: %s\n", swb_errname(rc),
                    m.text[0] ? m.text : swb_strerror(rc));
            failed = 1;
            if (rc == SWB_E_TIMEOUT)
                break;
            continue;
        }
        char worker[SWB_NAME_MAX + 1] = "";
        swb_body_t in;
        swb_body_open(&in, m.body, m.len); /* on failure "worker" reads as missing */
        swb_body_strcpy(&in, "worker", worker, sizeof worker);
        int w = which(worker);
        if (w < 0)
            failed = 1;
        else
            took[w]++;
    }
    swb_msg_close(&m);
    return failed;
}

/* Read each worker's "done" from the broker's STATS: {"peers": [{"name", "done"}, ...]}. */
static int read_done(swb_peer_t *p, int64_t done[2])
{
    void *body = NULL;
    size_t len = 0;
    int rc = swb_peer_stats(p, &body, &len, 5000);
    if (rc)
        return fail("no STATS", rc);
    swb_body_t in, peers, peer;
    rc = swb_body_open(&in, body, len);
    /* A STATS without a "peers" array has no counts to read: done[] stays -1. */
    if (rc == 0 && swb_body_array(&in, "peers", &peers) == 0) {
        for (uint32_t i = 0; i < swb_body_count(&peers); i++) {
            char name[SWB_NAME_MAX + 1];
            if (swb_body_at_map(&peers, i, &peer) != 0)
                continue;
            int w = swb_body_strcpy(&peer, "name", name, sizeof name) ? -1 : which(name);
            if (w >= 0)
                swb_body_i64(&peer, "done", &done[w]);
        }
    }
    free(body);
    return rc ? fail("bad STATS", rc) : 0;
}

static int run(swb_peer_t *p)
{
    for (int i = 0; i < 2; i++) {
        swb_spawn_opts_t so = {
            .plugin = "load_balance", .name = names[i], .mode = SWB_CHILD_THREAD};
        swb_child_t c;
        size_t n = 0;
        int rc = swb_spawn(p, &so, &c, 1, &n);
        if (rc)
            return fail("cannot start a worker", rc);
    }
    printf("workers: fast (2 ms a task) and slow (20 ms a task), one task at a time each\n");

    int took[2] = {0, 0};
    int64_t done[2] = {-1, -1};
    int failed = run_tasks(p, took);
    failed |= read_done(p, done);
    for (int i = 0; i < 2; i++)
        printf("  %-4s took %3d tasks   (STATS done: %lld)\n", names[i], took[i],
               (long long)done[i]);
    int agree = took[0] == done[0] && took[1] == done[1];
    if (!agree)
        fprintf(stderr, "load_balance: the counts and STATS disagree\n");
    if (took[0] <= took[1])
        fprintf(stderr, "load_balance: the fast worker did not take most tasks\n");
    else
        printf("the fast worker took %d of %d\n", took[0], N_TASKS);
    return failed || !agree || took[0] + took[1] != N_TASKS || took[0] <= took[1];
}

int main(void)
{
    swb_broker_t *broker = NULL;
    swb_broker_opts_t bo = {.no_default = 1}; /* thread workers only: inproc is enough */
    int rc = swb_broker_new(&broker, &bo);
    if (rc == SWB_OK && (rc = swb_broker_start(broker)) != SWB_OK)
        swb_broker_destroy(&broker);
    if (rc)
        return fail("cannot start the broker", rc);
    swb_peer_t *p = NULL;
    swb_peer_opts_t po = {.broker = broker, .name = "main"};
    int failed = 1;
    if ((rc = swb_peer_new(&p, &po)) != SWB_OK)
        fail("cannot join the broker", rc);
    else
        failed = run(p);
    swb_peer_destroy(&p);
    swb_broker_destroy(&broker);
    puts(failed ? "load_balance: FAILED" : "load_balance: ok");
    return failed;
}
