/*
 * deadlines.h - a min-heap of (when, task id): what comes due next, in O(log n).
 *
 * Layer: dispatch (the socket-free core); uses: nothing; called by: dispatch.c.
 * Entries are not removed when their task ends: they are checked when they come due, and the
 * heap is compacted (by the `live` callback) when it holds more than twice the live tasks.
 */
#ifndef SWB_DEADLINES_H
#define SWB_DEADLINES_H

#include <stdint.h>

typedef struct {
    int64_t at;
    uint64_t id;
} deadline_t;

/* Whether entry e still stands for a timer of a live task. */
typedef int (*deadline_live_fn)(void *arg, const deadline_t *e);

typedef struct {
    deadline_t *e;
    uint32_t n, cap;
    deadline_live_fn live;
    void *arg;
} deadlines_t;

void deadlines_init(deadlines_t *q, deadline_live_fn live, void *arg);
void deadlines_fini(deadlines_t *q);
/* Add (at, id); n_live is how many tasks are known (for compaction). Returns 0, or -1 when out
 * of memory (the task then has no timer; it still ends on its result). */
int deadlines_push(deadlines_t *q, int64_t at, uint64_t id, uint32_t n_live);
/* Pop the earliest entry if it is due at `now`; returns 1 with it in *out, else 0. */
int deadlines_pop_due(deadlines_t *q, int64_t now, deadline_t *out);

#endif
