/*
 * test_proto_util.h - helpers shared by the codec's tests: hex input, example headers for
 * every command, and a round-trip check.
 *
 * Everything is static inline so each test file takes only what it uses. Headers built here
 * borrow string literals, which live for the whole program.
 */
#ifndef SWB_TEST_PROTO_UTIL_H
#define SWB_TEST_PROTO_UTIL_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/header_eq.h"
#include "swb_proto.h"
#include "swb_test.h"

/* Parses hex digits (whitespace ignored) into `out`; returns the byte count. */
static inline size_t hex_parse(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        assert_true(isxdigit((unsigned char)*p));
        int v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

/* Formats bytes as space-separated hex into `out` (for failure messages). */
static inline void hex_format(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, i ? " %02x" : "%02x", b[i]);
}

/* Decodes a hex string and returns the decoder's code. */
static inline int decode_hex(const char *hex)
{
    uint8_t buf[8192];
    swb_header_t h;
    size_t n = hex_parse(hex, buf, sizeof buf);
    return swb_header_decode(buf, n, &h);
}

static inline void set_uint(swb_header_t *h, swb_field_t f, uint64_t v)
{
    SWB_SET(h, f);
    switch (f) {
    case SWB_F_ID:
        h->id = v;
        break;
    case SWB_F_TO_KIND:
        h->to_kind = (uint32_t)v;
        break;
    case SWB_F_KIND:
        h->kind = (uint32_t)v;
        break;
    case SWB_F_PID:
        h->pid = (uint32_t)v;
        break;
    case SWB_F_CAPACITY:
        h->capacity = (uint32_t)v;
        break;
    case SWB_F_DEADLINE:
        h->deadline_ms = (uint32_t)v;
        break;
    case SWB_F_PRIORITY:
        h->priority = (int32_t)v;
        break;
    case SWB_F_CODE:
        h->code = (int32_t)v;
        break;
    case SWB_F_ATTEMPT:
        h->attempt = (uint32_t)v;
        break;
    case SWB_F_HB_IVL:
        h->hb_ivl_ms = (uint32_t)v;
        break;
    case SWB_F_HB_LIVE:
        h->hb_liveness = (uint32_t)v;
        break;
    case SWB_F_CREDIT:
        h->credit = (uint32_t)v;
        break;
    case SWB_F_LOAD:
        h->load = (uint32_t)v;
        break;
    case SWB_F_COUNT:
        h->count = (uint32_t)v;
        break;
    case SWB_F_MODE:
        h->mode = (uint32_t)v;
        break;
    case SWB_F_EVENT:
        h->event = (uint32_t)v;
        break;
    case SWB_F_SIGNAL:
        h->signal = (uint32_t)v;
        break;
    case SWB_F_MAX_MSG:
        h->max_msg = (uint32_t)v;
        break;
    case SWB_F_RESTART:
        h->restart = (uint32_t)v;
        break;
    case SWB_F_MEM_LIMIT:
        h->mem_limit_mb = (uint32_t)v;
        break;
    case SWB_F_CPU_LIMIT:
        h->cpu_limit_s = (uint32_t)v;
        break;
    case SWB_F_BOOT:
        h->boot = v;
        break;
    default:
        fail_msg("field %d is not an integer", (int)f);
    }
}

static inline void set_services(swb_header_t *h, uint32_t n, const char *const *names)
{
    SWB_SET(h, SWB_F_SERVICES);
    h->n_services = n;
    for (uint32_t i = 0; i < n; i++)
        h->services[i] = (swb_str_t){names[i], (uint32_t)strlen(names[i])};
}

/* A header for `cmd` with only the fields it requires. */
static inline swb_header_t example_required(swb_cmd_t cmd)
{
    swb_header_t h;
    swb_header_init(&h, cmd);
    switch (cmd) {
    case SWB_CMD_HELLO:
        set_uint(&h, SWB_F_KIND, SWB_KIND_CLIENT);
        break;
    case SWB_CMD_WELCOME:
        swb_header_set_str(&h, SWB_F_NAME, "client-1");
        set_uint(&h, SWB_F_HB_IVL, 1000);
        set_uint(&h, SWB_F_HB_LIVE, 3);
        set_uint(&h, SWB_F_MAX_MSG, 16u << 20);
        break;
    case SWB_CMD_SEND:
        set_uint(&h, SWB_F_TO_KIND, SWB_TO_ALL);
        break;
    case SWB_CMD_DELIVER:
        swb_header_set_str(&h, SWB_F_FROM, "app");
        break;
    case SWB_CMD_TASK:
        set_uint(&h, SWB_F_ID, 7);
        swb_header_set_str(&h, SWB_F_SERVICE, "resize");
        break;
    case SWB_CMD_RESULT:
        set_uint(&h, SWB_F_ID, 7);
        set_uint(&h, SWB_F_CODE, 0);
        break;
    case SWB_CMD_CANCEL:
        set_uint(&h, SWB_F_ID, 7);
        break;
    case SWB_CMD_CREDIT:
        set_uint(&h, SWB_F_CREDIT, 4);
        break;
    case SWB_CMD_STATS:
        set_uint(&h, SWB_F_ID, 9);
        break;
    case SWB_CMD_SPAWN:
        set_uint(&h, SWB_F_ID, 3);
        swb_header_set_str(&h, SWB_F_PLUGIN, "echo");
        set_uint(&h, SWB_F_COUNT, 2);
        break;
    case SWB_CMD_ERROR:
        set_uint(&h, SWB_F_CODE, SWB_E_UNKNOWN_PEER);
        swb_header_set_str(&h, SWB_F_TEXT, "no peer with that name");
        break;
    case SWB_CMD_EVENT:
        set_uint(&h, SWB_F_EVENT, SWB_EV_READY);
        swb_header_set_str(&h, SWB_F_NAME, "echo-1");
        break;
    case SWB_CMD_KILL:
        swb_header_set_str(&h, SWB_F_NAME, "echo-1");
        break;
    case SWB_CMD_RELOAD:
        set_uint(&h, SWB_F_ID, 4);
        break;
    case SWB_CMD_SCALE:
        set_uint(&h, SWB_F_ID, 6);
        swb_header_set_str(&h, SWB_F_NAME, "echo");
        set_uint(&h, SWB_F_COUNT, 4);
        break;
    case SWB_CMD_HEARTBEAT:
    case SWB_CMD_DRAIN:
    case SWB_CMD_BYE:
        break; /* nothing required */
    default:
        fail_msg("no example of command %d: add one here", (int)cmd);
    }
    return h;
}

/* A header for `cmd` with every field the spec allows for it. */
static inline swb_header_t example_full(swb_cmd_t cmd)
{
    static const char *const services[] = {"resize", "thumb"};
    swb_header_t h = example_required(cmd);
    switch (cmd) {
    case SWB_CMD_HELLO:
        set_uint(&h, SWB_F_ID, 1);
        swb_header_set_str(&h, SWB_F_NAME, "resize-1");
        set_uint(&h, SWB_F_KIND, SWB_KIND_PROCESS);
        set_uint(&h, SWB_F_PID, 4242);
        set_services(&h, 2, services);
        set_uint(&h, SWB_F_CAPACITY, 4);
        swb_header_set_str(&h, SWB_F_PARENT, "app");
        break;
    case SWB_CMD_WELCOME:
        set_uint(&h, SWB_F_ID, 1);
        set_uint(&h, SWB_F_BOOT, 0x2f6d0b3c9a41e857u);
        break;
    case SWB_CMD_SEND:
        set_uint(&h, SWB_F_ID, 12);
        set_uint(&h, SWB_F_TO_KIND, SWB_TO_PEER);
        swb_header_set_str(&h, SWB_F_TO, "resize-1");
        break;
    case SWB_CMD_DELIVER:
        set_uint(&h, SWB_F_ID, 12);
        set_uint(&h, SWB_F_TO_KIND, SWB_TO_GROUP);
        swb_header_set_str(&h, SWB_F_TO, "resize");
        break;
    case SWB_CMD_TASK:
        swb_header_set_str(&h, SWB_F_FROM, "app");
        set_uint(&h, SWB_F_DEADLINE, 5000);
        set_uint(&h, SWB_F_PRIORITY, (uint64_t)(int64_t)-2);
        set_uint(&h, SWB_F_ATTEMPT, 2);
        break;
    case SWB_CMD_RESULT:
        swb_header_set_str(&h, SWB_F_FROM, "app");
        set_uint(&h, SWB_F_CODE, (uint64_t)(int64_t)SWB_E_TASK_FAILED);
        swb_header_set_str(&h, SWB_F_TEXT, "image too large");
        set_uint(&h, SWB_F_ATTEMPT, 2);
        break;
    case SWB_CMD_CANCEL:
        swb_header_set_str(&h, SWB_F_FROM, "app");
        break;
    case SWB_CMD_CREDIT:
        set_uint(&h, SWB_F_LOAD, 250);
        break;
    case SWB_CMD_SPAWN:
        swb_header_set_str(&h, SWB_F_NAME, "echo");
        set_uint(&h, SWB_F_CAPACITY, 8);
        swb_header_set_str(&h, SWB_F_SERVICE, "echo");
        set_uint(&h, SWB_F_MODE, SWB_SPAWN_THREAD);
        set_uint(&h, SWB_F_RESTART, SWB_RESTART_NEVER);
        set_uint(&h, SWB_F_MEM_LIMIT, 512);
        set_uint(&h, SWB_F_CPU_LIMIT, 60);
        break;
    case SWB_CMD_ERROR:
        set_uint(&h, SWB_F_ID, 12);
        swb_header_set_str(&h, SWB_F_NAME, "nobody");
        break;
    case SWB_CMD_EVENT:
        set_uint(&h, SWB_F_EVENT, SWB_EV_EXIT);
        set_uint(&h, SWB_F_PID, 4243);
        set_uint(&h, SWB_F_CODE, 0);
        set_uint(&h, SWB_F_SIGNAL, 9);
        swb_header_set_str(&h, SWB_F_TEXT, "killed by signal 9");
        break;
    case SWB_CMD_KILL:
        set_uint(&h, SWB_F_ID, 5);
        set_uint(&h, SWB_F_SIGNAL, 15);
        break;
    case SWB_CMD_RELOAD:
        swb_header_set_str(&h, SWB_F_NAME, "echo");
        swb_header_set_str(&h, SWB_F_PARENT, "app");
        break;
    case SWB_CMD_SCALE:
        swb_header_set_str(&h, SWB_F_PARENT, "app");
        break;
    default:
        break; /* nothing optional */
    }
    return h;
}

/* Encodes `h`, decodes the bytes, checks the same header comes back and that encoding the
 * result gives the same bytes. Returns the encoded length; the bytes are left in `out`. */
static inline size_t check_roundtrip(const swb_header_t *h, uint8_t *out, size_t cap)
{
    size_t n = 0, n2 = 0;
    swb_header_t back;
    uint8_t again[SWB_MAX_HEADER];
    assert_int_equal(swb_header_encode(h, out, cap, &n), SWB_OK);
    assert_true(n > 0 && n <= SWB_MAX_HEADER);
    assert_int_equal(swb_header_decode(out, n, &back), SWB_OK);
    int diff = swbt_header_diff(h, &back);
    if (diff >= 0)
        fail_msg("field %d differs after a round trip of %s", diff, swb_cmd_name(h->cmd));
    assert_int_equal(swb_header_encode(&back, again, sizeof again, &n2), SWB_OK);
    assert_int_equal(n, n2);
    assert_memory_equal(out, again, n);
    return n;
}

#endif
