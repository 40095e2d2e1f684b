/*
 * Reliability: a task ledger under chaos.
 *
 * Promise: every submitted task ends in exactly one RESULT or one ERROR - never none, never two -
 * while the workers serving it are killed under it. One service ("busy") is served by worker
 * processes of two kinds: children the test's parent spawns through the broker (supervised: the
 * broker restarts them) and independent swb-worker processes (the test restarts them, under new
 * names). A client submits 10 000 tasks, at most 256 in flight, each with a unique tag in its
 * body, and books every outcome in a ledger by task. Meanwhile a killer thread SIGKILLs a random
 * live worker every 100-200 ms (seeded; the seed is printed, and SWB_LEDGER_SEED=S replays its
 * choices, though not the timing). At the end: every task has exactly one outcome (lost 0), none
 * has a second and none arrives for an unknown task (duplicates 0), every RESULT is its own
 * task's answer, every ERROR is worker_lost (its attempts ran out under the kills), kills > 0,
 * and the broker retried tasks (the kills landed on tasks in flight).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define BUSY       TEST_PLUGIN("busy")
#define SERVICE    "busy" /* what busy.so serves, spawned or started by path */
#define N_TASKS    10000
#define IN_FLIGHT  256
#define N_CHILDREN 4
#define N_EXTERNAL 2
#define N_SLOTS    (N_CHILDREN + N_EXTERNAL)
#define TASK_MS    1     /* each task spins about this long, so kills find tasks running */
#define RUN_MS     40000 /* the ledger's hard limit, chaos included (CTest allows 120 s) */
#define STALL_MS   10000 /* no outcome this long with tasks in flight: the rest are lost */
#define SETTLE_MS  500   /* after the last outcome, listen this long for second ones */

/* A worker the killer may hit. Guarded by chaos.mu: the killer thread and the test's loop both
 * change it. */
typedef struct {
    char name[SWB_NAME_MAX + 1];
    int external;
    int pid;         /* live and killable; 0 while it is (re)starting */
    int last_killed; /* so a late READY of a killed child does not arm its pid again */
    int dead;        /* external only: killed, not reaped yet (then restarted) */
    unsigned gen;    /* external only: restarts, for a fresh name each time */
} slot_t;

typedef struct {
    pthread_mutex_t mu;
    slot_t slots[N_SLOTS];
    uint64_t rng; /* the killer's alone once it runs */
    int stop;     /* atomic */
    int kills, kills_child, kills_ext;
} chaos_t;

/* File-level so the teardown can end them whatever happened in the test. */
static chaos_t chaos = {.mu = PTHREAD_MUTEX_INITIALIZER};
static pthread_t killer_thread;
static int killer_started;
static swb_peer_t *client;

/* The ledger, by task index. */
static uint64_t ids[N_TASKS];       /* increasing: a peer numbers its requests in order */
static unsigned char seen[N_TASKS]; /* outcomes booked */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Only kill(2) on pids the loop has armed, and each pid once: a child's pid is armed on its
 * READY (a child killed before READY is given up by design, which would shrink the pool), an
 * external worker's when the test starts it. */
static void *killer(void *arg)
{
    chaos_t *c = arg;
    for (int round = 0; round < RUN_MS / 100 + 10; round++) { /* bounded even if never told */
        int64_t wake = now_ms() + 100 + (int64_t)(splitmix64(&c->rng) % 101);
        while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) && now_ms() < wake)
            sleep_ms(5);
        if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
            break;
        pthread_mutex_lock(&c->mu);
        int live[N_SLOTS], n = 0;
        for (int i = 0; i < N_SLOTS; i++)
            if (c->slots[i].pid > 0)
                live[n++] = i;
        if (n > 0) {
            slot_t *s = &c->slots[live[splitmix64(&c->rng) % (uint64_t)n]];
            if (kill(s->pid, SIGKILL) == 0) {
                c->kills++;
                if (s->external)
                    c->kills_ext++;
                else
                    c->kills_child++;
            }
            s->last_killed = s->pid;
            if (s->external)
                s->dead = s->pid;
            s->pid = 0;
        }
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

static void stop_killer(void)
{
    __atomic_store_n(&chaos.stop, 1, __ATOMIC_RELEASE);
    if (killer_started)
        pthread_join(killer_thread, NULL);
    killer_started = 0;
}

/* Start (again) the external worker of slot s, under a new name: the broker may still hold the
 * old name until it notices the death (heartbeat), and would refuse it. */
static int start_external(harness_t *h, slot_t *s)
{
    char name[SWB_NAME_MAX + 1];
    snprintf(name, sizeof name, "ledger-ext%d-g%u", (int)(s - chaos.slots), s->gen++);
    int pid = harness_start_worker(h->endpoint, name, BUSY);
    pthread_mutex_lock(&chaos.mu);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->pid = pid > 0 ? pid : 0;
    pthread_mutex_unlock(&chaos.mu);
    return pid;
}

/* Reap external workers that died (killed, or on their own) and start them again. Reaped under
 * the lock, so the killer can never hit a pid that the kernel may have reused. */
static void tend_externals(harness_t *h, int *unexpected_exits)
{
    for (int i = N_CHILDREN; i < N_SLOTS; i++) {
        slot_t *s = &chaos.slots[i];
        int restart = 0;
        pthread_mutex_lock(&chaos.mu);
        int pid = s->dead ? s->dead : s->pid;
        if (pid > 0) {
            pid_t r = waitpid(pid, NULL, WNOHANG);
            if (r == pid || (r < 0 && errno == ECHILD)) {
                if (!s->dead)
                    (*unexpected_exits)++;
                s->pid = s->dead = 0;
                restart = 1;
            }
        }
        pthread_mutex_unlock(&chaos.mu);
        if (restart && start_external(h, s) <= 0)
            fail_msg("could not start external worker %d again", i - N_CHILDREN);
    }
}

/* A child's life, as its parent hears it: READY arms its new pid, EXIT or LOST disarms it. */
static void on_event(const swb_msg_t *m, int *gave_up)
{
    if (m->event == SWB_EVENT_GAVE_UP) {
        (*gave_up)++;
        printf("ledger: child %s given up: %s\n", m->name, m->text);
    }
    pthread_mutex_lock(&chaos.mu);
    for (int i = 0; i < N_CHILDREN; i++) {
        slot_t *s = &chaos.slots[i];
        if (strcmp(s->name, m->name) != 0)
            continue;
        if (m->event == SWB_EVENT_READY && m->pid > 0 && m->pid != s->last_killed)
            s->pid = m->pid;
        else if ((m->event == SWB_EVENT_EXIT || m->event == SWB_EVENT_LOST) && s->pid == m->pid)
            s->pid = 0;
    }
    pthread_mutex_unlock(&chaos.mu);
}

/* Task i's body: {"task-<i>": TASK_MS}. busy.c spins for the one value of a one-entry map, of
 * whatever key, and answers with the body itself, so the answer names its task: one delivered
 * to another task differs from that task's body. */
static void *task_body(int i, size_t *len)
{
    char tag[32];
    snprintf(tag, sizeof tag, "task-%d", i);
    return pack_map_int(len, tag, TASK_MS);
}

/* The task index of id among the n submitted so far, or -1. */
static int index_of(uint64_t id, int n)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return mid;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Integer `key` of the service map named `svc` in a STATS body, or -1. */
static int64_t service_stat(const void *body, size_t len, const char *svc, const char *key)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int64_t v = -1;
    if (msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 8 ||
                memcmp(kv->key.via.str.ptr, "services", 8) != 0 ||
                kv->val.type != MSGPACK_OBJECT_ARRAY)
                continue;
            for (uint32_t j = 0; j < kv->val.via.array.size; j++) {
                msgpack_sbuffer sb; /* repack the one service map for unpack_map_* */
                msgpack_sbuffer_init(&sb);
                msgpack_packer pk;
                msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
                msgpack_pack_object(&pk, kv->val.via.array.ptr[j]);
                char name[SWB_NAME_MAX + 1];
                if (unpack_map_str(sb.data, sb.size, "name", name, sizeof name) == 0 &&
                    strcmp(name, svc) == 0)
                    unpack_map_int(sb.data, sb.size, key, &v);
                msgpack_sbuffer_destroy(&sb);
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return v;
}

typedef struct {
    int outcomes, results, errors, duplicates, wrong, bad_codes, bad_code;
    char bad_text[256];
} ledger_t;

/* Book one message from the client's socket. */
static void book(ledger_t *l, const swb_msg_t *m, int submitted)
{
    if (m->type != SWB_MSG_RESULT && m->type != SWB_MSG_ERROR)
        return;
    int i = index_of(m->id, submitted);
    if (i < 0 || seen[i]) {
        if (l->duplicates++ < 10)
            printf("ledger: second or unknown outcome: id %llu (task %d) code %s\n",
                   (unsigned long long)m->id, i, swb_errname(m->code));
        return;
    }
    seen[i] = 1;
    l->outcomes++;
    if (m->type == SWB_MSG_RESULT && m->code == SWB_OK) {
        l->results++;
        size_t len;
        void *want = task_body(i, &len);
        if (m->len != len || memcmp(m->body, want, len) != 0)
            l->wrong++;
        free(want);
        return;
    }
    l->errors++;
    if (m->code != SWB_E_WORKER_LOST && !l->bad_codes++) {
        l->bad_code = m->code;
        snprintf(l->bad_text, sizeof l->bad_text, "%s", m->text);
    }
}

static int ledger_setup(void **state)
{
    memset(&chaos.slots, 0, sizeof chaos.slots);
    chaos.stop = chaos.kills = chaos.kills_child = chaos.kills_ext = 0;
    /* The default restart intensity (5 in 10 s, backoff up to 10 s) would give up children
     * that are killed about once a second; the test is about tasks, not about giving up. */
    swb_broker_opts_t o =
        SWB_OPTS(swb_broker_opts_t, .restart_backoff_min_ms = 10, .restart_backoff_max_ms = 50,
                 .max_restarts = 1000, .restart_period_ms = 10000);
    return harness_setup_with(state, &o);
}

static int ledger_teardown(void **state)
{
    stop_killer();
    swb_peer_destroy(&client);
    for (int i = N_CHILDREN; i < N_SLOTS; i++) {
        slot_t *s = &chaos.slots[i];
        harness_kill_reap(s->dead ? s->dead : s->pid); /* not reaped yet, so still ours */
        s->pid = s->dead = 0;
    }
    return harness_teardown(state);
}

static void test_ledger_every_task_ends_once_under_kills(void **state)
{
    harness_t *h = *state;
    const char *env_seed = getenv("SWB_LEDGER_SEED");
    uint64_t seed =
        env_seed ? strtoull(env_seed, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    chaos.rng = seed;
    printf("ledger: seed=%llu (SWB_LEDGER_SEED=%llu replays the kill choices)\n",
           (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout); /* shown even if the run dies */

    swb_child_t kids[N_CHILDREN];
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = BUSY, .name = "ledger",
                                   .count = N_CHILDREN, .timeout_ms = 20000);
    assert_int_equal(swb_spawn(h->parent, &so, kids, N_CHILDREN, &n), SWB_OK);
    assert_int_equal(n, N_CHILDREN);
    pthread_mutex_lock(&chaos.mu);
    for (int i = 0; i < N_CHILDREN; i++) {
        snprintf(chaos.slots[i].name, sizeof chaos.slots[i].name, "%s", kids[i].name);
        chaos.slots[i].pid = kids[i].pid;
    }
    for (int i = N_CHILDREN; i < N_SLOTS; i++)
        chaos.slots[i].external = 1;
    pthread_mutex_unlock(&chaos.mu);
    for (int i = N_CHILDREN; i < N_SLOTS; i++)
        assert_true(start_external(h, &chaos.slots[i]) > 0);

    client = harness_client(h, "ledger-client");
    assert_non_null(client);
    /* A guard that busy.so still spins for a body like ours: else the tasks would take no time
     * and the kills would rarely find one running. */
    {
        size_t len;
        void *body = pack_map_int(&len, "guard", 50);
        swb_msg_t r = {0};
        int64_t t0 = now_ms();
        assert_int_equal(swb_call(client, SERVICE, body, len, 20000, &r), SWB_OK);
        assert_true(now_ms() - t0 >= 50);
        assert_int_equal(r.len, len);
        assert_memory_equal(r.body, body, len);
        swb_msg_close(&r);
        free(body);
    }

    assert_int_equal(pthread_create(&killer_thread, NULL, killer, &chaos), 0);
    killer_started = 1;

    ledger_t l = {0};
    memset(seen, 0, sizeof seen);
    int submitted = 0, gave_up = 0, unexpected_exits = 0;
    swb_msg_t m = {0}, ev = {0};
    int64_t t0 = now_ms(), end = t0 + RUN_MS, last_outcome = t0;
    while (l.outcomes < N_TASKS && now_ms() < end && now_ms() - last_outcome < STALL_MS) {
        while (submitted < N_TASKS && submitted - l.outcomes < IN_FLIGHT) {
            size_t len;
            void *body = task_body(submitted, &len);
            uint64_t id = 0;
            int rc = swb_submit(client, SERVICE, body, len, NULL, &id);
            free(body);
            if (rc != SWB_OK)
                fail_msg("submit of task %d: %s", submitted, swb_strerror(rc));
            assert_true(submitted == 0 || id > ids[submitted - 1]); /* for index_of */
            ids[submitted++] = id;
        }
        /* Drain what is there (bounded), waiting a little only for the first. */
        int before = l.outcomes;
        for (int k = 0; k < 4 * IN_FLIGHT && swb_peer_recv(client, &m, k ? 0 : 10) == SWB_OK; k++)
            book(&l, &m, submitted);
        if (l.outcomes > before)
            last_outcome = now_ms();
        /* The parent hears its children's lives; read it often, it must keep beating too. */
        for (int k = 0; k < 64 && swb_peer_recv(h->parent, &ev, 0) == SWB_OK; k++)
            if (ev.type == SWB_MSG_EVENT)
                on_event(&ev, &gave_up);
        tend_externals(h, &unexpected_exits);
    }
    int64_t run_ms = now_ms() - t0;
    stop_killer();

    /* A second answer would come after the first: listen a while longer for one (and keep
     * the parent beating meanwhile). */
    for (int64_t settle = now_ms() + SETTLE_MS; now_ms() < settle;) {
        if (swb_peer_recv(client, &m, 20) == SWB_OK)
            book(&l, &m, submitted);
        swb_peer_recv(h->parent, &ev, 0);
    }
    swb_msg_close(&m);
    swb_msg_close(&ev);

    void *stats = NULL;
    size_t stats_len = 0;
    int64_t retried = -1, late = -1, restarts = -1;
    if (swb_peer_stats(h->parent, &stats, &stats_len, 5000) == SWB_OK) {
        retried = service_stat(stats, stats_len, SERVICE, "retried");
        late = service_stat(stats, stats_len, SERVICE, "duplicates");
        unpack_map_int(stats, stats_len, "restarts", &restarts);
    }
    free(stats);

    int lost = 0;
    for (int i = 0; i < submitted; i++)
        lost += !seen[i];
    lost += N_TASKS - submitted;
    pthread_mutex_lock(&chaos.mu);
    int kills = chaos.kills, kills_child = chaos.kills_child, kills_ext = chaos.kills_ext;
    pthread_mutex_unlock(&chaos.mu);
    printf("ledger: tasks=%d kills=%d results=%d errors=%d lost=%d duplicates=%d seed=%llu\n",
           N_TASKS, kills, l.results, l.errors, lost, l.duplicates, (unsigned long long)seed);
    printf("ledger: %lld ms; kills of children %d, of external workers %d; broker: retried %lld, "
           "late answers dropped %lld, restarts %lld; children given up %d; external workers that "
           "exited unkilled %d; wrong answers %d; errors other than worker_lost %d\n",
           (long long)run_ms, kills_child, kills_ext, (long long)retried, (long long)late,
           (long long)restarts, gave_up, unexpected_exits, l.wrong, l.bad_codes);
    fflush(stdout);

    if (lost)
        fail_msg("%d of %d tasks never got an outcome (%zu outstanding at the client)", lost,
                 N_TASKS, swb_peer_outstanding(client));
    assert_int_equal(l.duplicates, 0);
    assert_int_equal(l.outcomes, N_TASKS);
    assert_int_equal(swb_peer_outstanding(client), 0);
    if (l.wrong)
        fail_msg("%d results were not their own task's answer", l.wrong);
    if (l.bad_codes)
        fail_msg("%d errors were not worker_lost; the first: %s (%s)", l.bad_codes,
                 swb_errname(l.bad_code), l.bad_text);
    assert_int_equal(l.results + l.errors, N_TASKS);
    assert_true(kills > 0);
    assert_true(retried > 0); /* some kill found a task in flight, which was sent again */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_ledger_every_task_ends_once_under_kills, ledger_setup,
                                    ledger_teardown),
};

SWB_TEST_MAIN(tests)
