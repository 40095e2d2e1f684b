/*
 * The `swb` command line against a real daemon: each case starts its own `swb broker
 * --workers N --plugin P` on an ipc socket in a private directory, runs the commands as a
 * user runs them (fork/exec with a time limit, stdout and stderr captured) and judges them by
 * exit code and output. What a command changes (workers added, removed, replaced) is checked
 * through the broker's STATS from a peer of the test's own, polled with a deadline.
 *
 * Whatever happens, teardown SIGKILLs and reaps the daemon and any `swb worker` the case
 * started; the daemon's workers follow it (PR_SET_PDEATHSIG), and the daemon follows the test
 * process if that dies first, so no case leaves processes behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "swb_test.h"

#define SWB            SWB_BIN_DIR "/swb"
#define CMD_TIMEOUT_MS 8000 /* one command */
#define WAIT_MS        8000 /* workers to appear, leave or be replaced */
#define MAX_WORKERS    16

typedef struct {
    char name[SWB_NAME_MAX + 1];
    int pid;
} worker_t;

/* What STATS says: the peers of kind "process", and the worker count of one service. */
typedef struct {
    int n;
    worker_t w[MAX_WORKERS];
    int64_t svc_workers; /* -1 when the service is not listed */
} snap_t;

typedef struct {
    harness_t h;        /* only its private directory is used */
    char ep[300];       /* ipc://<dir>/d.sock */
    pid_t daemon;       /* the `swb broker` of this case */
    pid_t extra;        /* a `swb worker` started by hand */
    int log_fd;         /* their stderr: <dir>/daemon.log, shown at teardown */
    swb_peer_t *client; /* the test's own peer on the daemon */
    snap_t seen;        /* the last workers seen, to make sure they are gone at the end */
    run_t r;            /* the last command's outcome */
} cli_t;

/* ---- processes ---------------------------------------------------------------------------- */

static int stdin_fd = -1; /* what the next command reads on standard input; -1: /dev/null */

/* Fork and exec argv[0]; the child dies with this process. stdout goes to /dev/null unless
 * out_fd/err_fd (>= 0) are given; without err_fd, stderr is shared with the test (its log). */
static pid_t start(char *const argv[], int out_fd, int err_fd, int own_group)
{
    pid_t me = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != me)
        _exit(127);
    if (own_group)
        setpgid(0, 0); /* a timeout ends everything it started */
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(stdin_fd >= 0 ? stdin_fd : devnull, 0);
    dup2(out_fd >= 0 ? out_fd : devnull, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
    execv(argv[0], argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* SIGKILL and reap; tolerates 0. */
static void kill_reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

/* Run `swb ARGS... NULL` with its output captured into c->r, within CMD_TIMEOUT_MS. */
static void swb(cli_t *c, ...)
{
    char *argv[32] = {SWB};
    int argc = 1;
    va_list ap;
    va_start(ap, c);
    for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    run_t *r = &c->r;
    int po[2], pe[2];
    assert_int_equal(pipe2(po, O_CLOEXEC), 0);
    assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
    pid_t pid = start(argv, po[1], pe[1], 1);
    assert_true(pid > 0);
    setpgid(pid, pid);
    close(po[1]);
    close(pe[1]);
    harness_collect(r, pid, po[0], pe[0], CMD_TIMEOUT_MS);
    /* Every command is shown in the test log, so a failure explains itself. */
    fprintf(stderr, "--- swb");
    for (int i = 1; i < argc; i++)
        fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, ": exit %d%s\n--- stdout:\n%s--- stderr:\n%s", r->status,
            r->timed_out ? " (timed out, killed)" : "", r->out, r->err);
    assert_false(r->timed_out);
}

/* ---- STATS through the test's peer -------------------------------------------------------- */

static const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int mp_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           !memcmp(o->via.str.ptr, s, o->via.str.size);
}

/* Ask STATS and fill *s; returns 0, or -1 when the broker did not answer. */
static int snapshot(cli_t *c, const char *service, snap_t *s)
{
    memset(s, 0, sizeof *s);
    s->svc_workers = -1;
    void *body = NULL;
    size_t len = 0;
    if (swb_peer_stats(c->client, &body, &len, 2000) != SWB_OK)
        return -1;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = msgpack_unpack_next(&u, body, len, &off) == MSGPACK_UNPACK_SUCCESS ? 0 : -1;
    const msgpack_object *peers = rc ? NULL : mp_get(&u.data, "peers");
    for (uint32_t i = 0; peers && peers->type == MSGPACK_OBJECT_ARRAY && i < peers->via.array.size;
         i++) {
        const msgpack_object *p = &peers->via.array.ptr[i], *name = mp_get(p, "name"),
                             *pid = mp_get(p, "pid");
        if (!mp_is(mp_get(p, "kind"), "process") || !name || name->type != MSGPACK_OBJECT_STR ||
            s->n == MAX_WORKERS)
            continue;
        worker_t *w = &s->w[s->n++];
        snprintf(w->name, sizeof w->name, "%.*s", (int)name->via.str.size, name->via.str.ptr);
        w->pid = pid && pid->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int)pid->via.u64 : 0;
    }
    const msgpack_object *svcs = rc ? NULL : mp_get(&u.data, "services");
    for (uint32_t i = 0; svcs && svcs->type == MSGPACK_OBJECT_ARRAY && i < svcs->via.array.size;
         i++) {
        const msgpack_object *sv = &svcs->via.array.ptr[i], *w = mp_get(sv, "workers");
        if (mp_is(mp_get(sv, "name"), service) && w && w->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            s->svc_workers = (int64_t)w->via.u64;
    }
    msgpack_unpacked_destroy(&u);
    free(body);
    return rc;
}

static int snap_has_pid(const snap_t *s, int pid)
{
    for (int i = 0; i < s->n; i++)
        if (s->w[i].pid == pid)
            return 1;
    return 0;
}

static int snap_has_name(const snap_t *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->w[i].name, name))
            return 1;
    return 0;
}

/* Poll STATS until `service` has exactly n workers, `peers` process peers are listed and none
 * of them is one of `old` (when given); the last snapshot is left in *s. Fails the test on
 * timeout, or at once when the daemon has died. */
static void wait_stats(cli_t *c, const char *service, int n, int peers, const snap_t *old,
                       snap_t *s)
{
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        int ok = snapshot(c, service, s) == 0 && s->n == peers && s->svc_workers == n;
        for (int i = 0; ok && old && i < old->n; i++)
            ok = !snap_has_pid(s, old->w[i].pid);
        if (ok) {
            for (int i = 0; i < s->n; i++)
                if (!snap_has_pid(&c->seen, s->w[i].pid) && c->seen.n < MAX_WORKERS)
                    c->seen.w[c->seen.n++] = s->w[i];
            return;
        }
        int status;
        if (c->daemon > 0 && waitpid(c->daemon, &status, WNOHANG) == c->daemon) {
            c->daemon = 0;
            fail_msg("swb broker died (status 0x%x)", status);
        }
        if (now_ms() > deadline)
            fail_msg("waited %d ms for %d %s workers among %d process peers: STATS lists %d "
                     "process peers, service workers %lld",
                     WAIT_MS, n, service, peers, s->n, (long long)s->svc_workers);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The same when the service's workers are all the process peers there are. */
static void wait_workers(cli_t *c, const char *service, int n, const snap_t *old, snap_t *s)
{
    wait_stats(c, service, n, n, old, s);
}

/* Start `swb broker --endpoint c->ep --workers N --plugin P`, join it and wait until its N
 * workers serve `plugin`. */
static void start_daemon(cli_t *c, const char *plugin, int n, snap_t *s)
{
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    char *argv[] = {SWB,   "broker",   "--endpoint",   c->ep, "--workers",
                    count, "--plugin", (char *)plugin, NULL};
    c->daemon = start(argv, -1, c->log_fd, 0);
    assert_true(c->daemon > 0);
    swb_peer_opts_t po = {.endpoint = c->ep, .name = "cli-test", .connect_timeout_ms = WAIT_MS};
    assert_int_equal(swb_peer_new(&c->client, &po), SWB_OK);
    wait_workers(c, plugin, n, NULL, s);
}

static int setup(void **state)
{
    cli_t *c = calloc(1, sizeof *c);
    if (!c || harness_dir(&c->h) != 0) {
        free(c);
        return -1;
    }
    snprintf(c->ep, sizeof c->ep, "ipc://%s/d.sock", c->h.dir);
    setenv("SWB_ENDPOINT", c->ep, 1);
    char log[300];
    snprintf(log, sizeof log, "%s/daemon.log", c->h.dir);
    c->log_fd = open(log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    *state = c;
    return 0;
}

static int all_gone(void *arg)
{
    const snap_t *s = arg;
    for (int i = 0; i < s->n; i++)
        if (pid_alive(s->w[i].pid))
            return 0;
    return 1;
}

static int teardown(void **state)
{
    cli_t *c = *state;
    if (!c)
        return 0;
    swb_peer_destroy(&c->client);
    kill_reap(&c->extra);
    kill_reap(&c->daemon);
    /* The workers follow the daemon at once (PR_SET_PDEATHSIG); wait for that so that no
     * case overlaps the next one's processes. */
    int gone = wait_until(all_gone, &c->seen, 5000);
    if (c->log_fd >= 0) {
        char buf[4096];
        ssize_t n;
        fprintf(stderr, "--- swb broker / swb worker stderr:\n");
        lseek(c->log_fd, 0, SEEK_SET);
        while ((n = read(c->log_fd, buf, sizeof buf)) > 0)
            fwrite(buf, 1, (size_t)n, stderr);
        close(c->log_fd);
    }
    harness_rmdir(&c->h);
    free(c);
    *state = NULL;
    if (!gone)
        fprintf(stderr, "workers outlived their swb broker\n");
    return gone ? 0 : -1;
}

#define SWB_CLI(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---- a small JSON reader, enough to check the shape of `swb stats --json` ---------------- */

static const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The end of the JSON value at p (after leading blanks), or NULL when it is not valid. */
static const char *js_skip(const char *p)
{
    p = js_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (*js_ws(p) != '"' || !(p = js_skip(p)) || *(p = js_ws(p)) != ':')
                    return NULL;
                p++;
            }
            if (!(p = js_skip(p)))
                return NULL;
            p = js_ws(p);
            if (*p == close)
                return p + 1;
            if (*p++ != ',')
                return NULL;
        }
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++)
        if (!strncmp(p, words[i], strlen(words[i])))
            return p + strlen(words[i]);
    const char *q = p;
    if (*q == '-')
        q++;
    while ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
           *q == '-')
        q++;
    return q > p && p[*p == '-'] >= '0' && p[*p == '-'] <= '9' ? q : NULL;
}

static int js_str_is(const char *v, const char *s)
{
    v = js_ws(v);
    size_t n = strlen(s);
    return *v == '"' && !strncmp(v + 1, s, n) && v[n + 1] == '"';
}

/* The value of member `key` of the object at obj, or NULL. */
static const char *js_get(const char *obj, const char *key)
{
    const char *p = js_ws(obj);
    if (*p != '{')
        return NULL;
    p = js_ws(p + 1);
    while (*p == '"') {
        const char *k = p, *v;
        if (!(p = js_skip(p)) || *(p = js_ws(p)) != ':')
            return NULL;
        v = js_ws(p + 1);
        if (js_str_is(k, key))
            return v;
        if (!(p = js_skip(v)))
            return NULL;
        p = js_ws(p);
        if (*p == ',')
            p = js_ws(p + 1);
    }
    return NULL;
}

/* Element i of the array at arr, or NULL. */
static const char *js_at(const char *arr, int i)
{
    const char *p = js_ws(arr);
    if (*p != '[')
        return NULL;
    p = js_ws(p + 1);
    if (*p == ']')
        return NULL;
    for (int k = 0;; k++) {
        if (k == i)
            return p;
        if (!(p = js_skip(p)))
            return NULL;
        p = js_ws(p);
        if (*p != ',')
            return NULL;
        p = js_ws(p + 1);
    }
}

static long js_long(const char *v)
{
    return v ? strtol(js_ws(v), NULL, 10) : -1;
}

/* ---- the cases ---------------------------------------------------------------------------- */

static void test_stats_json_lists_the_workers_and_their_service(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 2, &s);
    swb(c, "stats", "-e", c->ep, "--json", NULL);
    assert_int_equal(c->r.status, 0);
    const char *end = js_skip(c->r.out);
    assert_non_null(end);
    assert_int_equal(*js_ws(end), '\0'); /* one JSON value, nothing else */
    assert_int_equal(*js_ws(c->r.out), '{');

    const char *peers = js_get(c->r.out, "peers"), *p;
    assert_non_null(peers);
    int n = 0;
    for (int i = 0; (p = js_at(peers, i)) != NULL; i++) {
        if (!js_str_is(js_get(p, "kind"), "process"))
            continue;
        const char *name = js_get(p, "name");
        assert_non_null(name);
        int known = 0;
        for (int k = 0; k < s.n; k++)
            known |= js_str_is(name, s.w[k].name) && js_long(js_get(p, "pid")) == s.w[k].pid;
        assert_true(known);
        /* A worker process's own memory (and CPU time, which may still round to 0 ms). */
        assert_true(js_long(js_get(p, "rss_kb")) > 0);
        assert_true(js_long(js_get(p, "cpu_ms")) >= 0);
        n++;
    }
    assert_int_equal(n, 2);

    const char *svcs = js_get(c->r.out, "services"), *sv;
    assert_non_null(svcs);
    long workers = -1;
    for (int i = 0; (sv = js_at(svcs, i)) != NULL; i++)
        if (js_str_is(js_get(sv, "name"), "echo"))
            workers = js_long(js_get(sv, "workers"));
    assert_int_equal(workers, 2);
}

static void test_stats_table_shows_the_header_and_the_workers(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 2, &s);
    swb(c, "stats", "-e", c->ep, NULL);
    assert_int_equal(c->r.status, 0);
    assert_has(c->r.out, "\nNAME ");
    assert_has(c->r.out, "KIND");
    assert_has(c->r.out, " WINDOW ");
    assert_has(c->r.out, " CPU ");
    assert_has(c->r.out, " RSS ");
    for (int i = 0; i < s.n; i++) {
        char row[SWB_NAME_MAX + 8];
        snprintf(row, sizeof row, "\n%s ", s.w[i].name); /* a row starts with the name */
        assert_has(c->r.out, row);
    }
    assert_has(c->r.out, "  process  ");
}

static void test_send_to_a_worker_prints_its_reply(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 1, &s);
    swb(c, "send", "-e", c->ep, s.w[0].name, "\"hello\"", NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "\"hello\"\n");
}

static void test_send_to_an_unknown_peer_exits_1(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 1, &s);
    swb(c, "send", "-e", c->ep, "nobody-here", "\"hello\"", NULL);
    assert_int_equal(c->r.status, 1);
    assert_string_equal(c->r.out, "");
    assert_has(c->r.err, "unknown_peer");
}

/* "NAME JSON" lines, one per worker. */
static void assert_reply_lines(const char *out, const snap_t *s, const char *json)
{
    for (int i = 0; i < s->n; i++) {
        char line[SWB_NAME_MAX + 64];
        snprintf(line, sizeof line, "%s %s\n", s->w[i].name, json);
        assert_has(out, line);
    }
}

static void test_send_to_a_group_or_all_prints_every_reply(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 2, &s);
    swb(c, "send", "-e", c->ep, "--timeout", "1500", "--group", "echo", "\"hi\"", NULL);
    assert_int_equal(c->r.status, 0);
    assert_reply_lines(c->r.out, &s, "\"hi\"");
    swb(c, "send", "-e", c->ep, "--timeout", "1500", "--all", "[1]", NULL);
    assert_int_equal(c->r.status, 0);
    assert_reply_lines(c->r.out, &s, "[1]");
    swb(c, "send", "-e", c->ep, "--group", "nosuchservice", "1", NULL);
    assert_int_equal(c->r.status, 1);
    assert_has(c->r.err, "no_such_service");
}

static void test_call_reads_its_body_from_a_file_or_standard_input(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "sum", 1, &s);
    char path[300], arg[310];
    snprintf(path, sizeof path, "%s/body.json", c->h.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"a\": 2,\n \"b\": 3}\n", f);
    fclose(f);
    snprintf(arg, sizeof arg, "@%s", path);
    swb(c, "call", "-e", c->ep, "sum", arg, NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "{\"sum\":5}\n");

    stdin_fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(stdin_fd >= 0);
    swb(c, "call", "-e", c->ep, "sum", "-", NULL);
    close(stdin_fd);
    stdin_fd = -1;
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "{\"sum\":5}\n");

    swb(c, "call", "-e", c->ep, "sum", "@/nonexistent/body.json", NULL);
    assert_int_equal(c->r.status, 2);
    assert_has(c->r.err, "/nonexistent/body.json");
}

static void test_test_runs_the_repos_sum_cases_as_thread_and_process(void **state)
{
    cli_t *c = *state;
    swb(c, "test", "--plugin", "sum", SWB_SOURCE_DIR "/tests/cases/sum.jsonl", NULL);
    assert_int_equal(c->r.status, 0);
    assert_has(c->r.out, "THREAD   PROCESS\n");
    assert_has(c->r.out, "sums a range (the seed's getSum)");
    assert_has(c->r.out, "7 cases, 2 modes: 14 passed, 0 failed\n");
}

static void test_test_shows_what_was_expected_and_what_came(void **state)
{
    cli_t *c = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/wrong.jsonl", c->h.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# one right, one wrong on purpose\n"
          "{\"name\": \"right\", \"body\": {\"a\": 1, \"b\": 1}, \"expect\": {\"sum\": 2}}\n"
          "{\"name\": \"wrong\", \"body\": {\"a\": 2, \"b\": 3}, \"expect\": {\"sum\": 6}}\n",
          f);
    fclose(f);
    swb(c, "test", "--plugin", "sum", path, NULL);
    assert_int_equal(c->r.status, 1);
    assert_has(c->r.out, "wrong                                     FAIL     FAIL\n");
    assert_has(c->r.out,
               "    line 3, thread:\n      expected {\"sum\":6}\n      got      {\"sum\":5}\n");
    assert_has(c->r.out, "2 cases, 2 modes: 2 passed, 2 failed\n");

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"body\": 1}\n", f); /* neither expect nor error */
    fclose(f);
    swb(c, "test", "--plugin", "sum", path, NULL);
    assert_int_equal(c->r.status, 2);
    assert_has(c->r.err, "wrong.jsonl:1: a case has \"expect\" or \"error\"");
}

static void test_top_with_count_1_prints_one_screen_and_exits(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 2, &s);
    swb(c, "top", "-e", c->ep, "--count", "1", NULL);
    assert_int_equal(c->r.status, 0);
    const char *first = strstr(c->r.out, "swb top - ");
    assert_non_null(first);
    assert_null(strstr(first + 1, "swb top - ")); /* one screen */
    assert_null(strchr(c->r.out, '\033'));        /* not a terminal: no redraw codes */
    assert_has(c->r.out, "\nNAME ");
    for (int i = 0; i < s.n; i++)
        assert_has(c->r.out, s.w[i].name);
}

static void test_scale_sets_the_number_of_workers(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 1, &s);
    swb(c, "scale", "-e", c->ep, "echo", "3", NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "echo: 3 workers\n");
    wait_workers(c, "echo", 3, NULL, &s);
    swb(c, "scale", "-e", c->ep, "echo", "1", NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "echo: 1 worker\n");
    wait_workers(c, "echo", 1, NULL, &s);
}

static void test_scale_of_an_unknown_group_exits_1(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 1, &s);
    swb(c, "scale", "-e", c->ep, "nosuchgroup", "2", NULL);
    assert_int_equal(c->r.status, 1);
    assert_string_equal(c->r.out, "");
    assert_has(c->r.err, "error: unknown_peer: swb-broker has no workers in group 'nosuchgroup'");
    /* Nothing changed. */
    snap_t now;
    assert_int_equal(snapshot(c, "echo", &now), 0);
    assert_int_equal(now.n, 1);
    assert_int_equal(now.w[0].pid, s.w[0].pid);
}

static void call_sum_5(cli_t *c)
{
    swb(c, "call", "-e", c->ep, "sum", "{\"a\":2,\"b\":3}", NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "{\"sum\":5}\n");
}

static void test_reload_replaces_the_workers_and_calls_still_work(void **state)
{
    cli_t *c = *state;
    snap_t old, s;
    start_daemon(c, "sum", 2, &old);
    swb(c, "reload", "-e", c->ep, NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "reload of swb-broker's workers started\n");
    wait_workers(c, "sum", 2, &old, &s);
    for (int i = 0; i < old.n; i++)
        assert_false(snap_has_name(&s, old.w[i].name));
    assert_true(wait_until(all_gone, &old, WAIT_MS)); /* they left, then exited */
    call_sum_5(c);
}

static void test_sighup_reloads_the_daemons_workers(void **state)
{
    cli_t *c = *state;
    snap_t old, s;
    start_daemon(c, "sum", 2, &old);
    assert_int_equal(kill(c->daemon, SIGHUP), 0);
    wait_workers(c, "sum", 2, &old, &s);
    assert_true(wait_until(all_gone, &old, WAIT_MS));
    harness_call_sum_ok(c->client, 5000);
}

static void test_worker_started_by_hand_joins_and_serves(void **state)
{
    cli_t *c = *state;
    snap_t s;
    start_daemon(c, "echo", 1, &s);
    char *argv[] = {SWB, "worker", "-e", c->ep, "--plugin", "sum", "--name", "extra", NULL};
    c->extra = start(argv, -1, c->log_fd, 0);
    assert_true(c->extra > 0);
    wait_stats(c, "sum", 1, 2, NULL, &s); /* echo's worker and "extra" */
    assert_true(snap_has_name(&s, "extra"));
    call_sum_5(c);
    /* SIGTERM: it leaves and exits 0. */
    assert_int_equal(kill(c->extra, SIGTERM), 0);
    int status = -1;
    pid_t got = 0;
    int64_t deadline = now_ms() + WAIT_MS;
    while ((got = waitpid(c->extra, &status, WNOHANG)) == 0 && now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(got, c->extra);
    c->extra = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A broker whose thread worker crashed it (here: SIGKILL) leaves its socket file behind. A
 * command then fails at once, not after its whole timeout (60 s here, past the time limit
 * of one command), and says which endpoint has no broker. */
static void test_commands_name_the_endpoint_of_a_broker_that_died(void **state)
{
    cli_t *c = *state;
    char *argv[] = {SWB, "broker",   "--endpoint", c->ep,       "--workers",
                    "1", "--plugin", "echo",       "--threads", NULL};
    c->daemon = start(argv, -1, c->log_fd, 0);
    assert_true(c->daemon > 0);
    swb_peer_opts_t po = {.endpoint = c->ep, .name = "cli-test", .connect_timeout_ms = WAIT_MS};
    assert_int_equal(swb_peer_new(&c->client, &po), SWB_OK);
    snap_t s;
    wait_stats(c, "echo", 1, 0, NULL, &s); /* its worker is a thread: no process peer */
    swb_peer_destroy(&c->client);
    kill_reap(&c->daemon);

    char want[400];
    snprintf(want, sizeof want, "no broker answering at %s: ", c->ep);
    swb(c, "stats", "-e", c->ep, "--timeout", "60000", NULL);
    assert_int_equal(c->r.status, 1);
    assert_has(c->r.err, want);
    swb(c, "call", "-e", c->ep, "--timeout", "60000", "echo", "1", NULL);
    assert_int_equal(c->r.status, 1);
    assert_has(c->r.err, want);
    assert_string_equal(c->r.out, "");
}

static void test_help_lists_every_command(void **state)
{
    cli_t *c = *state;
    swb(c, "--help", NULL);
    assert_int_equal(c->r.status, 0);
    assert_has(c->r.out, "usage: swb COMMAND");
    static const char *const cmds[] = {"broker", "worker", "send",  "stats", "call",
                                       "top",    "reload", "scale", "bench", "demo"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char line[32];
        snprintf(line, sizeof line, "\n  %s ", cmds[i]);
        assert_has(c->r.out, line);
    }
}

static void test_unknown_command_exits_2(void **state)
{
    cli_t *c = *state;
    swb(c, "nosuchcommand", NULL);
    assert_int_equal(c->r.status, 2);
    assert_string_equal(c->r.out, "");
    assert_has(c->r.err, "swb: unknown command 'nosuchcommand'");
    assert_has(c->r.err, "usage: swb COMMAND");
}

static void test_version_prints_the_version(void **state)
{
    cli_t *c = *state;
    swb(c, "--version", NULL);
    assert_int_equal(c->r.status, 0);
    assert_string_equal(c->r.out, "swb " SWB_VERSION_STRING "\n");
}

static const struct CMUnitTest tests[] = {
    SWB_CLI(test_stats_json_lists_the_workers_and_their_service),
    SWB_CLI(test_stats_table_shows_the_header_and_the_workers),
    SWB_CLI(test_send_to_a_worker_prints_its_reply),
    SWB_CLI(test_send_to_an_unknown_peer_exits_1),
    SWB_CLI(test_send_to_a_group_or_all_prints_every_reply),
    SWB_CLI(test_call_reads_its_body_from_a_file_or_standard_input),
    SWB_CLI(test_test_runs_the_repos_sum_cases_as_thread_and_process),
    SWB_CLI(test_test_shows_what_was_expected_and_what_came),
    SWB_CLI(test_top_with_count_1_prints_one_screen_and_exits),
    SWB_CLI(test_scale_sets_the_number_of_workers),
    SWB_CLI(test_scale_of_an_unknown_group_exits_1),
    SWB_CLI(test_reload_replaces_the_workers_and_calls_still_work),
    SWB_CLI(test_sighup_reloads_the_daemons_workers),
    SWB_CLI(test_worker_started_by_hand_joins_and_serves),
    SWB_CLI(test_commands_name_the_endpoint_of_a_broker_that_died),
    SWB_CLI(test_help_lists_every_command),
    SWB_CLI(test_unknown_command_exits_2),
    SWB_CLI(test_version_prints_the_version),
};

SWB_TEST_MAIN(tests)
