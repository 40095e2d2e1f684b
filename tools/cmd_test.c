/*
 * cmd_test.c - `swb test --plugin P CASES`: a plugin author's test kit. Runs the plugin
 * through a real broker of its own (private, in a fresh 0700 directory), as a worker thread and
 * as a worker process, feeds it every case of a JSON lines file and prints a pass/fail table,
 * with what was expected and what came for each failure. Exit 0 when every case passed in every
 * mode, 1 when one failed, 2 when the cases or the plugin could not be used.
 *
 * A case is one line, a JSON object:
 *   {"name": "adds", "body": {"a": 2, "b": 3}, "expect": {"sum": 5}}
 *   {"name": "refuses a string", "body": {"a": "x"}, "error": "bad_type", "timeout": 2000}
 * "body" is the task's input (null when absent); "expect" the result, compared as JSON values
 * (key order does not matter); "error" the error's wire name instead; "timeout" the task's
 * deadline in ms (default 5000). Empty lines and lines starting with '#' are skipped.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

#define MAX_CASES 1000
#define LINE_MAX_ 65536

typedef struct {
    const char *plugin;
    const char *mode;
    long timeout_ms;
} test_args_t;

static const cli_opt_t options[] = {
    {'p', "plugin", CLI_STRING_AT(test_args_t, plugin), .arg = "P",
     .help = "plugin name in the plugin folder, or a path to a .so"},
    {'m', "mode", CLI_STRING_AT(test_args_t, mode), .arg = "M",
     .help = "thread, process or both (default both)"},
    {'t', "timeout", CLI_LONG_AT(test_args_t, timeout_ms, 1, 3600 * 1000), .arg = "MS",
     .help = "a case's deadline when it gives none (default 5000)"},
};

static const cli_spec_t spec = {
    .name = "test",
    .synopsis = "swb test --plugin NAME|PATH [--mode thread|process|both] [--timeout MS] CASES",
    .about = "Run the plugin under a private broker, as a worker thread and as a worker\n"
             "process, through every case of CASES (JSON lines: {\"name\", \"body\", \"expect\"\n"
             "or \"error\", \"timeout\"}), and print a pass/fail table. Exit 0 when all pass,\n"
             "1 when one fails, 2 when the cases or the plugin cannot be used.",
    CLI_OPTIONS(options),
};

typedef struct {
    char name[80];
    char *body; /* msgpack of "body" */
    size_t len;
    json_t *expect; /* NULL when an error is expected */
    char error[48];
    long timeout_ms;
    int line;
} case_t;

typedef struct {
    int passed;
    char *why; /* for a failure: what was expected and what came */
} outcome_t;

static void free_cases(case_t *cs, int n)
{
    for (int i = 0; i < n; i++) {
        free(cs[i].body);
        json_decref(cs[i].expect);
    }
    free(cs);
}

/* Read CASES; returns the count, or -1 after saying what is wrong. */
static int load_cases(const char *path, long def_timeout, case_t **out)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        perror(path);
        return -1;
    }
    case_t *cs = calloc(MAX_CASES, sizeof *cs);
    char *line = malloc(LINE_MAX_);
    int n = 0, lineno = 0, bad = !cs || !line;
    while (!bad && fgets(line, LINE_MAX_, f)) {
        lineno++;
        char *p = line + strspn(line, " \t\r\n");
        if (!*p || *p == '#')
            continue;
        json_error_t je;
        json_t *c = json_loads(p, 0, &je);
        const char *err = NULL;
        json_t *body = c ? json_object_get(c, "body") : NULL;
        json_t *expect = c ? json_object_get(c, "expect") : NULL;
        json_t *error = c ? json_object_get(c, "error") : NULL;
        if (!c || !json_is_object(c))
            err = c ? "a case is a JSON object" : je.text;
        else if (n == MAX_CASES)
            err = "too many cases (1000 at most)";
        else if (!expect == !error)
            err = "a case has \"expect\" or \"error\", one of them";
        else if (error && !json_is_string(error))
            err = "\"error\" is an error's wire name, e.g. \"bad_type\"";
        case_t *k = &cs[n];
        if (!err) {
            char *text = json_dumps(body ? body : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
            char why[256];
            if (!text || swb_json_to_msgpack(text, &k->body, &k->len, why, sizeof why) != 0)
                err = "\"body\" has no msgpack form";
            free(text);
        }
        if (err) {
            fprintf(stderr, "swb test: %s:%d: %s\n", path, lineno, err);
            json_decref(c);
            bad = 1;
            break;
        }
        json_t *name = json_object_get(c, "name"), *t = json_object_get(c, "timeout");
        snprintf(k->name, sizeof k->name, "%s",
                 json_is_string(name) ? json_string_value(name) : "");
        if (!k->name[0])
            snprintf(k->name, sizeof k->name, "line %d", lineno);
        k->expect = json_incref(expect);
        if (error)
            snprintf(k->error, sizeof k->error, "%s", json_string_value(error));
        k->timeout_ms = json_is_integer(t) && json_integer_value(t) > 0
                            ? (long)json_integer_value(t)
                            : def_timeout;
        k->line = lineno;
        n++;
        json_decref(c);
    }
    free(line);
    fclose(f);
    if (bad || n == 0) {
        if (!bad)
            fprintf(stderr, "swb test: %s: no cases\n", path);
        free_cases(cs, n);
        return -1;
    }
    *out = cs;
    return n;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
}

/* "expected <what><want>" over "got <got>", for the table. */
static char *mkwhy(const char *what, const char *want, const char *got)
{
    size_t n = strlen(what) + strlen(want) + strlen(got) + 32;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "expected %s%s\n      got      %s", what, want, got);
    return s;
}

/* Run one case through `p` and judge it. */
static outcome_t run_case(swb_peer_t *p, const char *service, const case_t *k)
{
    outcome_t o = {0};
    swb_msg_t r = {0};
    int rc = swb_call(p, service, k->body, k->len, (int)k->timeout_ms, &r);
    char got_err[300];
    snprintf(got_err, sizeof got_err, "error %s (%s)", swb_errname(rc),
             r.text[0] ? r.text : swb_strerror(rc));
    if (k->error[0]) {
        o.passed = rc != SWB_OK && strcmp(swb_errname(rc), k->error) == 0;
        if (!o.passed) {
            char *got = NULL;
            if (rc == SWB_OK && swb_msgpack_to_json(r.body, r.len, 0, &got) != 0)
                got = NULL;
            o.why = mkwhy("error ", k->error, rc == SWB_OK ? (got ? got : "(a result)") : got_err);
            free(got);
        }
    } else if (rc != SWB_OK) {
        char *want = dump(k->expect);
        o.why = mkwhy("", want ? want : "?", got_err);
        free(want);
    } else {
        char *text = NULL;
        json_t *got = NULL;
        if (!r.len)
            got = json_null();
        else if (swb_msgpack_to_json(r.body, r.len, 0, &text) == 0)
            got = json_loads(text, JSON_DECODE_ANY, NULL);
        o.passed = got && json_equal(got, k->expect);
        if (!o.passed) {
            char *want = dump(k->expect), *have = got ? dump(got) : NULL;
            o.why = mkwhy("", want ? want : "?", have ? have : "(not printable as JSON)");
            free(want);
            free(have);
        }
        json_decref(got);
        free(text);
    }
    swb_msg_close(&r);
    return o;
}

/* Start the plugin in `mode` under the parent `p`; 0, or 1 after saying why. */
static int start_worker(swb_peer_t *p, const char *plugin, int mode, swb_child_t *c)
{
    size_t n = 0;
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = plugin, .mode = mode,
                                   .no_restart = 1, .timeout_ms = 10000);
    int rc = swb_spawn(p, &so, c, 1, &n);
    if (rc != SWB_OK) {
        fprintf(stderr, "swb test: cannot start %s as a %s: %s\n", plugin,
                mode == SWB_CHILD_THREAD ? "thread" : "process", swb_strerror(rc));
        return 1;
    }
    return 0;
}

int cmd_test(int argc, char **argv)
{
    test_args_t a = {.timeout_ms = 5000};
    int first, parsed = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (parsed != CLI_GO_ON)
        return parsed;
    if (argc - first != 1)
        return cli_usage_error(&spec, "expected the CASES file");
    if (!a.plugin)
        return cli_usage_error(&spec, "--plugin is required");
    int modes[2], n_modes = 0;
    const char *mode = a.mode ? a.mode : "both";
    if (strcmp(mode, "thread") == 0 || strcmp(mode, "both") == 0)
        modes[n_modes++] = SWB_CHILD_THREAD;
    if (strcmp(mode, "process") == 0 || strcmp(mode, "both") == 0)
        modes[n_modes++] = SWB_CHILD_PROCESS;
    if (!n_modes)
        return cli_usage_error(&spec, "bad mode '%s' (thread, process or both)", mode);
    char service[SWB_NAME_MAX + 1];
    int rc = swb_plugin_service(a.plugin, NULL, service, sizeof service);
    if (rc != SWB_OK) {
        fprintf(stderr, "swb test: plugin %s: %s\n", a.plugin, swb_strerror(rc));
        return 2;
    }
    case_t *cs = NULL;
    int n = load_cases(argv[first], a.timeout_ms, &cs);
    if (n < 0)
        return 2;
    outcome_t(*res)[2] = calloc((size_t)n, sizeof *res);

    swb_broker_t *b = NULL;
    swb_peer_t *p = NULL;
    swb_broker_opts_t bo = SWB_OPTS(swb_broker_opts_t, .private_ipc = 1, .no_default = 1);
    swb_peer_opts_t po = SWB_OPTS(swb_peer_opts_t, .name = "swb-test");
    int exit_code = 2;
    if (!res || (rc = swb_broker_new(&b, &bo)) != SWB_OK || (rc = swb_broker_start(b)) != SWB_OK) {
        fprintf(stderr, "swb test: broker: %s\n", swb_strerror(rc));
        goto out;
    }
    po.broker = b;
    if ((rc = swb_peer_new(&p, &po)) != SWB_OK) {
        fprintf(stderr, "swb test: %s\n", swb_strerror(rc));
        goto out;
    }
    for (int m = 0; m < n_modes; m++) {
        swb_child_t c;
        if (start_worker(p, a.plugin, modes[m], &c))
            goto out;
        for (int i = 0; i < n; i++)
            res[i][m] = run_case(p, service, &cs[i]);
        swb_disconnect(p, c.name);
        swb_wait_exit(p, c.name, NULL, NULL, 5000);
    }

    int passed = 0, failed = 0;
    printf("%-40s", "CASE");
    for (int m = 0; m < n_modes; m++)
        printf(m + 1 < n_modes ? "  %-7s" : "  %s",
               modes[m] == SWB_CHILD_THREAD ? "THREAD" : "PROCESS");
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("%-40.40s", cs[i].name);
        for (int m = 0; m < n_modes; m++) {
            printf(m + 1 < n_modes ? "  %-7s" : "  %s", res[i][m].passed ? "pass" : "FAIL");
            res[i][m].passed ? passed++ : failed++;
        }
        printf("\n");
        for (int m = 0; m < n_modes; m++)
            if (res[i][m].why && (m == 0 || !res[i][0].why || strcmp(res[i][0].why, res[i][m].why)))
                printf("    line %d, %s:\n      %s\n", cs[i].line,
                       modes[m] == SWB_CHILD_THREAD ? "thread" : "process", res[i][m].why);
    }
    printf("%d case%s, %d mode%s: %d passed, %d failed\n", n, n == 1 ? "" : "s", n_modes,
           n_modes == 1 ? "" : "s", passed, failed);
    exit_code = failed ? 1 : 0;
out:
    swb_peer_destroy(&p);
    swb_broker_destroy(&b);
    for (int i = 0; res && i < n; i++)
        for (int m = 0; m < 2; m++)
            free(res[i][m].why);
    free(res);
    free_cases(cs, n);
    return exit_code;
}
