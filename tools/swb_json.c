/*
 * swb_json.c - JSON text <-> msgpack bytes (the mapping is in swb_json.h).
 *
 * JSON is read by a small recursive-descent reader of our own rather than jansson: jansson
 * holds integers as long long and rejects anything above INT64_MAX, and a msgpack uint64 must
 * survive the trip both ways. The reader packs as it parses; a map or array header needs its
 * element count first, so each container is scanned once without packing to count it (work
 * is bounded by input size times the depth cap).
 *
 * msgpack is read with swb_msgpack_unpack() from libswitchboard (swb_msgpack.h): it walks the
 * raw bytes and proves every count and length fits in what remains before msgpack-c builds the
 * objects, which can then allocate at most a small multiple of the input size.
 */
#include "swb_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swb_error.h"

/* ---- growable text buffer ----------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    size_t max; /* the most text it may hold */
    int err;    /* SWB_E_NOMEM or SWB_E_TOO_LARGE once a write failed; later writes do nothing */
} strbuf;

static void sb_put(strbuf *s, const char *p, size_t n)
{
    if (s->err)
        return;
    if (n > s->max - s->len) {
        s->err = SWB_E_TOO_LARGE;
        return;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *d = realloc(s->data, cap);
        if (!d) {
            s->err = SWB_E_NOMEM;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
}

static void sb_puts(strbuf *s, const char *p)
{
    sb_put(s, p, strlen(p));
}

static void sb_putc(strbuf *s, char c)
{
    sb_put(s, &c, 1);
}

/* ---- UTF-8 -------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- JSON -> msgpack ---------------------------------------------------------------------- */

typedef struct {
    const char *start, *p, *end;
    int depth;
    msgpack_packer pk;
    strbuf scratch; /* decoded string bytes */
    int rc;
    char *err;
    size_t errcap;
} reader;

static int rd_fail(reader *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int rd_fail(reader *r, int rc, const char *fmt, ...)
{
    if (r->rc)
        return r->rc; /* keep the first error */
    r->rc = rc;
    if (r->err && r->errcap) {
        int line = 1;
        const char *bol = r->start;
        for (const char *q = r->start; q < r->p; q++)
            if (*q == '\n') {
                line++;
                bol = q + 1;
            }
        int n = snprintf(r->err, r->errcap, "line %d column %d: ", line, (int)(r->p - bol) + 1);
        if (n >= 0 && (size_t)n < r->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->errcap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

static void rd_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int rd_value(reader *r, int pack);

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decode the string at r->p (on its opening quote) into r->scratch. */
static int rd_string(reader *r)
{
    strbuf *s = &r->scratch;
    s->len = 0;
    r->p++;
    for (;;) {
        if (r->p >= r->end)
            return rd_fail(r, SWB_E_INVALID, "unterminated string");
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            if (s->err) /* it may be as long as the text, so only memory runs out */
                return rd_fail(r, s->err, "out of memory");
            return 0;
        }
        if (c < 0x20)
            return rd_fail(r, SWB_E_INVALID, "control character in string");
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)r->p, (size_t)(r->end - r->p));
            if (!n)
                return rd_fail(r, SWB_E_INVALID, "string is not valid UTF-8");
            sb_put(s, r->p, n);
            r->p += n;
            continue;
        }
        if (c != '\\') {
            sb_putc(s, (char)c);
            r->p++;
            continue;
        }
        if (r->end - r->p < 2)
            return rd_fail(r, SWB_E_INVALID, "unterminated string");
        char e = r->p[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char repl[] = "\"\\/\b\f\n\r\t";
            sb_putc(s, repl[simple - "\"\\/bfnrt"]);
            r->p += 2;
            continue;
        }
        uint32_t cp, lo;
        if (e != 'u' || r->end - r->p < 6 || hex4(r->p + 2, &cp))
            return rd_fail(r, SWB_E_INVALID, "bad escape in string");
        r->p += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return rd_fail(r, SWB_E_INVALID, "lone low surrogate in string");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return rd_fail(r, SWB_E_INVALID, "lone high surrogate in string");
            r->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        char u[4];
        sb_put(s, u, utf8_encode(cp, u));
    }
}

static int rd_number(reader *r, int pack)
{
    const char *b = r->p, *q = r->p;
    int is_int = 1;
    if (q < r->end && *q == '-')
        q++;
    if (q >= r->end || *q < '0' || *q > '9')
        return rd_fail(r, SWB_E_INVALID, "bad number");
    if (*q == '0')
        q++;
    else
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    if (q < r->end && *q == '.') {
        is_int = 0;
        q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return rd_fail(r, SWB_E_INVALID, "bad number");
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        is_int = 0;
        q++;
        if (q < r->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return rd_fail(r, SWB_E_INVALID, "bad number");
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    /* The token is validated; the strto* calls below stop at its end by the same grammar. */
    char *stop;
    errno = 0;
    if (!is_int) {
        double d = strtod(b, &stop);
        if (errno == ERANGE && fabs(d) > 1.0)
            return rd_fail(r, SWB_E_INVALID, "number out of range");
        r->p = q;
        return pack ? msgpack_pack_double(&r->pk, d) : 0;
    }
    if (*b == '-') {
        long long v = strtoll(b, &stop, 10);
        if (errno == ERANGE)
            return rd_fail(r, SWB_E_INVALID, "integer below the int64 range");
        r->p = q;
        return pack ? msgpack_pack_int64(&r->pk, v) : 0;
    }
    unsigned long long v = strtoull(b, &stop, 10);
    if (errno == ERANGE)
        return rd_fail(r, SWB_E_INVALID, "integer above the uint64 range");
    r->p = q;
    return pack ? msgpack_pack_uint64(&r->pk, v) : 0;
}

static int rd_literal(reader *r, const char *word, int pack)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return rd_fail(r, SWB_E_INVALID, "unexpected character '%c'", *r->p);
    r->p += n;
    if (!pack)
        return 0;
    if (word[0] == 't')
        return msgpack_pack_true(&r->pk);
    if (word[0] == 'f')
        return msgpack_pack_false(&r->pk);
    return msgpack_pack_nil(&r->pk);
}

/* Read the members of an array or object after its opening bracket, counting them in *count;
 * packs them only when `pack`. */
static int rd_members(reader *r, int object, int pack, uint32_t *count)
{
    char close = object ? '}' : ']';
    *count = 0;
    rd_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        rd_ws(r);
        if (object) {
            if (r->p >= r->end || *r->p != '"')
                return rd_fail(r, SWB_E_INVALID, "expected a string key");
            if (rd_string(r))
                return r->rc;
            if (pack && (msgpack_pack_str(&r->pk, r->scratch.len) ||
                         msgpack_pack_str_body(&r->pk, r->scratch.data, r->scratch.len)))
                return rd_fail(r, SWB_E_NOMEM, "out of memory");
            rd_ws(r);
            if (r->p >= r->end || *r->p != ':')
                return rd_fail(r, SWB_E_INVALID, "expected ':'");
            r->p++;
        }
        if (rd_value(r, pack))
            return r->rc;
        if (*count == UINT32_MAX)
            return rd_fail(r, SWB_E_TOO_LARGE, "too many members");
        (*count)++;
        rd_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return rd_fail(r, SWB_E_INVALID, "expected ',' or '%c'", close);
    }
}

static int rd_container(reader *r, int object, int pack)
{
    if (++r->depth > SWB_JSON_MAX_DEPTH)
        return rd_fail(r, SWB_E_TOO_LARGE, "nesting deeper than %d", SWB_JSON_MAX_DEPTH);
    r->p++;
    const char *body = r->p;
    uint32_t n;
    if (rd_members(r, object, 0, &n)) /* count (and validate) first */
        return r->rc;
    if (pack) {
        int rc = object ? msgpack_pack_map(&r->pk, n) : msgpack_pack_array(&r->pk, n);
        if (rc)
            return rd_fail(r, SWB_E_NOMEM, "out of memory");
        r->p = body;
        if (rd_members(r, object, 1, &n))
            return r->rc;
    }
    r->depth--;
    return 0;
}

static int rd_value(reader *r, int pack)
{
    rd_ws(r);
    if (r->p >= r->end)
        return rd_fail(r, SWB_E_INVALID, "unexpected end of input");
    int rc;
    switch (*r->p) {
    case '{':
        return rd_container(r, 1, pack);
    case '[':
        return rd_container(r, 0, pack);
    case '"':
        if (rd_string(r))
            return r->rc;
        if (!pack)
            return 0;
        rc = msgpack_pack_str(&r->pk, r->scratch.len) ||
             msgpack_pack_str_body(&r->pk, r->scratch.data, r->scratch.len);
        break;
    case 't':
        rc = rd_literal(r, "true", pack);
        break;
    case 'f':
        rc = rd_literal(r, "false", pack);
        break;
    case 'n':
        rc = rd_literal(r, "null", pack);
        break;
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            rc = rd_number(r, pack);
        else
            return rd_fail(r, SWB_E_INVALID, "unexpected character '%c'", *r->p);
    }
    if (r->rc)
        return r->rc;
    return rc ? rd_fail(r, SWB_E_NOMEM, "out of memory") : 0;
}

int swb_json_to_msgpack(const char *json, char **out, size_t *len, char *err, size_t errcap)
{
    if (err && errcap)
        err[0] = '\0';
    if (!json || !out || !len) {
        if (err && errcap)
            snprintf(err, errcap, "missing argument");
        return SWB_E_INVALID;
    }
    *out = NULL;
    *len = 0;
    size_t n = strnlen(json, (size_t)SWB_JSON_MAX_INPUT + 1);
    if (n > SWB_JSON_MAX_INPUT) {
        if (err && errcap)
            snprintf(err, errcap, "input larger than %u bytes", SWB_JSON_MAX_INPUT);
        return SWB_E_TOO_LARGE;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    reader r = {.start = json,
                .p = json,
                .end = json + n,
                .err = err,
                .errcap = errcap,
                .scratch = {.max = n}};
    msgpack_packer_init(&r.pk, &sbuf, msgpack_sbuffer_write);
    if (rd_value(&r, 1) == 0) {
        rd_ws(&r);
        if (r.p < r.end)
            rd_fail(&r, SWB_E_INVALID, "trailing characters after the value");
    }
    free(r.scratch.data);
    if (r.rc) {
        msgpack_sbuffer_destroy(&sbuf);
        return r.rc;
    }
    *len = sbuf.size;
    *out = msgpack_sbuffer_release(&sbuf);
    return 0;
}

/* ---- msgpack -> JSON ---------------------------------------------------------------------- */

static void put_base64(strbuf *s, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        sb_put(s, q, 4);
    }
}

/* Quote and escape UTF-8 text; SWB_E_INVALID if it is not UTF-8. */
static int put_string(strbuf *s, const char *str, size_t n)
{
    if (n == 0) { /* msgpack-c may give an empty str a NULL ptr */
        sb_puts(s, "\"\"");
        return 0;
    }
    const unsigned char *p = (const unsigned char *)str, *end = p + n;
    sb_putc(s, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        sb_put(s, (const char *)run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = utf8_seq(p, (size_t)(end - p));
            if (!k)
                return SWB_E_INVALID;
            sb_put(s, (const char *)p, k);
            p += k;
            continue;
        }
        char esc[8];
        switch (c) {
        case '"':
            sb_puts(s, "\\\"");
            break;
        case '\\':
            sb_puts(s, "\\\\");
            break;
        case '\b':
            sb_puts(s, "\\b");
            break;
        case '\f':
            sb_puts(s, "\\f");
            break;
        case '\n':
            sb_puts(s, "\\n");
            break;
        case '\r':
            sb_puts(s, "\\r");
            break;
        case '\t':
            sb_puts(s, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_puts(s, esc);
        }
        p++;
    }
    sb_putc(s, '"');
    return 0;
}

/* The shortest %g text that reads back as the same value, kept recognisable as a real. */
static void put_real(strbuf *s, double d, int single)
{
    char t[40];
    if (!isfinite(d)) {
        sb_puts(s, "null");
        return;
    }
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, d);
        double back = strtod(t, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    sb_puts(s, t);
    if (!strpbrk(t, ".eE")) /* "3" would read back as an integer */
        sb_puts(s, ".0");
}

static void put_indent(strbuf *s, int pretty, int depth)
{
    if (!pretty)
        return;
    sb_putc(s, '\n');
    for (int i = 0; i < depth; i++)
        sb_puts(s, "  ");
}

static int put_value(strbuf *s, const msgpack_object *o, int pretty, int depth);

static int put_key(strbuf *s, const msgpack_object *k, int depth)
{
    if (k->type == MSGPACK_OBJECT_STR)
        return put_string(s, k->via.str.ptr, k->via.str.size);
    strbuf t = {.max = s->max - s->len}; /* escaping it into s only lengthens it */
    int rc;
    if (k->type == MSGPACK_OBJECT_BIN) {
        put_base64(&t, (const unsigned char *)k->via.bin.ptr, k->via.bin.size);
        rc = 0;
    } else
        rc = put_value(&t, k, 0, depth);
    if (!rc)
        rc = t.err;
    if (!rc)
        rc = put_string(s, t.data ? t.data : "", t.len);
    free(t.data);
    return rc;
}

static int put_value(strbuf *s, const msgpack_object *o, int pretty, int depth)
{
    char num[32];
    int rc = 0;
    if (depth > SWB_JSON_MAX_DEPTH)
        return SWB_E_TOO_LARGE;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        sb_puts(s, "null");
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        sb_puts(s, o->via.boolean ? "true" : "false");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(num, sizeof num, "%" PRIu64, o->via.u64);
        sb_puts(s, num);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(num, sizeof num, "%" PRId64, o->via.i64);
        sb_puts(s, num);
        break;
    case MSGPACK_OBJECT_FLOAT32:
        put_real(s, o->via.f64, 1);
        break;
    case MSGPACK_OBJECT_FLOAT64:
        put_real(s, o->via.f64, 0);
        break;
    case MSGPACK_OBJECT_STR:
        rc = put_string(s, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        sb_putc(s, '"');
        put_base64(s, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
        sb_putc(s, '"');
        break;
    case MSGPACK_OBJECT_EXT:
        snprintf(num, sizeof num, "%d", (int)o->via.ext.type);
        sb_puts(s, pretty ? "{\"$ext\": " : "{\"$ext\":");
        sb_puts(s, num);
        sb_puts(s, pretty ? ", \"data\": \"" : ",\"data\":\"");
        put_base64(s, (const unsigned char *)o->via.ext.ptr, o->via.ext.size);
        sb_puts(s, "\"}");
        break;
    case MSGPACK_OBJECT_ARRAY:
        sb_putc(s, '[');
        for (uint32_t i = 0; i < o->via.array.size && !rc; i++) {
            if (i)
                sb_putc(s, ',');
            put_indent(s, pretty, depth + 1);
            rc = put_value(s, &o->via.array.ptr[i], pretty, depth + 1);
        }
        if (o->via.array.size)
            put_indent(s, pretty, depth);
        sb_putc(s, ']');
        break;
    case MSGPACK_OBJECT_MAP:
        sb_putc(s, '{');
        for (uint32_t i = 0; i < o->via.map.size && !rc; i++) {
            if (i)
                sb_putc(s, ',');
            put_indent(s, pretty, depth + 1);
            rc = put_key(s, &o->via.map.ptr[i].key, depth + 1);
            sb_puts(s, pretty ? ": " : ":");
            if (!rc)
                rc = put_value(s, &o->via.map.ptr[i].val, pretty, depth + 1);
        }
        if (o->via.map.size)
            put_indent(s, pretty, depth);
        sb_putc(s, '}');
        break;
    default:
        rc = SWB_E_MALFORMED;
    }
    return rc ? rc : s->err; /* a full buffer ends the walk at once */
}

/* The most JSON `len` bytes of msgpack may become (swb_json.h). Without arrays or maps as
 * keys one byte becomes at most 4 x depth + 5 characters: an array of one element at depth d,
 * pretty, is a comma, a newline and 2d spaces before it, then "[", and after its element a
 * newline, 2d spaces and "]". Every other value costs less per byte. */
static size_t max_json(size_t len)
{
    return ((size_t)64 << 10) + (4 * SWB_JSON_MAX_DEPTH + 8) * len;
}

int swb_msgpack_to_json(const void *buf, size_t len, int pretty, char **out)
{
    if (!out)
        return SWB_E_INVALID;
    *out = NULL;
    if (len > SWB_JSON_MAX_INPUT)
        return SWB_E_TOO_LARGE;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = swb_msgpack_unpack(buf, len, &u);
    if (rc == SWB_E_TRUNCATED || rc == SWB_E_TRAILING)
        rc = SWB_E_MALFORMED; /* this function's callers only tell malformed from too large */
    strbuf s = {.max = max_json(len)};
    if (!rc)
        rc = put_value(&s, &u.data, pretty, 0);
    msgpack_unpacked_destroy(&u);
    if (!rc)
        rc = s.err;
    if (rc) {
        free(s.data);
        return rc;
    }
    *out = s.data;
    return 0;
}
