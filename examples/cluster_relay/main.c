/*
 * cluster_relay - workers talking to each other through the broker, like the workers of a
 * Node cluster whose primary relays their messages.
 *
 * The parent starts four workers of the example plugin, two as threads and two as processes,
 * all serving the group "cluster". It sends each "go"; each worker then greets the group,
 * which the broker delivers to the three others, and each worker reports every greeting it
 * hears to its parent. The parent prints who heard whom as a 4x4 matrix and checks that all
 * 12 greetings arrived, once each. Exit status 0 only if they did.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "swb_body.h"
#include "switchboard.h"

#define N_WORKERS 4
#define WAIT_MS   5000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "cluster_relay: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int index_of(const swb_child_t *w, const char *name)
{
    for (int i = 0; i < N_WORKERS; i++)
        if (strcmp(w[i].name, name) == 0)
            return i;
    return -1;
}

/* Start two workers in `mode` named <prefix>-0 and <prefix>-1 into w[0..1]. */
static int start_two(swb_peer_t *parent, int mode, const char *prefix, swb_child_t *w)
{
    swb_spawn_opts_t so = {.plugin = "cluster_relay", .name = prefix, .mode = mode, .count = 2};
    size_t n = 0;
    int rc = swb_spawn(parent, &so, w, 2, &n);
    return rc == SWB_OK && n != 2 ? SWB_E_SPAWN : rc;
}

/* Collect reports until all 12 came or the time is up; heard[by][from] counts them. */
static int collect(swb_peer_t *parent, const swb_child_t *w, int heard[N_WORKERS][N_WORKERS])
{
    int got = 0, odd = 0;
    swb_msg_t m = {0};
    int64_t deadline = now_ms() + WAIT_MS;
    while (got < N_WORKERS * (N_WORKERS - 1) && now_ms() < deadline) {
        if (swb_peer_recv(parent, &m, (int)(deadline - now_ms())) != SWB_OK)
            break;
        if (m.type == SWB_MSG_ERROR) {
            fprintf(stderr, "cluster_relay: error: %s: %s\n", swb_errname(m.code), m.text);
            odd++;
            continue;
        }
        if (m.type != SWB_MSG_DELIVER)
            continue;
        char from[SWB_NAME_MAX + 1] = "";
        swb_body_t in;
        swb_body_open(&in, m.body, m.len); /* on failure "heard" reads as missing */
        swb_body_strcpy(&in, "heard", from, sizeof from);
        int by = index_of(w, m.from), fr = index_of(w, from);
        if (by < 0 || fr < 0) {
            fprintf(stderr, "cluster_relay: unexpected message from %s\n", m.from);
            odd++;
            continue;
        }
        heard[by][fr]++;
        got++;
    }
    swb_msg_close(&m);
    return odd;
}

static int run(swb_peer_t *parent)
{
    swb_child_t w[N_WORKERS];
    int rc;
    if ((rc = start_two(parent, SWB_CHILD_THREAD, "thread", &w[0])) != SWB_OK ||
        (rc = start_two(parent, SWB_CHILD_PROCESS, "process", &w[2])) != SWB_OK)
        return fail("cannot start the workers", rc);
    for (int i = 0; i < N_WORKERS; i++)
        printf("started %-9s (%s, pid %d)\n", w[i].name, i < 2 ? "thread" : "process", w[i].pid);

    static const unsigned char go[] = {0xa2, 'g', 'o'}; /* msgpack "go" */
    for (int i = 0; i < N_WORKERS; i++)
        if ((rc = swb_peer_send(parent, w[i].name, go, sizeof go)) != SWB_OK)
            return fail("cannot send \"go\"", rc);
    printf("sent \"go\" to all four; each greets the group \"cluster\"\n\n");

    int heard[N_WORKERS][N_WORKERS] = {{0}};
    int odd = collect(parent, w, heard);

    printf("who heard whom (row: the worker that heard, column: the one it heard):\n%-10s", "");
    for (int j = 0; j < N_WORKERS; j++)
        printf(j + 1 < N_WORKERS ? " %-10s" : " %s\n", w[j].name);
    int ok = 0, bad = 0;
    for (int i = 0; i < N_WORKERS; i++) {
        printf("%-10s", w[i].name);
        for (int j = 0; j < N_WORKERS; j++) {
            const char *cell = i == j             ? (heard[i][j] ? "SELF!" : "-")
                               : heard[i][j] == 1 ? "yes"
                               : heard[i][j] == 0 ? "MISSING"
                                                  : "TWICE!";
            printf(j + 1 < N_WORKERS ? " %-10s" : " %s\n", cell);
            if (heard[i][j] != (i == j ? 0 : 1))
                bad++;
            else if (i != j)
                ok++;
        }
    }
    printf("\n%d of %d greetings arrived\n", ok, N_WORKERS * (N_WORKERS - 1));
    return ok == N_WORKERS * (N_WORKERS - 1) && bad == 0 && odd == 0 ? 0 : 1;
}

int main(void)
{
    swb_broker_t *broker = NULL;
    swb_broker_opts_t bo = {.private_ipc = 1}; /* threads use inproc, processes this ipc */
    int rc = swb_broker_new(&broker, &bo);
    if (rc == SWB_OK && (rc = swb_broker_start(broker)) != SWB_OK)
        swb_broker_destroy(&broker);
    if (rc)
        return fail("cannot start the broker", rc);
    swb_peer_t *parent = NULL;
    swb_peer_opts_t po = {.broker = broker, .name = "main"};
    int failed = 1;
    if ((rc = swb_peer_new(&parent, &po)) != SWB_OK)
        fail("cannot join the broker", rc);
    else
        failed = run(parent);
    swb_peer_destroy(&parent);
    swb_broker_destroy(&broker); /* tells the workers to leave and reaps the processes */
    puts(failed ? "cluster_relay: FAILED" : "cluster_relay: ok");
    return failed;
}
