/*
 * deadlines.c - the deadline heap (deadlines.h).
 *
 * Layer: dispatch (the socket-free core); uses: nothing; called by: dispatch.c.
 */
#include <stdlib.h>

#include "deadlines.h"

static void sift_down(deadlines_t *q, uint32_t i)
{
    deadline_t e = q->e[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = e.at;
        if (l < q->n && q->e[l].at < best) {
            m = l;
            best = q->e[l].at;
        }
        if (r < q->n && q->e[r].at < best)
            m = r;
        if (m == i)
            break;
        q->e[i] = q->e[m];
        i = m;
    }
    q->e[i] = e;
}

/* A stream of short tasks with long deadlines would otherwise grow the heap without bound:
 * drop the stale entries and rebuild it. */
static void compact(deadlines_t *q)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < q->n; i++)
        if (q->live(q->arg, &q->e[i]))
            q->e[n++] = q->e[i];
    q->n = n;
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(q, i);
}

void deadlines_init(deadlines_t *q, deadline_live_fn live, void *arg)
{
    *q = (deadlines_t){.live = live, .arg = arg};
}

void deadlines_fini(deadlines_t *q)
{
    free(q->e);
    q->e = NULL;
    q->n = q->cap = 0;
}

int deadlines_push(deadlines_t *q, int64_t at, uint64_t id, uint32_t n_live)
{
    if (q->n >= 1024 && q->n > 2 * n_live)
        compact(q);
    if (q->n == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 64;
        deadline_t *n = realloc(q->e, ncap * sizeof *n);
        if (!n)
            return -1;
        q->e = n;
        q->cap = ncap;
    }
    uint32_t i = q->n++;
    while (i > 0 && q->e[(i - 1) / 2].at > at) {
        q->e[i] = q->e[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->e[i] = (deadline_t){at, id};
    return 0;
}

int deadlines_pop_due(deadlines_t *q, int64_t now, deadline_t *out)
{
    if (!q->n || q->e[0].at > now)
        return 0;
    *out = q->e[0];
    q->e[0] = q->e[--q->n];
    if (q->n)
        sift_down(q, 0);
    return 1;
}
