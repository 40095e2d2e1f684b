/*
 * supervised - the supervisor at work: a crashing worker is restarted, and the workers are
 * reloaded under a steady stream of tasks without one failing.
 *
 * Like Node's cluster with `cluster.on('exit', () => cluster.fork())` and a rolling restart,
 * or PM2's restart and reload, but done by the broker: the parent only watches the events.
 *
 *   1. two worker processes of the example plugin (service "work") under an embedded broker;
 *   2. one is sent "crash" and aborts: the parent sees exit (signal 6), restart (with the
 *      backoff), started and ready — the same name, a new pid;
 *   3. a second client keeps 16 tasks in flight while the parent asks for a reload: new
 *      workers start, each old one is drained once its replacement is ready, and every task
 *      still gets its answer.
 * Exit status 0 only if all of that happened.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "swb_body.h"
#include "switchboard.h"

#define TASKS   2000
#define WAIT_MS 10000

static const char *event_name(int ev)
{
    static const char *names[] = {"?",       "started", "ready", "exit",    "lost",
                                  "restart", "gave up", "limit", "reloaded"};
    return ev >= 1 && ev <= 8 ? names[ev] : names[0];
}

static void print_event(const swb_msg_t *m)
{
    printf("  event %-8s %-14s", event_name(m->event), m->name);
    if (m->pid)
        printf(" pid %-7d", m->pid);
    if (m->event == SWB_EVENT_EXIT)
        printf(" %s %d", m->signal ? "signal" : "code", m->signal ? m->signal : m->code);
    if (m->text[0])
        printf(" (%s)", m->text);
    printf("\n");
}

/* Print events until one of type `ev` about `name` (any name when NULL) has been printed. */
static int watch_until(swb_peer_t *p, int ev, const char *name, swb_msg_t *m)
{
    for (;;) {
        int rc = swb_peer_recv(p, m, WAIT_MS);
        if (rc)
            return rc;
        if (m->type != SWB_MSG_EVENT)
            continue;
        print_event(m);
        if (m->event == ev && (!name || !strcmp(m->name, name)))
            return 0;
    }
}

typedef struct {
    swb_broker_t *broker;
    int ok, failed;
} load_t;

/* A client of its own, keeping 16 tasks in flight until TASKS have been answered. */
static void *load(void *arg)
{
    load_t *l = arg;
    swb_peer_t *c = NULL;
    if (swb_peer_new(&c, &(swb_peer_opts_t){.broker = l->broker, .name = "load"}))
        return NULL;
    int sent = 0, done = 0;
    swb_msg_t r = {0};
    while (done < TASKS) {
        while (sent < TASKS && sent - done < 16) {
            swb_out_t o;
            const void *body;
            size_t len;
            swb_out_init(&o);
            swb_out_int(&o, "n", sent);
            if (swb_out_finish(&o, &body, &len) == SWB_OK &&
                swb_submit(c, "work", body, len, NULL, NULL) == SWB_OK)
                sent++;
            swb_out_free(&o);
        }
        int rc = swb_wait_any(c, &r, WAIT_MS);
        if (rc == SWB_E_TIMEOUT)
            break;
        done++;
        if (rc == SWB_OK)
            l->ok++;
        else
            l->failed++;
    }
    swb_msg_close(&r);
    swb_peer_destroy(&c);
    return NULL;
}

static int run(swb_broker_t *b, swb_peer_t *me)
{
    swb_child_t kids[2];
    size_t n = 0;
    swb_spawn_opts_t so = {.plugin = "supervised", .name = "worker", .count = 2};
    int rc = swb_spawn(me, &so, kids, 2, &n);
    if (rc) {
        fprintf(stderr, "supervised: spawn: %s\n", swb_strerror(rc));
        return 1;
    }
    printf("started %s (pid %d) and %s (pid %d)\n\n", kids[0].name, kids[0].pid, kids[1].name,
           kids[1].pid);

    printf("sending \"crash\" to %s:\n", kids[0].name);
    swb_peer_send(me, kids[0].name,
                  "\xa5"
                  "crash",
                  6);
    swb_msg_t m = {0};
    if (watch_until(me, SWB_EVENT_READY, kids[0].name, &m)) {
        fprintf(stderr, "supervised: %s did not come back\n", kids[0].name);
        return 1;
    }
    int back = m.pid != kids[0].pid;
    printf("%s is back as pid %d\n\n", kids[0].name, m.pid);

    printf("reloading both workers while a client keeps 16 of %d tasks in flight:\n", TASKS);
    load_t l = {.broker = b};
    pthread_t t;
    pthread_create(&t, NULL, load, &l);
    rc = swb_reload(me, NULL, WAIT_MS);
    pthread_join(t, NULL);
    /* The events that came during the reload were kept; show them in order. */
    while (swb_peer_recv(me, &m, 0) == SWB_OK)
        if (m.type == SWB_MSG_EVENT)
            print_event(&m);
    swb_msg_close(&m);
    printf("reload: %s; tasks: %d ok, %d failed\n", rc ? swb_strerror(rc) : "done", l.ok, l.failed);
    return back && rc == 0 && l.ok == TASKS && l.failed == 0 ? 0 : 1;
}

int main(void)
{
    swb_broker_t *b = NULL;
    swb_peer_t *me = NULL;
    int rc = swb_broker_new(&b, &(swb_broker_opts_t){.private_ipc = 1});
    if (!rc)
        rc = swb_broker_start(b);
    if (!rc)
        rc = swb_peer_new(&me, &(swb_peer_opts_t){.broker = b, .name = "main"});
    if (rc) {
        fprintf(stderr, "supervised: %s\n", swb_strerror(rc));
        swb_broker_destroy(&b);
        return 1;
    }
    int status = run(b, me);
    swb_peer_destroy(&me);
    swb_broker_destroy(&b);
    printf("%s\n", status ? "FAILED" : "ok");
    return status;
}
