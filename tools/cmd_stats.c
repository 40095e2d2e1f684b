/*
 * cmd_stats.c - `swb stats`: ask the broker for its STATS and print them, as JSON or as
 * "key: value" lines for the counters followed by a table of peers.
 *
 * The body is a msgpack map the broker may grow over time, so the table reads what it
 * knows by name (peers[].name, kind, pid, services, inflight, window, last_heartbeat_ms),
 * shows "-" for what is missing, and prints whatever else it finds without having to know
 * it: other top-level scalars as "key: value", one level of nested maps as "key.sub: value",
 * and any other array of maps (such as per-service counters) as a table of its own.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "swb_json.h"
#include "switchboard.h"

#define CELL     128
#define MAX_COLS 16

enum { C_NAME, C_KIND, C_PID, C_SERVICES, C_INFLIGHT, C_WINDOW, C_CPU, C_RSS, C_SEEN, N_COLS };
static const char *const col_title[N_COLS] = {"NAME",   "KIND", "PID", "SERVICES", "IN-FLIGHT",
                                              "WINDOW", "CPU",  "RSS", "LAST-SEEN"};
static const char *const col_key[N_COLS] = {"name",     "kind",     "pid",
                                            "services", "inflight", "window",
                                            "cpu_ms",   "rss_kb",   "last_heartbeat_ms"};

typedef struct {
    const char *endpoint;
    int json;
    long timeout_ms;
} stats_args_t;

static const cli_opt_t options[] = {
    {'e', "endpoint", CLI_STRING_AT(stats_args_t, endpoint), .arg = "EP",
     .help = "broker endpoint; default: SWB_ENDPOINT or the per-user\nipc socket"},
    {'j', "json", CLI_FLAG_AT(stats_args_t, json), .help = "print the whole reply as JSON instead"},
    {'t', "timeout", CLI_LONG_AT(stats_args_t, timeout_ms, 1, 3600 * 1000), .arg = "MS",
     .help = "how long to wait for the broker (default 2000)"},
};

static const cli_spec_t spec = {
    .name = "stats",
    .synopsis = "swb stats [--endpoint EP] [--json] [--timeout MS]",
    .about = "Print the broker's counters and a table of its peers.",
    CLI_OPTIONS(options),
    .in_order = 1,
};

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* Render a value as a short cell: strings bare (control characters as '?'), arrays joined
 * with commas, "-" for nothing. */
static void cell(const msgpack_object *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!o || o->type == MSGPACK_OBJECT_NIL) {
        snprintf(buf, cap, "-");
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        snprintf(buf, cap, "%s", o->via.boolean ? "true" : "false");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(buf, cap, "%" PRIu64, o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(buf, cap, "%" PRId64, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        snprintf(buf, cap, "%g", o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        for (uint32_t i = 0; i < o->via.str.size && n + 1 < cap; i++) {
            unsigned char c = (unsigned char)o->via.str.ptr[i];
            buf[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        buf[n] = '\0';
        break;
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size && n + 1 < cap; i++) {
            char item[CELL];
            cell(&o->via.array.ptr[i], item, sizeof item);
            int w = snprintf(buf + n, cap - n, "%s%s", i ? "," : "", item);
            n = w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
        }
        break;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size && n + 1 < cap; i++) {
            char k[CELL], v[CELL];
            cell(&o->via.map.ptr[i].key, k, sizeof k);
            cell(&o->via.map.ptr[i].val, v, sizeof v);
            int w = snprintf(buf + n, cap - n, "%s%s=%s", i ? "," : "", k, v);
            n = w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
        }
        break;
    default:
        snprintf(buf, cap, "(binary)");
    }
    if (!buf[0])
        snprintf(buf, cap, "-");
}

/* Milliseconds as a short age: 250ms, 3.2s, 4m05s. */
static void age_cell(const msgpack_object *o, char *buf, size_t cap)
{
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        cell(o, buf, cap);
        return;
    }
    uint64_t ms = o->via.u64;
    if (ms < 1000)
        snprintf(buf, cap, "%" PRIu64 "ms", ms);
    else if (ms < 60000)
        snprintf(buf, cap, "%.1fs", (double)ms / 1000.0);
    else
        snprintf(buf, cap, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, ms / 1000 % 60);
}

static int is_table(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size > 0 &&
           o->via.array.ptr[0].type == MSGPACK_OBJECT_MAP;
}

/* Counters: scalars as "key: value", one level of maps as "key.sub: value". Arrays of maps
 * are tables, printed after. */
static void print_counters(const msgpack_object *root)
{
    char k[CELL], v[CELL], sk[CELL];
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr[i].key, *val = &root->via.map.ptr[i].val;
        cell(key, k, sizeof k);
        if (strcmp(k, "peers") == 0 || is_table(val))
            continue;
        if (val->type != MSGPACK_OBJECT_MAP) {
            cell(val, v, sizeof v);
            printf("%s: %s\n", k, v);
            continue;
        }
        for (uint32_t j = 0; j < val->via.map.size; j++) {
            cell(&val->via.map.ptr[j].key, sk, sizeof sk);
            cell(&val->via.map.ptr[j].val, v, sizeof v);
            printf("%s.%s: %s\n", k, sk, v);
        }
    }
}

/* Print rows of `ncols` cells under `titles`, each column as wide as its widest cell. */
static void print_grid(const char *const *titles, int ncols, char (*cells)[MAX_COLS][CELL],
                       uint32_t rows)
{
    int width[MAX_COLS];
    for (int c = 0; c < ncols; c++) {
        width[c] = (int)strlen(titles[c]);
        for (uint32_t r = 0; r < rows; r++)
            if ((int)strlen(cells[r][c]) > width[c])
                width[c] = (int)strlen(cells[r][c]);
    }
    for (int c = 0; c < ncols; c++)
        printf("%-*s%s", c == ncols - 1 ? 0 : width[c], titles[c], c == ncols - 1 ? "\n" : "  ");
    for (uint32_t r = 0; r < rows; r++)
        for (int c = 0; c < ncols; c++)
            printf("%-*s%s", c == ncols - 1 ? 0 : width[c], cells[r][c],
                   c == ncols - 1 ? "\n" : "  ");
}

/* The peers, with the columns a person looks for first. */
static void print_peers(const msgpack_object *peers)
{
    uint32_t rows = peers && peers->type == MSGPACK_OBJECT_ARRAY ? peers->via.array.size : 0;
    char(*cells)[MAX_COLS][CELL] = calloc(rows ? rows : 1, sizeof *cells);
    if (!cells) {
        fprintf(stderr, "swb stats: out of memory\n");
        return;
    }
    for (uint32_t r = 0; r < rows; r++) {
        const msgpack_object *p = &peers->via.array.ptr[r];
        for (int c = 0; c < N_COLS; c++) {
            const msgpack_object *v = map_get(p, col_key[c]);
            if (c == C_SEEN || (c == C_CPU && v))
                age_cell(v, cells[r][c], CELL);
            else if (c == C_RSS && v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                snprintf(cells[r][c], CELL, "%.1fM", (double)v->via.u64 / 1024.0);
            else if (c == C_PID && v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                     v->via.u64 == 0)
                snprintf(cells[r][c], CELL, "-"); /* clients in this process report no pid */
            else
                cell(v, cells[r][c], CELL);
        }
    }
    print_grid(col_title, N_COLS, cells, rows);
    free(cells);
}

/* Any other array of maps (e.g. per-service counters): a table whose columns are the keys
 * of its first row, titled in upper case. */
static void print_other_table(const char *title, const msgpack_object *arr)
{
    const msgpack_object *first = &arr->via.array.ptr[0];
    int ncols = first->via.map.size < MAX_COLS ? (int)first->via.map.size : MAX_COLS;
    uint32_t rows = arr->via.array.size;
    char names[MAX_COLS][CELL];
    const char *titles[MAX_COLS];
    char(*cells)[MAX_COLS][CELL] = calloc(rows, sizeof *cells);
    if (!cells || ncols == 0) {
        free(cells);
        return;
    }
    for (int c = 0; c < ncols; c++) {
        cell(&first->via.map.ptr[c].key, names[c], CELL);
        for (char *q = names[c]; *q; q++)
            *q = *q >= 'a' && *q <= 'z' ? (char)(*q - 'a' + 'A') : *q == '_' ? '-' : *q;
        titles[c] = names[c];
    }
    for (uint32_t r = 0; r < rows; r++) {
        const msgpack_object *row = &arr->via.array.ptr[r];
        for (int c = 0; c < ncols; c++) {
            const msgpack_object *k = &first->via.map.ptr[c].key;
            char key[CELL];
            cell(k, key, sizeof key);
            cell(k->type == MSGPACK_OBJECT_STR ? map_get(row, key) : NULL, cells[r][c], CELL);
        }
    }
    printf("\n%s:\n", title);
    print_grid(titles, ncols, cells, rows);
    free(cells);
}

int stats_print_table(const void *body, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = swb_msgpack_unpack(body, len, &u);
    if (!rc && u.data.type != MSGPACK_OBJECT_MAP)
        rc = SWB_E_MALFORMED;
    if (rc) {
        fprintf(stderr, "swb stats: unreadable reply: %s\n", swb_strerror(rc));
        msgpack_unpacked_destroy(&u);
        return 1;
    }
    print_counters(&u.data);
    printf("\n");
    print_peers(map_get(&u.data, "peers"));
    for (uint32_t i = 0; i < u.data.via.map.size; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key, *v = &u.data.via.map.ptr[i].val;
        char title[CELL];
        cell(k, title, sizeof title);
        if (strcmp(title, "peers") != 0 && is_table(v))
            print_other_table(title, v);
    }
    msgpack_unpacked_destroy(&u);
    return 0;
}

static int print_json(const void *body, size_t len)
{
    char *json = NULL;
    int rc = swb_msgpack_to_json(body, len, 1, &json);
    if (rc) {
        fprintf(stderr, "swb stats: unreadable reply: %s\n", swb_strerror(rc));
        return 1;
    }
    printf("%s\n", json);
    free(json);
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    stats_args_t a = {.timeout_ms = 2000};
    int first, rc = cli_opts_parse(&spec, argc, argv, &a, &first);
    if (rc != CLI_GO_ON)
        return rc;
    if (first < argc)
        return cli_usage_error(&spec, "unexpected argument '%s'", argv[first]);
    const char *endpoint = a.endpoint;
    long timeout_ms = a.timeout_ms;

    swb_peer_t *p = NULL;
    if (cli_connect("stats", endpoint, (int)timeout_ms, &p))
        return 1;
    void *body = NULL;
    size_t len = 0;
    rc = swb_peer_stats(p, &body, &len, (int)timeout_ms);
    swb_peer_destroy(&p);
    if (rc) {
        fprintf(stderr, "swb stats: %s\n", swb_strerror(rc));
        return 1;
    }
    rc = a.json ? print_json(body, len) : stats_print_table(body, len);
    free(body);
    return rc;
}
