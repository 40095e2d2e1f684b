/*
 * body.c - the plugin helpers of swb_body.h: typed reads from msgpack maps, and an answer
 * builder, both without msgpack-c.
 *
 * swb_body_open runs swb_msgpack_check over the whole body first (size, nesting, every count
 * and length proved to fit in the bytes left), so the reads afterwards walk bytes known to be
 * well formed; they still check every step against the end, so a reader misused on other
 * bytes fails instead of reading past them. Nothing is allocated and nothing recurses: a value
 * is skipped by counting the values still owed, as msgpack_check.c does.
 *
 * The builder cannot know a map's count when it opens it, so it writes a 5-byte header and
 * shrinks it to the smallest form when the map closes: the bytes are what msgpack-c's packer
 * would write for the same values.
 *
 * Layer: host (the reply helpers call swb_ctx_*); uses: common (swb_msgpack_check);
 * called by: plugins and programs through swb_body.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swb_body.h"
#include "swb_msgpack.h"

/* ---- decoding one value ----------------------------------------------------------------- */

typedef struct {
    swb_body_type_t type;
    int neg; /* INT: negative, in i; otherwise in u */
    int64_t i;
    uint64_t u;
    double d;
    int b;
    const unsigned char *data; /* STR, BIN, EXT payload; ARRAY, MAP first element */
    uint64_t n;                /* STR, BIN, EXT bytes; ARRAY, MAP elements or entries */
    const unsigned char *next; /* past the header and any scalar payload */
} val_t;

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The value starting at p. Returns -1 when it does not fit before end. */
static int read_val(const unsigned char *p, const unsigned char *end, val_t *v)
{
    memset(v, 0, sizeof *v);
    if (!p || p >= end)
        return -1;
    unsigned char c = *p++;
    size_t avail = (size_t)(end - p), lenbytes = 0, fixed = 0;
    if (c <= 0x7f || c >= 0xe0) {
        v->type = SWB_BODY_INT;
        v->neg = c >= 0xe0;
        v->i = (int8_t)c;
        v->u = c;
    } else if (c <= 0x8f || (c >= 0x90 && c <= 0x9f)) {
        v->type = c <= 0x8f ? SWB_BODY_MAP : SWB_BODY_ARRAY;
        v->n = c & 0x0f;
    } else if (c <= 0xbf) {
        v->type = SWB_BODY_STR;
        v->n = c & 0x1f;
    } else if (c == 0xc0) {
        v->type = SWB_BODY_NIL;
    } else if (c == 0xc2 || c == 0xc3) {
        v->type = SWB_BODY_BOOL;
        v->b = c == 0xc3;
    } else if (c >= 0xc4 && c <= 0xc6) {
        v->type = SWB_BODY_BIN;
        lenbytes = (size_t)1 << (c - 0xc4);
    } else if (c >= 0xc7 && c <= 0xc9) {
        v->type = SWB_BODY_EXT;
        lenbytes = (size_t)1 << (c - 0xc7);
    } else if (c == 0xca || c == 0xcb) {
        v->type = SWB_BODY_FLOAT;
        fixed = c == 0xca ? 4 : 8;
    } else if (c >= 0xcc && c <= 0xd3) {
        v->type = SWB_BODY_INT;
        fixed = (size_t)1 << ((c - 0xcc) & 3);
    } else if (c >= 0xd4 && c <= 0xd8) {
        v->type = SWB_BODY_EXT;
        v->n = (uint64_t)1 << (c - 0xd4);
    } else if (c >= 0xd9 && c <= 0xdb) {
        v->type = SWB_BODY_STR;
        lenbytes = (size_t)1 << (c - 0xd9);
    } else if (c == 0xdc || c == 0xdd || c == 0xde || c == 0xdf) {
        v->type = c <= 0xdd ? SWB_BODY_ARRAY : SWB_BODY_MAP;
        lenbytes = c == 0xdc || c == 0xde ? 2 : 4;
    } else {
        return -1; /* 0xc1 */
    }

    if (fixed) { /* numbers */
        if (avail < fixed)
            return -1;
        uint64_t raw = be(p, fixed);
        if (v->type == SWB_BODY_FLOAT) {
            if (fixed == 4) {
                uint32_t r32 = (uint32_t)raw;
                float f;
                memcpy(&f, &r32, sizeof f);
                v->d = f;
            } else
                memcpy(&v->d, &raw, sizeof v->d);
        } else if (c <= 0xcf) {
            v->u = raw;
        } else {
            /* Sign-extend the n-byte two's complement value. */
            int shift = 64 - 8 * (int)fixed;
            v->i = (int64_t)(raw << shift) >> shift;
            v->neg = v->i < 0;
            v->u = (uint64_t)v->i;
        }
        v->next = p + fixed;
        return 0;
    }
    if (lenbytes) {
        if (avail < lenbytes)
            return -1;
        v->n = be(p, lenbytes);
        p += lenbytes;
        avail -= lenbytes;
    }
    if (v->type == SWB_BODY_EXT)
        v->n += 1; /* the type byte comes first */
    if (v->type == SWB_BODY_STR || v->type == SWB_BODY_BIN || v->type == SWB_BODY_EXT) {
        if (v->n > avail)
            return -1;
        v->data = p;
        v->next = p + v->n;
    } else {
        /* A container's elements take a byte each at least. */
        if ((v->type == SWB_BODY_MAP ? 2 * v->n : v->n) > avail)
            return -1;
        v->data = p;
        v->next = p;
    }
    return 0;
}

/* Past the value at p, nested values included; NULL if it does not fit before end. */
static const unsigned char *skip(const unsigned char *p, const unsigned char *end)
{
    uint64_t owed = 1;
    while (owed > 0) {
        val_t v;
        if (read_val(p, end, &v))
            return NULL;
        owed--;
        if (v.type == SWB_BODY_ARRAY)
            owed += v.n;
        else if (v.type == SWB_BODY_MAP)
            owed += 2 * v.n;
        p = v.next;
    }
    return p;
}

/* ---- errors ------------------------------------------------------------------------------ */

static const char *type_name(swb_body_type_t t)
{
    static const char *const names[] = {
        "nothing",  "nil",         "a boolean", "an integer", "a float",
        "a string", "binary data", "an array",  "a map",      "an extension",
    };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "an unknown value";
}

static swb_body_t *root_of(swb_body_t *b)
{
    return b->root ? b->root : b;
}

/* Record `field "<path>": <text>` as the reader's last error and return code. An element of
 * an array is named by its index (key NULL). */
__attribute__((format(printf, 5, 6))) static int bfail(swb_body_t *b, int code, const char *key,
                                                       uint32_t idx, const char *fmt, ...)
{
    swb_body_t *r = root_of(b);
    char name[SWB_BODY_PATH_MAX + 80];
    if (key)
        snprintf(name, sizeof name, "%s%s%s", b->path, b->path[0] ? "." : "", key);
    else
        snprintf(name, sizeof name, "%s[%u]", b->path, idx);
    int n = snprintf(r->msg, sizeof r->msg, "field \"%s\": ", name);
    if (n >= 0 && (size_t)n < sizeof r->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    r->err = code;
    return code;
}

/* An error about the body as a whole. */
static int open_fail(swb_body_t *b, int code, const char *text)
{
    snprintf(b->msg, sizeof b->msg, "body: %s", text);
    b->err = code;
    return code;
}

/* ---- reading ------------------------------------------------------------------------------ */

int swb_body_open(swb_body_t *b, const void *body, size_t len)
{
    return swb_body_open_max(b, body, len, 0);
}

int swb_body_open_max(swb_body_t *b, const void *body, size_t len, size_t max_len)
{
    if (!b)
        return SWB_E_INVALID;
    /* Whatever happens next, the reader is a valid empty map. */
    memset(b, 0, offsetof(swb_body_t, path));
    b->is_map = 1;
    b->root = b;
    b->path[0] = '\0';
    b->msg[0] = '\0';
    if (!body && len)
        return open_fail(b, SWB_E_INVALID, "NULL with a length");
    if (max_len == 0)
        max_len = SWB_BODY_MAX_LEN;
    if (len > max_len) {
        char t[96];
        snprintf(t, sizeof t, "%zu bytes, over the limit of %zu", len, max_len);
        return open_fail(b, SWB_E_TOO_LARGE, t);
    }
    switch (swb_msgpack_check(body, len, 0, SWB_BODY_MAX_DEPTH)) {
    case SWB_OK:
        break;
    case SWB_E_TOO_LARGE:
        return open_fail(b, SWB_E_TOO_LARGE, "maps and arrays nested deeper than 32 levels");
    case SWB_E_TRUNCATED:
        return open_fail(b, SWB_E_TRUNCATED, len ? "msgpack cut short" : "empty");
    case SWB_E_TRAILING:
        return open_fail(b, SWB_E_TRAILING, "bytes left after the msgpack value");
    default:
        return open_fail(b, SWB_E_MALFORMED, "not msgpack");
    }
    const unsigned char *p = body, *end = p + len;
    val_t v;
    if (read_val(p, end, &v))
        return open_fail(b, SWB_E_MALFORMED, "not msgpack");
    if (v.type != SWB_BODY_MAP) {
        char t[64];
        snprintf(t, sizeof t, "expected a map, got %s", type_name(v.type));
        return open_fail(b, SWB_E_BAD_TYPE, t);
    }
    b->first = v.data;
    b->end = end;
    b->count = (uint32_t)v.n;
    return SWB_OK;
}

int swb_body_error(const swb_body_t *b)
{
    return !b ? SWB_E_INVALID : b->root ? b->root->err : b->err;
}

const char *swb_body_errmsg(const swb_body_t *b)
{
    return !b ? "no reader" : b->root ? b->root->msg : b->msg;
}

uint32_t swb_body_count(const swb_body_t *b)
{
    return b ? b->count : 0;
}

/* The value under key: 1 found, 0 not, -1 the bytes are not what the reader was opened on. */
static int find(const swb_body_t *b, const char *key, val_t *v)
{
    if (!b->is_map)
        return 0;
    size_t kn = strlen(key);
    const unsigned char *p = b->first;
    for (uint32_t i = 0; i < b->count; i++) {
        val_t k;
        if (read_val(p, b->end, &k))
            return -1;
        const unsigned char *vp = skip(p, b->end);
        if (!vp)
            return -1;
        if (k.type == SWB_BODY_STR && k.n == kn && memcmp(k.data, key, kn) == 0)
            return read_val(vp, b->end, v) ? -1 : 1;
        if (!(p = skip(vp, b->end)))
            return -1;
    }
    return 0;
}

/* The value under key, or an error recorded: the common start of every keyed getter. With
 * `optional`, a missing key returns 1 instead of an error. */
static int get(swb_body_t *b, const char *key, val_t *v, int optional)
{
    if (!b)
        return SWB_E_INVALID;
    if (!key)
        return bfail(b, SWB_E_INVALID, "", 0, "NULL key");
    if (!b->is_map)
        return bfail(b, SWB_E_INVALID, key, 0, "read by key from an array");
    int r = find(b, key, v);
    if (r < 0)
        return bfail(b, SWB_E_MALFORMED, key, 0, "not msgpack");
    if (r == 0)
        return optional ? 1 : bfail(b, SWB_E_MISSING_FIELD, key, 0, "missing");
    return 0;
}

/* Element i of an array, or an error recorded. */
static int at(swb_body_t *b, uint32_t i, val_t *v)
{
    if (!b)
        return SWB_E_INVALID;
    if (b->is_map)
        return bfail(b, SWB_E_INVALID, NULL, i, "read by index from a map");
    if (i >= b->count)
        return bfail(b, SWB_E_MISSING_FIELD, NULL, i, "missing (the array has %u elements)",
                     b->count);
    if (!b->cur || i < b->cur_i) {
        b->cur = b->first;
        b->cur_i = 0;
    }
    while (b->cur && b->cur_i < i) {
        b->cur = skip(b->cur, b->end);
        b->cur_i++;
    }
    if (!b->cur || read_val(b->cur, b->end, v))
        return bfail(b, SWB_E_MALFORMED, NULL, i, "not msgpack");
    return 0;
}

int swb_body_has(swb_body_t *b, const char *key)
{
    val_t v;
    return b && key && find(b, key, &v) == 1;
}

swb_body_type_t swb_body_type(swb_body_t *b, const char *key)
{
    val_t v;
    return b && key && find(b, key, &v) == 1 ? v.type : SWB_BODY_NONE;
}

swb_body_type_t swb_body_at_type(swb_body_t *b, uint32_t i)
{
    val_t v;
    if (!b || b->is_map || i >= b->count)
        return SWB_BODY_NONE;
    swb_body_t *r = root_of(b);
    int err = r->err; /* asking is not failing: keep the last error as it was */
    char msg[sizeof r->msg];
    memcpy(msg, r->msg, sizeof msg);
    swb_body_type_t t = at(b, i, &v) == 0 ? v.type : SWB_BODY_NONE;
    r->err = err;
    memcpy(r->msg, msg, sizeof msg);
    return t;
}

/* Conversions from a found value; key or (key NULL) idx name it in errors. */

static int wrong(swb_body_t *b, const char *key, uint32_t idx, const char *want, const val_t *v)
{
    return bfail(b, SWB_E_BAD_TYPE, key, idx, "expected %s, got %s", want, type_name(v->type));
}

static int conv_i64(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, int64_t *out)
{
    if (v->type != SWB_BODY_INT)
        return wrong(b, key, idx, "an integer", v);
    if (!v->neg && v->u > (uint64_t)INT64_MAX)
        return bfail(b, SWB_E_BAD_VALUE, key, idx, "integer %llu is out of the int64 range",
                     (unsigned long long)v->u);
    *out = v->neg ? v->i : (int64_t)v->u;
    return 0;
}

static int conv_u64(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, uint64_t *out)
{
    if (v->type != SWB_BODY_INT)
        return wrong(b, key, idx, "an integer", v);
    if (v->neg)
        return bfail(b, SWB_E_BAD_VALUE, key, idx, "expected an integer >= 0, got %lld",
                     (long long)v->i);
    *out = v->u;
    return 0;
}

static int conv_double(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, double *out)
{
    if (v->type == SWB_BODY_FLOAT)
        *out = v->d;
    else if (v->type == SWB_BODY_INT)
        *out = v->neg ? (double)v->i : (double)v->u;
    else
        return wrong(b, key, idx, "a number", v);
    return 0;
}

static int conv_bool(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, int *out)
{
    if (v->type != SWB_BODY_BOOL)
        return wrong(b, key, idx, "a boolean", v);
    *out = v->b;
    return 0;
}

/* STR or BIN: the caller takes v->data and v->n. */
static int conv_bytes(swb_body_t *b, const char *key, uint32_t idx, const val_t *v,
                      swb_body_type_t want)
{
    return v->type == want ? 0 : wrong(b, key, idx, type_name(want), v);
}

static int take_str(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, const char **s,
                    size_t *n)
{
    int rc = conv_bytes(b, key, idx, v, SWB_BODY_STR);
    if (!rc && s)
        *s = (const char *)v->data;
    if (!rc && n)
        *n = (size_t)v->n;
    return rc;
}

static int take_bin(swb_body_t *b, const char *key, uint32_t idx, const val_t *v, const void **p,
                    size_t *n)
{
    int rc = conv_bytes(b, key, idx, v, SWB_BODY_BIN);
    if (!rc && p)
        *p = v->data;
    if (!rc && n)
        *n = (size_t)v->n;
    return rc;
}

static int conv_sub(swb_body_t *b, const char *key, uint32_t idx, const val_t *v,
                    swb_body_type_t want, swb_body_t *sub)
{
    if (v->type != want)
        return wrong(b, key, idx, type_name(want), v);
    if (!sub)
        return bfail(b, SWB_E_INVALID, key, idx, "NULL reader");
    memset(sub, 0, offsetof(swb_body_t, path));
    sub->first = v->data;
    sub->end = b->end;
    sub->count = (uint32_t)v->n;
    sub->is_map = want == SWB_BODY_MAP;
    sub->root = root_of(b);
    if (key)
        snprintf(sub->path, sizeof sub->path, "%s%s%s", b->path, b->path[0] ? "." : "", key);
    else
        snprintf(sub->path, sizeof sub->path, "%s[%u]", b->path, idx);
    sub->msg[0] = '\0';
    return 0;
}

/* Each getter twice: by key from a map, by index from an array. */
#define SWB_GETTER(name, T, conv)                                                                  \
    int swb_body_##name(swb_body_t *b, const char *key, T *out)                                    \
    {                                                                                              \
        val_t v;                                                                                   \
        int rc = get(b, key, &v, 0);                                                               \
        return rc ? rc : conv(b, key, 0, &v, out);                                                 \
    }                                                                                              \
    int swb_body_at_##name(swb_body_t *b, uint32_t i, T *out)                                      \
    {                                                                                              \
        val_t v;                                                                                   \
        int rc = at(b, i, &v);                                                                     \
        return rc ? rc : conv(b, NULL, i, &v, out);                                                \
    }

SWB_GETTER(i64, int64_t, conv_i64)
SWB_GETTER(u64, uint64_t, conv_u64)
SWB_GETTER(double, double, conv_double)
SWB_GETTER(bool, int, conv_bool)

/* Optional fields: a missing key or nil is the default. */
#define SWB_GETTER_OR(name, T, conv)                                                               \
    int swb_body_##name##_or(swb_body_t *b, const char *key, T def, T *out)                        \
    {                                                                                              \
        val_t v;                                                                                   \
        int rc = get(b, key, &v, 1);                                                               \
        if (rc == 1 || (rc == 0 && v.type == SWB_BODY_NIL)) {                                      \
            *out = def;                                                                            \
            return 0;                                                                              \
        }                                                                                          \
        return rc ? rc : conv(b, key, 0, &v, out);                                                 \
    }

SWB_GETTER_OR(i64, int64_t, conv_i64)
SWB_GETTER_OR(u64, uint64_t, conv_u64)
SWB_GETTER_OR(double, double, conv_double)
SWB_GETTER_OR(bool, int, conv_bool)

int swb_body_str(swb_body_t *b, const char *key, const char **s, size_t *n)
{
    val_t v;
    int rc = get(b, key, &v, 0);
    return rc ? rc : take_str(b, key, 0, &v, s, n);
}

int swb_body_at_str(swb_body_t *b, uint32_t i, const char **s, size_t *n)
{
    val_t v;
    int rc = at(b, i, &v);
    return rc ? rc : take_str(b, NULL, i, &v, s, n);
}

int swb_body_str_or(swb_body_t *b, const char *key, const char *def, const char **s, size_t *n)
{
    val_t v;
    int rc = get(b, key, &v, 1);
    if (rc == 1 || (rc == 0 && v.type == SWB_BODY_NIL)) {
        if (s)
            *s = def;
        if (n)
            *n = def ? strlen(def) : 0;
        return 0;
    }
    return rc ? rc : take_str(b, key, 0, &v, s, n);
}

int swb_body_strcpy(swb_body_t *b, const char *key, char *buf, size_t cap)
{
    const char *s;
    size_t n;
    int rc = swb_body_str(b, key, &s, &n);
    if (rc)
        return rc;
    if (!buf || n >= cap)
        return bfail(b, SWB_E_TOO_LARGE, key, 0, "string of %zu bytes does not fit in %zu", n, cap);
    if (memchr(s, '\0', n))
        return bfail(b, SWB_E_BAD_VALUE, key, 0, "string holds a NUL byte");
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int swb_body_bin(swb_body_t *b, const char *key, const void **p, size_t *n)
{
    val_t v;
    int rc = get(b, key, &v, 0);
    return rc ? rc : take_bin(b, key, 0, &v, p, n);
}

int swb_body_at_bin(swb_body_t *b, uint32_t i, const void **p, size_t *n)
{
    val_t v;
    int rc = at(b, i, &v);
    return rc ? rc : take_bin(b, NULL, i, &v, p, n);
}

int swb_body_map(swb_body_t *b, const char *key, swb_body_t *sub)
{
    val_t v;
    int rc = get(b, key, &v, 0);
    return rc ? rc : conv_sub(b, key, 0, &v, SWB_BODY_MAP, sub);
}

int swb_body_array(swb_body_t *b, const char *key, swb_body_t *sub)
{
    val_t v;
    int rc = get(b, key, &v, 0);
    return rc ? rc : conv_sub(b, key, 0, &v, SWB_BODY_ARRAY, sub);
}

int swb_body_at_map(swb_body_t *b, uint32_t i, swb_body_t *sub)
{
    val_t v;
    int rc = at(b, i, &v);
    return rc ? rc : conv_sub(b, NULL, i, &v, SWB_BODY_MAP, sub);
}

int swb_body_at_array(swb_body_t *b, uint32_t i, swb_body_t *sub)
{
    val_t v;
    int rc = at(b, i, &v);
    return rc ? rc : conv_sub(b, NULL, i, &v, SWB_BODY_ARRAY, sub);
}

/* ---- writing ------------------------------------------------------------------------------ */

#define HDR 5 /* the placeholder header of an open map or array: 0xdf/0xdd and a uint32 */

static unsigned char *obuf(swb_out_t *o)
{
    return o->heap ? o->heap : o->small;
}

static int ofail(swb_out_t *o, int code, const char *text)
{
    if (!o->err) {
        o->err = code;
        o->errmsg = text;
    }
    return o->err;
}

/* Room for n more bytes, within o->max. (Open containers hold 5-byte headers until they
 * close, so an answer within a few bytes of the limit may be refused early.) */
static int reserve(swb_out_t *o, size_t n)
{
    if (n > o->max - o->len)
        return ofail(o, SWB_E_TOO_LARGE, "answer over its size limit");
    if (n <= o->cap - o->len)
        return 0;
    size_t cap = o->cap;
    while (cap - o->len < n)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > o->max)
        cap = o->max;
    unsigned char *p = realloc(o->heap, cap);
    if (!p)
        return ofail(o, SWB_E_NOMEM, "out of memory");
    if (!o->heap)
        memcpy(p, o->small, o->len);
    o->heap = p;
    o->cap = cap;
    return 0;
}

static int put(swb_out_t *o, const void *p, size_t n)
{
    int rc = reserve(o, n);
    if (rc)
        return rc;
    memcpy(obuf(o) + o->len, p, n);
    o->len += n;
    return 0;
}

/* A type byte and an n-byte big-endian number. */
static int put_hdr(swb_out_t *o, unsigned char type, uint64_t v, size_t n)
{
    unsigned char b[9];
    b[0] = type;
    for (size_t i = 0; i < n; i++)
        b[1 + i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    return put(o, b, 1 + n);
}

static int put_str_raw(swb_out_t *o, const char *s, size_t n)
{
    int rc;
    if (n > UINT32_MAX)
        return ofail(o, SWB_E_TOO_LARGE, "string over 4 GiB");
    if (n < 32)
        rc = put_hdr(o, (unsigned char)(0xa0 | n), 0, 0);
    else if (n < 256)
        rc = put_hdr(o, 0xd9, n, 1);
    else if (n < 65536)
        rc = put_hdr(o, 0xda, n, 2);
    else
        rc = put_hdr(o, 0xdb, n, 4);
    return rc ? rc : put(o, s, n);
}

/* Before each value: the builder is usable, and the key matches the open container. */
static int begin_value(swb_out_t *o, const char *key)
{
    if (o->err)
        return o->err;
    if (o->finished)
        return ofail(o, SWB_E_INVALID, "the answer is already finished");
    int d = o->depth - 1;
    if (d < 0)
        return ofail(o, SWB_E_INVALID, "builder not initialised");
    if (o->is_map[d] && !key)
        return ofail(o, SWB_E_INVALID, "a value in a map needs a key");
    if (!o->is_map[d] && key)
        return ofail(o, SWB_E_INVALID, "a value in an array takes no key");
    if (o->count[d] == UINT32_MAX)
        return ofail(o, SWB_E_TOO_LARGE, "more than 2^32-1 entries");
    int rc = key ? put_str_raw(o, key, strlen(key)) : 0;
    if (!rc)
        o->count[d]++;
    return rc;
}

static int open_container(swb_out_t *o, int is_map)
{
    if (o->depth >= SWB_BODY_MAX_DEPTH)
        return ofail(o, SWB_E_TOO_LARGE, "maps and arrays nested deeper than 32 levels");
    size_t at = o->len;
    int rc = put_hdr(o, is_map ? 0xdf : 0xdd, 0, 4);
    if (rc)
        return rc;
    o->at[o->depth] = at;
    o->count[o->depth] = 0;
    o->is_map[o->depth] = (uint8_t)is_map;
    o->depth++;
    return 0;
}

/* Write the innermost container's real header in its smallest form over the placeholder. */
static void close_container(swb_out_t *o)
{
    int d = --o->depth;
    unsigned char *b = obuf(o), h[HDR];
    size_t at = o->at[d], n = o->len - (at + HDR), hn;
    uint32_t c = o->count[d];
    int m = o->is_map[d];
    if (c < 16) {
        h[0] = (unsigned char)((m ? 0x80 : 0x90) | c);
        hn = 1;
    } else if (c < 65536) {
        h[0] = m ? 0xde : 0xdc;
        h[1] = (unsigned char)(c >> 8);
        h[2] = (unsigned char)c;
        hn = 3;
    } else {
        h[0] = m ? 0xdf : 0xdd;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (unsigned char)(c >> (24 - 8 * i));
        hn = 5;
    }
    memmove(b + at + hn, b + at + HDR, n);
    memcpy(b + at, h, hn);
    o->len -= HDR - hn;
}

void swb_out_init(swb_out_t *o)
{
    swb_out_init_max(o, 0);
}

void swb_out_init_max(swb_out_t *o, size_t max_len)
{
    if (!o)
        return;
    o->heap = NULL;
    o->len = 0;
    o->cap = sizeof o->small;
    o->max = max_len ? max_len : SWB_BODY_MAX_LEN;
    o->err = 0;
    o->errmsg = NULL;
    o->depth = 0;
    o->finished = 0;
    open_container(o, 1);
}

int swb_out_int(swb_out_t *o, const char *key, int64_t v)
{
    if (!o)
        return SWB_E_INVALID;
    if (v >= 0)
        return swb_out_uint(o, key, (uint64_t)v);
    int rc = begin_value(o, key);
    if (rc)
        return rc;
    /* The smallest form, as msgpack_pack_int64 writes it. */
    if (v >= -32)
        return put_hdr(o, (unsigned char)(int8_t)v, 0, 0);
    if (v >= INT8_MIN)
        return put_hdr(o, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN)
        return put_hdr(o, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN)
        return put_hdr(o, 0xd2, (uint64_t)v, 4);
    return put_hdr(o, 0xd3, (uint64_t)v, 8);
}

int swb_out_uint(swb_out_t *o, const char *key, uint64_t v)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    if (rc)
        return rc;
    if (v < 128)
        return put_hdr(o, (unsigned char)v, 0, 0);
    if (v <= UINT8_MAX)
        return put_hdr(o, 0xcc, v, 1);
    if (v <= UINT16_MAX)
        return put_hdr(o, 0xcd, v, 2);
    if (v <= UINT32_MAX)
        return put_hdr(o, 0xce, v, 4);
    return put_hdr(o, 0xcf, v, 8);
}

int swb_out_double(swb_out_t *o, const char *key, double v)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return rc ? rc : put_hdr(o, 0xcb, bits, 8);
}

int swb_out_bool(swb_out_t *o, const char *key, int v)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    return rc ? rc : put_hdr(o, v ? 0xc3 : 0xc2, 0, 0);
}

int swb_out_nil(swb_out_t *o, const char *key)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    return rc ? rc : put_hdr(o, 0xc0, 0, 0);
}

int swb_out_str(swb_out_t *o, const char *key, const char *s)
{
    if (o && !s)
        return ofail(o, SWB_E_INVALID, "NULL string");
    return swb_out_strn(o, key, s, s ? strlen(s) : 0);
}

int swb_out_strn(swb_out_t *o, const char *key, const char *s, size_t n)
{
    if (!o)
        return SWB_E_INVALID;
    if (!s && n)
        return ofail(o, SWB_E_INVALID, "NULL string");
    int rc = begin_value(o, key);
    return rc ? rc : put_str_raw(o, s, n);
}

int swb_out_bin(swb_out_t *o, const char *key, const void *p, size_t n)
{
    if (!o)
        return SWB_E_INVALID;
    if (!p && n)
        return ofail(o, SWB_E_INVALID, "NULL data");
    if (n > UINT32_MAX)
        return ofail(o, SWB_E_TOO_LARGE, "binary data over 4 GiB");
    int rc = begin_value(o, key);
    if (rc)
        return rc;
    if (n < 256)
        rc = put_hdr(o, 0xc4, n, 1);
    else if (n < 65536)
        rc = put_hdr(o, 0xc5, n, 2);
    else
        rc = put_hdr(o, 0xc6, n, 4);
    return rc || n == 0 ? rc : put(o, p, n);
}

int swb_out_map_begin(swb_out_t *o, const char *key)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    return rc ? rc : open_container(o, 1);
}

int swb_out_array_begin(swb_out_t *o, const char *key)
{
    if (!o)
        return SWB_E_INVALID;
    int rc = begin_value(o, key);
    return rc ? rc : open_container(o, 0);
}

int swb_out_end(swb_out_t *o)
{
    if (!o)
        return SWB_E_INVALID;
    if (o->err)
        return o->err;
    if (o->finished || o->depth <= 1)
        return ofail(o, SWB_E_INVALID, "swb_out_end without an open map or array");
    close_container(o);
    return 0;
}

int swb_out_error(const swb_out_t *o)
{
    return o ? o->err : SWB_E_INVALID;
}

const char *swb_out_errmsg(const swb_out_t *o)
{
    return !o ? "no builder" : o->errmsg ? o->errmsg : "";
}

int swb_out_finish(swb_out_t *o, const void **body, size_t *len)
{
    if (!o || !body || !len)
        return o ? ofail(o, SWB_E_INVALID, "NULL argument") : SWB_E_INVALID;
    if (o->err)
        return o->err;
    if (!o->finished) {
        if (o->depth != 1)
            return ofail(o, SWB_E_INVALID, "a nested map or array is still open");
        close_container(o);
        o->finished = 1;
    }
    *body = obuf(o);
    *len = o->len;
    return 0;
}

void swb_out_free(swb_out_t *o)
{
    if (!o)
        return;
    free(o->heap);
    o->heap = NULL;
    o->len = 0;
    o->cap = sizeof o->small;
}

int swb_out_reply(swb_ctx_t *ctx, swb_out_t *o)
{
    const void *body;
    size_t len;
    int rc = swb_out_finish(o, &body, &len);
    rc = rc ? swb_ctx_fail(ctx, rc, swb_out_errmsg(o)) : swb_ctx_reply(ctx, body, len);
    swb_out_free(o);
    return rc;
}

int swb_out_send(swb_ctx_t *ctx, const char *to, swb_out_t *o)
{
    const void *body;
    size_t len;
    int rc = swb_out_finish(o, &body, &len);
    if (!rc)
        rc = swb_ctx_send(ctx, to, body, len);
    swb_out_free(o);
    return rc;
}

int swb_reply_i64(swb_ctx_t *ctx, const char *key, int64_t v)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_int(&o, key, v);
    return swb_out_reply(ctx, &o);
}

int swb_reply_u64(swb_ctx_t *ctx, const char *key, uint64_t v)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_uint(&o, key, v);
    return swb_out_reply(ctx, &o);
}

int swb_reply_double(swb_ctx_t *ctx, const char *key, double v)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_double(&o, key, v);
    return swb_out_reply(ctx, &o);
}

int swb_reply_bool(swb_ctx_t *ctx, const char *key, int v)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_bool(&o, key, v);
    return swb_out_reply(ctx, &o);
}

int swb_reply_str(swb_ctx_t *ctx, const char *key, const char *v)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_str(&o, key, v);
    return swb_out_reply(ctx, &o);
}

int swb_send_error(swb_ctx_t *ctx, const char *to, const char *text)
{
    swb_out_t o;
    swb_out_init(&o);
    swb_out_str(&o, "error", text ? text : "");
    return swb_out_send(ctx, to, &o);
}
