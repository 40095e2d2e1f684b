/*
 * test_proto_spec.c - the codec against its spec and against msgpack-c.
 *
 * PROTOCOL.md is read at test time: its error table must match swb_error.h, its field table
 * the codec's field table, and every ```hex example must decode to exactly the fields the
 * line above it claims and re-encode to the same bytes, so the spec and the code cannot
 * drift. msgpack-c, an independent implementation, must read what our encoder writes as the
 * same map, and its packer must write the same bytes as our encoder.
 */
#include <msgpack.h>
#include <stdlib.h>

#include "swb_fields.h"
#include "test_proto_util.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char *read_spec(void)
{
    const char *path = SWB_SOURCE_DIR "/proto/PROTOCOL.md";
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    assert_true(n < sizeof buf - 1);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The next line of `*p` as [start, end); advances `*p`. Returns 0 at the end of the text. */
static int next_line(const char **p, const char **start, const char **end)
{
    if (**p == '\0')
        return 0;
    *start = *p;
    const char *nl = strchr(*p, '\n');
    *end = nl ? nl : *p + strlen(*p);
    *p = nl ? nl + 1 : *end;
    return 1;
}

/* Splits a markdown table row into trimmed cells without backticks; returns the count. */
static int table_cells(const char *s, const char *e, char cells[][256], int max)
{
    int n = 0;
    if (s == e || *s != '|')
        return 0;
    s++;
    while (s < e && n < max) {
        const char *bar = memchr(s, '|', (size_t)(e - s));
        if (bar == NULL)
            break;
        size_t o = 0;
        for (const char *q = s; q < bar && o + 1 < 256; q++)
            if (*q != '`')
                cells[n][o++] = *q;
        cells[n][o] = '\0';
        char *c = cells[n];
        while (*c == ' ')
            memmove(c, c + 1, strlen(c));
        while (o > 0 && c[strlen(c) - 1] == ' ')
            c[strlen(c) - 1] = '\0';
        n++;
        s = bar + 1;
    }
    return n;
}

/* Rows of the first table after the "## " heading that names `title` (numbered or not),
 * header and separator rows skipped. */
static int table_rows(const char *spec, const char *title, char rows[][8][256], int max_rows)
{
    const char *p = spec, *s, *e;
    int found = 0;
    while (!found && next_line(&p, &s, &e)) {
        size_t len = (size_t)(e - s), tl = strlen(title);
        found = len >= 3 + tl && memcmp(s, "## ", 3) == 0 && memcmp(e - tl, title, tl) == 0;
    }
    if (!found)
        fail_msg("PROTOCOL.md has no heading \"## ... %s\"", title);
    int in_table = 0, n = 0, seen = 0;
    while (next_line(&p, &s, &e)) {
        if (s < e && *s == '|') {
            in_table = 1;
            if (seen++ < 2)
                continue; /* header row and |---| row */
            assert_true(n < max_rows);
            assert_true(table_cells(s, e, rows[n], 8) >= 3);
            n++;
        } else if (in_table) {
            break;
        }
    }
    return n;
}

static void test_error_table_in_protocol_md_matches_swb_error_h(void **state)
{
    static char rows[64][8][256];
    int n = table_rows(read_spec(), "Error codes", rows, 64);
    static const struct {
        int code;
        const char *name, *text;
    } table[] = {
#define SWB_X_ROW(sym, val, name, text) {(val), (name), (text)},
        SWB_ERROR_TABLE(SWB_X_ROW)
#undef SWB_X_ROW
    };
    assert_int_equal(n, (int)N_OF(table));
    for (int i = 0; i < n; i++) {
        char *end;
        long code = strtol(rows[i][0], &end, 10);
        if (*end != '\0' || code != table[i].code)
            fail_msg("PROTOCOL.md error row %d: code \"%s\", swb_error.h has %d", i, rows[i][0],
                     table[i].code);
        assert_string_equal(rows[i][1], table[i].name);
        assert_string_equal(rows[i][2], table[i].text);
    }
}

static void test_error_functions_follow_the_table(void **state)
{
#define SWB_X_CHECK(sym, val, name, text)                                                          \
    assert_string_equal(swb_errname(val), name);                                                   \
    assert_string_equal(swb_strerror(val), text);                                                  \
    assert_true(swb_err_known(val));                                                               \
    assert_true((val) <= 0);
    SWB_ERROR_TABLE(SWB_X_CHECK)
#undef SWB_X_CHECK
    assert_int_equal(SWB_OK, 0);
    assert_false(swb_err_known(1));
    assert_false(swb_err_known(-10));
    assert_false(swb_err_known(-1000));
    assert_string_equal(swb_errname(-1000), "unknown");
    assert_string_equal(swb_strerror(-1000), "unknown error");
}

static void test_error_names_are_unique(void **state)
{
    static const char *const names[] = {
#define SWB_X_NAME(sym, val, name, text) name,
        SWB_ERROR_TABLE(SWB_X_NAME)
#undef SWB_X_NAME
    };
    for (size_t i = 0; i < N_OF(names); i++)
        for (size_t j = i + 1; j < N_OF(names); j++)
            assert_string_not_equal(names[i], names[j]);
}

static const char *doc_type(const swbi_field_def_t *d)
{
    switch (d->type) {
    case SWBI_FT_UINT:
        return d->width == 8 ? "uint64" : "uint";
    case SWBI_FT_INT:
        return "int";
    case SWBI_FT_NAME:
        return "name";
    case SWBI_FT_TEXT:
        return "text";
    case SWBI_FT_PATH:
        return "path";
    default:
        return "names";
    }
}

static void test_field_table_in_protocol_md_matches_the_codec(void **state)
{
    static char rows[64][8][256];
    int n = table_rows(read_spec(), "Header fields", rows, 64);
    assert_int_equal(n, SWB_F_COUNT_);
    for (int k = 0; k < n; k++) {
        assert_int_equal(atoi(rows[k][0]), k);
        assert_string_equal(rows[k][1], swbi_fields[k].name);
        assert_string_equal(rows[k][2], doc_type(&swbi_fields[k]));
    }
}

/* Whether `name` is in a table cell that lists fields ("`id`, `name`", "—"). */
static int cell_lists(const char *cell, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = cell; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        if ((size_t)(e - p) == n && memcmp(p, name, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* The command table: every command by number and name, and its Required column is exactly
 * what the codec requires (SEND's conditional `to`, after the ';', is left out). */
static void test_command_table_in_protocol_md_matches_the_codec(void **state)
{
    static char rows[64][8][256];
    int n = table_rows(read_spec(), "Commands", rows, 64);
    assert_int_equal(n, SWB_CMD_MAX);
    for (int i = 0; i < n; i++) {
        uint32_t cmd = (uint32_t)(i + 1);
        assert_int_equal(atoi(rows[i][0]), cmd);
        assert_string_equal(rows[i][1], swb_cmd_name(cmd));
        char *semi = strchr(rows[i][3], ';');
        if (semi != NULL)
            *semi = '\0';
        for (unsigned f = SWB_F_ID; f < SWB_F_COUNT_; f++) {
            /* every field present but `f` (SEND to all, so `to` is optional) */
            swb_header_t h;
            swb_header_init(&h, (swb_cmd_t)cmd);
            h.present = (uint32_t)((1ull << SWB_F_COUNT_) - 1);
            h.to_kind = SWB_TO_ALL;
            h.present &= ~(1u << f);
            int required = swbi_header_check_required(&h) == SWB_E_MISSING_FIELD;
            if (required != cell_lists(rows[i][3], swbi_fields[f].name))
                fail_msg("%s: the codec %s `%s` but PROTOCOL.md's Required column %s",
                         swb_cmd_name(cmd), required ? "requires" : "does not require",
                         swbi_fields[f].name, required ? "omits it" : "lists it");
        }
    }
}

/* The EVENT table of section 5.6 lists every `event` value, numbered in order. */
static void test_event_table_in_protocol_md_lists_every_event(void **state)
{
    const char *p = read_spec(), *s, *e;
    int n = 0, in_table = 0;
    while (next_line(&p, &s, &e)) {
        if (!in_table) {
            in_table = (size_t)(e - s) > 10 && memcmp(s, "| `event`", 9) == 0;
            continue;
        }
        if (s == e || *s != '|')
            break;
        char cells[8][256];
        assert_true(table_cells(s, e, cells, 8) >= 3);
        if (cells[0][0] == '-')
            continue; /* |---| row */
        n++;
        assert_int_equal(atoi(cells[0]), n);
    }
    assert_true(in_table);
    assert_int_equal(n, SWB_EV_RELOADED);
    assert_int_equal(swbi_fields[SWB_F_EVENT].max, SWB_EV_RELOADED);
}

/* ---- the worked examples ------------------------------------------------------------------ */

static int field_by_name(const char *s, size_t n)
{
    for (int k = 0; k < SWB_F_COUNT_; k++)
        if (strlen(swbi_fields[k].name) == n && memcmp(swbi_fields[k].name, s, n) == 0)
            return k;
    return -1;
}

static const char *skip_sp(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* A "string" without escapes; returns the position after it. */
static const char *parse_string(const char *p, swb_str_t *out)
{
    assert_int_equal(*p, '"');
    const char *q = strchr(p + 1, '"');
    assert_non_null(q);
    for (const char *c = p + 1; c < q; c++)
        assert_true(*c != '\\' && *c != '\n');
    *out = (swb_str_t){p + 1, (uint32_t)(q - p - 1)};
    return q + 1;
}

/* Parses `CMD {key: value, ...}` (the claim of an example) into `h`. */
static void parse_claim(const char *s, const char *e, swb_header_t *h)
{
    char cmd_name[16];
    size_t n = 0;
    while (s + n < e && s[n] >= 'A' && s[n] <= 'Z' && n < sizeof cmd_name - 1)
        n++;
    memcpy(cmd_name, s, n);
    cmd_name[n] = '\0';
    uint32_t cmd = 0;
    for (uint32_t c = 1; c <= SWB_CMD_MAX; c++)
        if (strcmp(swb_cmd_name(c), cmd_name) == 0)
            cmd = c;
    if (cmd == 0)
        fail_msg("example claims unknown command \"%s\"", cmd_name);
    swb_header_init(h, (swb_cmd_t)cmd);
    const char *p = skip_sp(s + n);
    assert_int_equal(*p, '{');
    p = skip_sp(p + 1);
    while (*p != '}') {
        const char *key = p;
        while ((*p >= 'a' && *p <= 'z') || *p == '_')
            p++;
        int f = field_by_name(key, (size_t)(p - key));
        if (f < SWB_F_ID)
            fail_msg("example claims unknown field \"%.*s\"", (int)(p - key), key);
        assert_int_equal(*p, ':');
        p = skip_sp(p + 1);
        const swbi_field_def_t *d = &swbi_fields[f];
        SWB_SET(h, f);
        if (d->type == SWBI_FT_UINT || d->type == SWBI_FT_INT) {
            char *end;
            long long v = strtoll(p, &end, 10);
            assert_true(end > p);
            if (d->type == SWBI_FT_UINT && d->width == 8) /* id, boot: past INT64_MAX too */
                swbi_field_uint_set(h, d, strtoull(p, &end, 10));
            else if (d->type == SWBI_FT_INT)
                memcpy((char *)h + d->off, &(int32_t){(int32_t)v}, sizeof(int32_t));
            else
                swbi_field_uint_set(h, d, (uint64_t)v);
            p = end;
        } else if (d->type == SWBI_FT_NAMES) {
            assert_int_equal(*p, '[');
            p = skip_sp(p + 1);
            while (*p != ']') {
                assert_true(h->n_services < SWB_MAX_SERVICES);
                p = skip_sp(parse_string(p, &h->services[h->n_services++]));
                if (*p == ',')
                    p = skip_sp(p + 1);
            }
            p++;
        } else {
            p = parse_string(p, swbi_field_str(h, d));
        }
        p = skip_sp(p);
        if (*p == ',')
            p = skip_sp(p + 1);
        assert_true(p < e);
    }
}

typedef struct {
    swb_header_t claim;
    uint8_t bytes[SWB_MAX_HEADER];
    size_t len;
} example_t;

/* Every ```hex block of PROTOCOL.md with the claim on the closest line above it that holds a
 * `CMD {...}` span. */
static int spec_examples(example_t *out, int max)
{
    const char *p = read_spec(), *s, *e;
    const char *claim_s = NULL, *claim_e = NULL;
    int n = 0;
    while (next_line(&p, &s, &e)) {
        const char *tick = memchr(s, '`', (size_t)(e - s));
        while (tick != NULL && tick + 1 < e) {
            const char *c = tick + 1;
            while (c < e && *c >= 'A' && *c <= 'Z')
                c++;
            if (c > tick + 1 && c + 1 < e && c[0] == ' ' && c[1] == '{') {
                claim_s = tick + 1;
                claim_e = e;
                break;
            }
            tick = memchr(tick + 1, '`', (size_t)(e - tick - 1));
        }
        if ((size_t)(e - s) < 6 || memcmp(s, "```hex", 6) != 0)
            continue;
        if (claim_s == NULL)
            fail_msg("a ```hex block in PROTOCOL.md has no `CMD {...}` line above it");
        assert_true(n < max);
        parse_claim(claim_s, claim_e, &out[n].claim);
        claim_s = NULL;
        char hex[4 * SWB_MAX_HEADER];
        size_t o = 0;
        while (next_line(&p, &s, &e) && memcmp(s, "```", 3) != 0) {
            assert_true(o + (size_t)(e - s) + 2 < sizeof hex);
            memcpy(hex + o, s, (size_t)(e - s));
            o += (size_t)(e - s);
            hex[o++] = ' ';
        }
        hex[o] = '\0';
        out[n].len = hex_parse(hex, out[n].bytes, sizeof out[n].bytes);
        n++;
    }
    return n;
}

static example_t examples[64];

static void test_protocol_md_examples_decode_to_their_claims(void **state)
{
    int n = spec_examples(examples, (int)N_OF(examples));
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        example_t *x = &examples[i];
        swb_header_t h;
        int rc = swb_header_decode(x->bytes, x->len, &h);
        if (rc != SWB_OK)
            fail_msg("example %d (%s) does not decode: %s", i, swb_cmd_name(x->claim.cmd),
                     swb_errname(rc));
        int diff = swbt_header_diff(&x->claim, &h);
        if (diff >= 0)
            fail_msg("example %d (%s): field %d differs from its claim", i,
                     swb_cmd_name(x->claim.cmd), diff);
    }
}

static void test_protocol_md_examples_are_what_the_encoder_writes(void **state)
{
    int n = spec_examples(examples, (int)N_OF(examples));
    for (int i = 0; i < n; i++) {
        example_t *x = &examples[i];
        uint8_t buf[SWB_MAX_HEADER];
        size_t len;
        assert_int_equal(swb_header_encode(&x->claim, buf, sizeof buf, &len), SWB_OK);
        if (len != x->len || memcmp(buf, x->bytes, len) != 0) {
            static char hex[4 * SWB_MAX_HEADER];
            hex_format(buf, len, hex, sizeof hex);
            fail_msg("example %d (%s): the encoder writes %zu bytes:\n%s", i,
                     swb_cmd_name(x->claim.cmd), len, hex);
        }
    }
}

static void test_protocol_md_has_an_example_of_every_command(void **state)
{
    int n = spec_examples(examples, (int)N_OF(examples));
    unsigned seen = 0;
    for (int i = 0; i < n; i++)
        seen |= 1u << examples[i].claim.cmd;
    for (uint32_t c = 1; c <= SWB_CMD_MAX; c++)
        if (!((seen >> c) & 1u))
            fail_msg("PROTOCOL.md has no example of %s", swb_cmd_name(c));
}

/* Example i of PROTOCOL.md is the fuzz seed corpus/header/ok-<i>-<command>, byte for byte, so
 * the fuzzer starts from every header the spec shows. */
static void test_protocol_md_examples_are_fuzz_seeds(void **state)
{
    int n = spec_examples(examples, (int)N_OF(examples));
    for (int i = 0; i < n; i++) {
        char cmd[16], path[512];
        const char *name = swb_cmd_name(examples[i].claim.cmd);
        size_t k = 0;
        for (; name[k] && k + 1 < sizeof cmd; k++)
            cmd[k] = (char)tolower((unsigned char)name[k]);
        cmd[k] = '\0';
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/header/ok-%02d-%s", SWB_SOURCE_DIR, i,
                 cmd);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            fail_msg("example %d (%s) is not in the fuzz corpus as %s", i, name, path);
        uint8_t seed[SWB_MAX_HEADER + 1];
        size_t len = fread(seed, 1, sizeof seed, f);
        fclose(f);
        if (len != examples[i].len || memcmp(seed, examples[i].bytes, len) != 0)
            fail_msg("%s differs from example %d of PROTOCOL.md", path, i);
    }
}

/* ---- msgpack-c ---------------------------------------------------------------------------- */

/* Checks that msgpack-c reads `buf` as a map holding exactly the fields of `h`. */
static void check_with_msgpack_c(const swb_header_t *h, const uint8_t *buf, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, (const char *)buf, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    msgpack_object o = u.data;
    assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(o.via.map.size, __builtin_popcount(h->present));
    int64_t last = -1;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        msgpack_object k = o.via.map.ptr[i].key, v = o.via.map.ptr[i].val;
        assert_int_equal(k.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
        assert_true((int64_t)k.via.u64 > last && k.via.u64 < SWB_F_COUNT_);
        last = (int64_t)k.via.u64;
        assert_true(SWB_HAS(h, k.via.u64));
        const swbi_field_def_t *d = &swbi_fields[k.via.u64];
        switch (d->type) {
        case SWBI_FT_UINT:
            assert_int_equal(v.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
            assert_true(v.via.u64 == swbi_field_uint_get(h, d));
            break;
        case SWBI_FT_INT: {
            int32_t want;
            memcpy(&want, (const char *)h + d->off, sizeof want);
            assert_int_equal(v.type, want < 0 ? MSGPACK_OBJECT_NEGATIVE_INTEGER
                                              : MSGPACK_OBJECT_POSITIVE_INTEGER);
            assert_true(v.via.i64 == want);
            break;
        }
        case SWBI_FT_NAMES:
            assert_int_equal(v.type, MSGPACK_OBJECT_ARRAY);
            assert_int_equal(v.via.array.size, h->n_services);
            for (uint32_t j = 0; j < h->n_services; j++) {
                msgpack_object s = v.via.array.ptr[j];
                assert_int_equal(s.type, MSGPACK_OBJECT_STR);
                assert_true(
                    swbt_str_same((swb_str_t){s.via.str.ptr, s.via.str.size}, h->services[j]));
            }
            break;
        default: {
            const swb_str_t *want = swbi_field_str((swb_header_t *)h, d);
            assert_int_equal(v.type, MSGPACK_OBJECT_STR);
            assert_true(swbt_str_same((swb_str_t){v.via.str.ptr, v.via.str.size}, *want));
            break;
        }
        }
    }
    msgpack_unpacked_destroy(&u);
}

/* Packs `h` with msgpack-c's packer, in our key order. */
static void pack_with_msgpack_c(const swb_header_t *h, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (size_t)__builtin_popcount(h->present));
    for (unsigned k = 0; k < SWB_F_COUNT_; k++) {
        if (!SWB_HAS(h, k))
            continue;
        const swbi_field_def_t *d = &swbi_fields[k];
        msgpack_pack_uint32(&pk, k);
        if (d->type == SWBI_FT_UINT) {
            msgpack_pack_uint64(&pk, swbi_field_uint_get(h, d));
        } else if (d->type == SWBI_FT_INT) {
            int32_t v;
            memcpy(&v, (const char *)h + d->off, sizeof v);
            msgpack_pack_int32(&pk, v);
        } else if (d->type == SWBI_FT_NAMES) {
            msgpack_pack_array(&pk, h->n_services);
            for (uint32_t j = 0; j < h->n_services; j++) {
                msgpack_pack_str(&pk, h->services[j].len);
                msgpack_pack_str_body(&pk, h->services[j].ptr, h->services[j].len);
            }
        } else {
            const swb_str_t *s = swbi_field_str((swb_header_t *)h, d);
            msgpack_pack_str(&pk, s->len);
            msgpack_pack_str_body(&pk, s->ptr, s->len);
        }
    }
}

/* Every header the tests know: both examples of each command and the spec's examples. */
static int all_headers(swb_header_t *out, int max)
{
    int n = 0;
    for (unsigned c = 1; c <= SWB_CMD_MAX; c++) {
        out[n++] = example_required((swb_cmd_t)c);
        out[n++] = example_full((swb_cmd_t)c);
    }
    int m = spec_examples(examples, (int)N_OF(examples));
    for (int i = 0; i < m && n < max; i++)
        out[n++] = examples[i].claim;
    return n;
}

static void test_msgpack_c_reads_what_the_encoder_writes(void **state)
{
    static swb_header_t hs[128];
    int n = all_headers(hs, (int)N_OF(hs));
    for (int i = 0; i < n; i++) {
        uint8_t buf[SWB_MAX_HEADER];
        size_t len;
        assert_int_equal(swb_header_encode(&hs[i], buf, sizeof buf, &len), SWB_OK);
        check_with_msgpack_c(&hs[i], buf, len);
    }
}

static void test_msgpack_c_packer_writes_the_same_bytes(void **state)
{
    static swb_header_t hs[128];
    int n = all_headers(hs, (int)N_OF(hs));
    /* and every integer size class, signed and unsigned */
    static const int64_t ints[] = {0,   127, 128,  255,  256,    65535,  65536,     -1,
                                   -32, -33, -128, -129, -32768, -32769, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < N_OF(ints) && n < (int)N_OF(hs); i++) {
        swb_header_t *h = &hs[n++];
        swb_header_init(h, SWB_CMD_RESULT);
        set_uint(h, SWB_F_ID, ints[i] < 0 ? (uint64_t)-ints[i] << 20 : (uint64_t)ints[i]);
        set_uint(h, SWB_F_CODE, (uint64_t)ints[i]);
        set_uint(h, SWB_F_PRIORITY, (uint64_t) - (ints[i] / 2));
        set_uint(h, SWB_F_PID, ints[i] < 0 ? (uint64_t)-ints[i] : (uint64_t)ints[i]);
    }
    for (int i = 0; i < n; i++) {
        uint8_t buf[SWB_MAX_HEADER];
        size_t len;
        assert_int_equal(swb_header_encode(&hs[i], buf, sizeof buf, &len), SWB_OK);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        pack_with_msgpack_c(&hs[i], &sb);
        assert_int_equal(sb.size, len);
        assert_memory_equal(sb.data, buf, len);
        swb_header_t back;
        assert_int_equal(swb_header_decode(sb.data, sb.size, &back), SWB_OK);
        msgpack_sbuffer_destroy(&sb);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_table_in_protocol_md_matches_swb_error_h),
    cmocka_unit_test(test_error_functions_follow_the_table),
    cmocka_unit_test(test_error_names_are_unique),
    cmocka_unit_test(test_field_table_in_protocol_md_matches_the_codec),
    cmocka_unit_test(test_command_table_in_protocol_md_matches_the_codec),
    cmocka_unit_test(test_event_table_in_protocol_md_lists_every_event),
    cmocka_unit_test(test_protocol_md_examples_decode_to_their_claims),
    cmocka_unit_test(test_protocol_md_examples_are_what_the_encoder_writes),
    cmocka_unit_test(test_protocol_md_has_an_example_of_every_command),
    cmocka_unit_test(test_protocol_md_examples_are_fuzz_seeds),
    cmocka_unit_test(test_msgpack_c_reads_what_the_encoder_writes),
    cmocka_unit_test(test_msgpack_c_packer_writes_the_same_bytes),
};

SWB_TEST_MAIN(tests)
