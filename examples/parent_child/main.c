/*
 * parent_child - Node's child_process.fork() with Switchboard.
 *
 * The program embeds a broker (a thread of this process, with a private ipc socket so a
 * child process can reach it), starts one child process running the example plugin, sends it
 * "start", and prints what comes back: the child's sum of 0..10000 (50005000) and both pids.
 * It then disconnects the child and prints its exit event, as Node's 'exit' handler would.
 * Exit status 0 only if all of that happened, so the program doubles as a check.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "swb_body.h"
#include "switchboard.h"

#define WAIT_MS 5000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "parent_child: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

/* Wait for the child's answer and check it; other messages (if any) are skipped. */
static int await_answer(swb_peer_t *parent, const swb_child_t *child)
{
    swb_msg_t m = {0};
    int rc;
    while ((rc = swb_peer_recv(parent, &m, WAIT_MS)) == SWB_OK) {
        if (m.type == SWB_MSG_ERROR)
            break;
        if (m.type == SWB_MSG_DELIVER && strcmp(m.from, child->name) == 0)
            break;
    }
    if (rc != SWB_OK)
        return fail("no answer from the child", rc);
    if (m.type == SWB_MSG_ERROR) {
        fprintf(stderr, "parent_child: error: %s: %s\n", swb_errname(m.code), m.text);
        swb_msg_close(&m);
        return 1;
    }

    swb_body_t in;
    int64_t sum = -1, pid = -1;
    swb_body_open(&in, m.body, m.len); /* on failure both fields read as missing */
    swb_body_i64(&in, "sum", &sum);
    swb_body_i64(&in, "pid", &pid);
    swb_msg_close(&m);

    printf("child says: sum of 0..10000 = %lld (computed in pid %lld)\n", (long long)sum,
           (long long)pid);
    if (sum != 50005000 || pid != child->pid) {
        fprintf(stderr, "parent_child: expected sum 50005000 from pid %d\n", child->pid);
        return 1;
    }
    return 0;
}

static int run(swb_broker_t *broker)
{
    swb_peer_t *parent = NULL;
    swb_peer_opts_t po = {.broker = broker, .name = "main"};
    int rc = swb_peer_new(&parent, &po);
    if (rc)
        return fail("cannot join the broker", rc);

    /* fork(): one child process running examples/parent_child/plugin.c. */
    swb_spawn_opts_t so = {.plugin = "parent_child", .name = "child", .mode = SWB_CHILD_PROCESS};
    swb_child_t child;
    size_t n = 0;
    if ((rc = swb_spawn(parent, &so, &child, 1, &n)) != SWB_OK) {
        swb_peer_destroy(&parent);
        return fail("cannot start the child", rc);
    }
    printf("parent pid %d started child \"%s\", pid %d\n", (int)getpid(), child.name, child.pid);

    /* child.send("start") */
    static const unsigned char start[] = {0xa5, 's', 't', 'a', 'r', 't'}; /* msgpack "start" */
    int failed = 0;
    if ((rc = swb_peer_send(parent, child.name, start, sizeof start)) != SWB_OK)
        failed = fail("cannot send to the child", rc);
    else
        printf("parent sent \"start\"\n");
    if (!failed)
        failed = await_answer(parent, &child);

    /* child.disconnect(), then the 'exit' event. */
    int code = -1, sig = -1;
    if ((rc = swb_disconnect(parent, child.name)) != SWB_OK ||
        (rc = swb_wait_exit(parent, child.name, &code, &sig, WAIT_MS)) != SWB_OK)
        failed = fail("no exit event from the child", rc);
    else {
        printf("child \"%s\" exited: code %d, signal %d\n", child.name, code, sig);
        if (code != 0 || sig != 0)
            failed = 1;
    }
    swb_peer_destroy(&parent);
    return failed;
}

int main(void)
{
    swb_broker_t *broker = NULL;
    swb_broker_opts_t bo = {.private_ipc = 1}; /* inproc for us, a private ipc for children */
    int rc = swb_broker_new(&broker, &bo);
    if (rc == SWB_OK && (rc = swb_broker_start(broker)) != SWB_OK)
        swb_broker_destroy(&broker);
    if (rc)
        return fail("cannot start the broker", rc);
    int failed = run(broker);
    swb_broker_destroy(&broker);
    puts(failed ? "parent_child: FAILED" : "parent_child: ok");
    return failed ? 1 : 0;
}
