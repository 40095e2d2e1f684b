/*
 * header_eq.h - field-by-field equality of two decoded headers, for the fuzz harness and the
 * codec's unit tests.
 *
 * Compares only what the present bits say is there, and strings by content (decoded strings
 * point into different buffers), so it also works on headers built by hand.
 */
#ifndef SWB_HEADER_EQ_H
#define SWB_HEADER_EQ_H

#include <string.h>

#include "swb_proto.h"

static inline int swbt_str_same(swb_str_t a, swb_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Whether field `f` holds the same value in `a` and `b`. */
static inline int swbt_field_eq(const swb_header_t *a, const swb_header_t *b, unsigned f)
{
    switch (f) {
    case SWB_F_VERSION:
        return a->version == b->version;
    case SWB_F_CMD:
        return a->cmd == b->cmd;
    case SWB_F_ID:
        return a->id == b->id;
    case SWB_F_NAME:
        return swbt_str_same(a->name, b->name);
    case SWB_F_TO:
        return swbt_str_same(a->to, b->to);
    case SWB_F_TO_KIND:
        return a->to_kind == b->to_kind;
    case SWB_F_FROM:
        return swbt_str_same(a->from, b->from);
    case SWB_F_KIND:
        return a->kind == b->kind;
    case SWB_F_PID:
        return a->pid == b->pid;
    case SWB_F_SERVICES:
        if (a->n_services != b->n_services || a->n_services > SWB_MAX_SERVICES)
            return 0;
        for (uint32_t i = 0; i < a->n_services; i++)
            if (!swbt_str_same(a->services[i], b->services[i]))
                return 0;
        return 1;
    case SWB_F_CAPACITY:
        return a->capacity == b->capacity;
    case SWB_F_SERVICE:
        return swbt_str_same(a->service, b->service);
    case SWB_F_DEADLINE:
        return a->deadline_ms == b->deadline_ms;
    case SWB_F_PRIORITY:
        return a->priority == b->priority;
    case SWB_F_CODE:
        return a->code == b->code;
    case SWB_F_TEXT:
        return swbt_str_same(a->text, b->text);
    case SWB_F_ATTEMPT:
        return a->attempt == b->attempt;
    case SWB_F_HB_IVL:
        return a->hb_ivl_ms == b->hb_ivl_ms;
    case SWB_F_HB_LIVE:
        return a->hb_liveness == b->hb_liveness;
    case SWB_F_CREDIT:
        return a->credit == b->credit;
    case SWB_F_LOAD:
        return a->load == b->load;
    case SWB_F_PLUGIN:
        return swbt_str_same(a->plugin, b->plugin);
    case SWB_F_COUNT:
        return a->count == b->count;
    case SWB_F_MODE:
        return a->mode == b->mode;
    case SWB_F_EVENT:
        return a->event == b->event;
    case SWB_F_SIGNAL:
        return a->signal == b->signal;
    case SWB_F_MAX_MSG:
        return a->max_msg == b->max_msg;
    case SWB_F_PARENT:
        return swbt_str_same(a->parent, b->parent);
    case SWB_F_RESTART:
        return a->restart == b->restart;
    case SWB_F_MEM_LIMIT:
        return a->mem_limit_mb == b->mem_limit_mb;
    case SWB_F_CPU_LIMIT:
        return a->cpu_limit_s == b->cpu_limit_s;
    case SWB_F_BOOT:
        return a->boot == b->boot;
    default:
        return 1;
    }
}

/* The first field that differs, or -1 when the headers are equal. */
static inline int swbt_header_diff(const swb_header_t *a, const swb_header_t *b)
{
    if (a->present != b->present)
        return 32;
    for (unsigned f = 0; f < SWB_F_COUNT_; f++)
        if (SWB_HAS(a, f) && !swbt_field_eq(a, b, f))
            return (int)f;
    return -1;
}

#endif
