/*
 * client.c - runs the greet plugin under an embedded broker, as a worker thread and as a
 * worker process, and calls its service once in each:
 *
 *     greet_client PLUGIN.so [thread|process]...     (default: both)
 *
 * Prints one line per call and "greet_client: ok"; exits 1 if an answer is missing or came
 * from the wrong place (a thread answers with this process's pid, a process with its own).
 */
#define _POSIX_C_SOURCE 200809L /* readlink */

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "swb_body.h"
#include "switchboard.h"

#define WAIT_MS 10000

static int fail(const char *what, int rc)
{
    fprintf(stderr, "greet_client: %s: %s\n", what, swb_strerror(rc));
    return 1;
}

/* Call "greet" with {"name": name}; check the answer {"hello": name, "pid": pid}. */
static int greet(swb_peer_t *me, const char *mode, const char *name, int pid)
{
    swb_out_t req;
    swb_out_init(&req);
    swb_out_str(&req, "name", name);
    const void *body;
    size_t len;
    int rc = swb_out_finish(&req, &body, &len);
    swb_msg_t r = {0};
    if (rc == SWB_OK)
        rc = swb_call(me, "greet", body, len, WAIT_MS, &r);
    swb_out_free(&req);
    if (rc != SWB_OK) {
        fprintf(stderr, "greet_client: greet: %s%s%s\n", swb_strerror(rc), r.text[0] ? ": " : "",
                r.text);
        swb_msg_close(&r);
        return 1;
    }
    char hello[64] = "";
    int64_t from = -1;
    swb_body_t ans;
    if (swb_body_open(&ans, r.body, r.len) || swb_body_strcpy(&ans, "hello", hello, sizeof hello) ||
        swb_body_i64(&ans, "pid", &from))
        fprintf(stderr, "greet_client: answer: %s\n", swb_body_errmsg(&ans));
    swb_msg_close(&r);

    /* A process child runs the swb-worker that the library found: show which one. */
    char exe[PATH_MAX] = "this process", link[64];
    if (from != getpid()) {
        snprintf(link, sizeof link, "/proc/%lld/exe", (long long)from);
        ssize_t n = readlink(link, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    printf("%s: hello, %s (pid %lld, %s)\n", mode, hello, (long long)from, exe);
    if (strcmp(hello, name) != 0 || from != pid) {
        fprintf(stderr, "greet_client: expected hello %s from pid %d\n", name, pid);
        return 1;
    }
    return 0;
}

/* Start one greet child in `mode`, call it, and let it go. */
static int run(swb_peer_t *me, const char *plugin, const char *mode)
{
    int thread = strcmp(mode, "thread") == 0;
    if (!thread && strcmp(mode, "process") != 0) {
        fprintf(stderr, "greet_client: mode %s: expected thread or process\n", mode);
        return 1;
    }
    swb_child_t child;
    size_t n = 0;
    int rc = swb_spawn(me,
                       &SWB_OPTS(swb_spawn_opts_t, .plugin = plugin, .name = mode,
                                 .mode = thread ? SWB_CHILD_THREAD : SWB_CHILD_PROCESS),
                       &child, 1, &n);
    if (rc != SWB_OK)
        return fail("cannot start the plugin", rc);
    int failed = greet(me, mode, "world", thread ? (int)getpid() : child.pid);
    int code = -1, sig = -1;
    if ((rc = swb_disconnect(me, child.name)) != SWB_OK ||
        (rc = swb_wait_exit(me, child.name, &code, &sig, WAIT_MS)) != SWB_OK)
        failed = fail("the child did not leave", rc);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: greet_client PLUGIN.so [thread|process]...\n");
        return 2;
    }
    static const char *const both[] = {"thread", "process"};
    const char *const *modes = argc > 2 ? (const char *const *)argv + 2 : both;
    int n_modes = argc > 2 ? argc - 2 : 2;

    /* An embedded broker: inproc for this program and its worker threads, and a private ipc
     * socket for worker processes. */
    swb_broker_t *broker = NULL;
    int rc = swb_broker_new(&broker, &SWB_OPTS(swb_broker_opts_t, .private_ipc = 1));
    if (rc == SWB_OK && (rc = swb_broker_start(broker)) != SWB_OK)
        swb_broker_destroy(&broker);
    if (rc != SWB_OK)
        return fail("cannot start the broker", rc);
    swb_peer_t *me = NULL;
    rc = swb_peer_new(&me, &SWB_OPTS(swb_peer_opts_t, .broker = broker, .name = "main"));
    int failed = rc != SWB_OK ? fail("cannot join the broker", rc) : 0;
    for (int i = 0; i < n_modes && !failed; i++)
        failed = run(me, argv[1], modes[i]);
    swb_peer_destroy(&me);
    swb_broker_destroy(&broker);
    puts(failed ? "greet_client: FAILED" : "greet_client: ok");
    return failed;
}
