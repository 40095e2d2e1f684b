/*
 * idtab.h - a tiny open-addressing map from task id to (submit time, sequence number), so the
 * Switchboard client can time each task without assuming how the runtime numbers them.
 * Linear probing with backward-shift deletion: no tombstones, so probes stay short however
 * many tasks pass through. Header-only; used by one file.
 */
#ifndef SWB_BENCH_IDTAB_H
#define SWB_BENCH_IDTAB_H

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    uint64_t id, t0;
    uint32_t seq;
    int used;
} idtab_slot_t;

typedef struct {
    idtab_slot_t *s;
    size_t mask;
} idtab_t;

static inline int idtab_init(idtab_t *t, size_t max_items)
{
    size_t n = 64;
    while (n < max_items * 4)
        n <<= 1;
    t->s = calloc(n, sizeof *t->s);
    t->mask = n - 1;
    return t->s ? 0 : -1;
}

static inline void idtab_free(idtab_t *t)
{
    free(t->s);
    t->s = NULL;
}

static inline size_t idtab_home(const idtab_t *t, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & t->mask;
}

static inline void idtab_put(idtab_t *t, uint64_t id, uint64_t t0, uint32_t seq)
{
    size_t i = idtab_home(t, id);
    while (t->s[i].used)
        i = (i + 1) & t->mask;
    t->s[i] = (idtab_slot_t){.id = id, .t0 = t0, .seq = seq, .used = 1};
}

/* Remove `id`, handing out its entry; -1 if unknown. */
static inline int idtab_take(idtab_t *t, uint64_t id, uint64_t *t0, uint32_t *seq)
{
    size_t i = idtab_home(t, id);
    while (t->s[i].used && t->s[i].id != id)
        i = (i + 1) & t->mask;
    if (!t->s[i].used)
        return -1;
    *t0 = t->s[i].t0;
    *seq = t->s[i].seq;
    for (size_t j = i;;) {
        j = (j + 1) & t->mask;
        if (!t->s[j].used)
            break;
        size_t k = idtab_home(t, t->s[j].id);
        /* Leave j where it is when its home lies cyclically in (i, j]. */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        t->s[i] = t->s[j];
        i = j;
    }
    t->s[i].used = 0;
    return 0;
}

#endif
