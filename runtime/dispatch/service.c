/*
 * service.c - services: their worker heaps, task queues and latency histograms.
 *
 * The worker heap orders by load score, then by join order, so of equal workers the one that
 * joined first is picked (see w_before). A worker's position in each of its services' heaps is
 * stored in the worker (heap_pos[slot]) so a change in its load is an O(log n) sift, never a scan.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "service.h"

struct services {
    service_t **items;
    uint32_t n, cap;
};

int services_new(services_t **out, uint32_t max_services)
{
    services_t *t = calloc(1, sizeof *t);
    if (!t)
        return SWB_E_NOMEM;
    t->cap = max_services;
    t->items = calloc(max_services, sizeof *t->items);
    if (!t->items) {
        free(t);
        return SWB_E_NOMEM;
    }
    *out = t;
    return SWB_OK;
}

void services_destroy(services_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    services_t *t = *self_p;
    for (uint32_t i = 0; i < t->n; i++) {
        free(t->items[i]->heap);
        free(t->items[i]->queue);
        free(t->items[i]);
    }
    free(t->items);
    free(t);
    *self_p = NULL;
}

service_t *services_get(services_t *t, const char *name, size_t len, int create)
{
    /* Services are few (bounded by max_services) and looked up once per TASK; a linear scan
     * of short names beats a hash until hundreds of services. */
    for (uint32_t i = 0; i < t->n; i++)
        if (strlen(t->items[i]->name) == len && memcmp(t->items[i]->name, name, len) == 0)
            return t->items[i];
    if (!create || t->n == t->cap || len == 0 || len > SWB_MAX_NAME)
        return NULL;
    service_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    memcpy(s->name, name, len);
    t->items[t->n++] = s;
    return s;
}

uint32_t services_count(const services_t *t)
{
    return t->n;
}

service_t *services_at(services_t *t, uint32_t i)
{
    return t->items[i];
}

/* ---- worker heap ---------------------------------------------------------------------- */

static uint64_t score(const reg_peer_t *w)
{
    uint32_t cap = w->capacity ? w->capacity : 1;
    return (uint64_t)w->inflight * 1000 / cap + w->load;
}

/* Keys are cached in the worker (a division each): a sift through 512 workers compares
 * twenty of them, twice a task. Ties go to the worker that joined first, not in turns: among
 * idle workers the first ones are the likeliest to be awake still (they took the last tasks),
 * while turns hand each task to the thread that has slept longest, and waking it costs the
 * broker more than the task (bench/README.md, item 13). */
static int w_before(const reg_peer_t *a, const reg_peer_t *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    return a->joined < b->joined;
}

/* Every move of an entry updates the worker's position for that service, so removal and
 * re-ordering never search. The slot travels with the entry: a worker is in each of its
 * services' heaps once, by the slot that names that service. */
static void w_set(service_t *s, uint32_t i, heap_ent_t e)
{
    s->heap[i] = e;
    e.w->heap_pos[e.slot] = (int32_t)i;
}

static void w_up(service_t *s, uint32_t i)
{
    heap_ent_t e = s->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!w_before(e.w, s->heap[parent].w))
            break;
        w_set(s, i, s->heap[parent]);
        i = parent;
    }
    w_set(s, i, e);
}

static void w_down(service_t *s, uint32_t i)
{
    heap_ent_t e = s->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, best = i;
        const reg_peer_t *bw = e.w;
        if (l < s->n_heap && w_before(s->heap[l].w, bw)) {
            best = l;
            bw = s->heap[l].w;
        }
        if (r < s->n_heap && w_before(s->heap[r].w, bw))
            best = r;
        if (best == i)
            break;
        w_set(s, i, s->heap[best]);
        i = best;
    }
    w_set(s, i, e);
}

int svc_heap_add(service_t *s, reg_peer_t *w, int slot)
{
    if (w->heap_pos[slot] >= 0)
        return SWB_OK;
    if (s->n_heap == s->cap_heap) {
        uint32_t ncap = s->cap_heap ? s->cap_heap * 2 : 8;
        heap_ent_t *h = realloc(s->heap, ncap * sizeof *h);
        if (!h)
            return SWB_E_NOMEM;
        s->heap = h;
        s->cap_heap = ncap;
    }
    w->score = score(w);
    w_set(s, s->n_heap, (heap_ent_t){w, slot});
    w_up(s, s->n_heap++);
    return SWB_OK;
}

void svc_heap_remove(service_t *s, reg_peer_t *w, int slot)
{
    int32_t i = w->heap_pos[slot];
    if (i < 0)
        return;
    w->heap_pos[slot] = -1;
    heap_ent_t last = s->heap[--s->n_heap];
    if ((uint32_t)i == s->n_heap)
        return;
    w_set(s, (uint32_t)i, last);
    w_up(s, (uint32_t)i);
    w_down(s, (uint32_t)last.w->heap_pos[last.slot]);
}

void svc_heap_fix(service_t *s, reg_peer_t *w, int slot)
{
    int32_t i = w->heap_pos[slot];
    if (i < 0)
        return;
    w->score = score(w);
    w_up(s, (uint32_t)i);
    w_down(s, (uint32_t)w->heap_pos[slot]);
}

reg_peer_t *svc_heap_top(const service_t *s)
{
    return s->n_heap ? s->heap[0].w : NULL;
}

/* ---- task queue ----------------------------------------------------------------------- */

static int t_before(const task_t *a, const task_t *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->seq < b->seq;
}

static void t_set(service_t *s, uint32_t i, task_t *t)
{
    s->queue[i] = t;
    t->qpos = (int32_t)i;
}

static void t_up(service_t *s, uint32_t i)
{
    task_t *t = s->queue[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!t_before(t, s->queue[parent]))
            break;
        t_set(s, i, s->queue[parent]);
        i = parent;
    }
    t_set(s, i, t);
}

static void t_down(service_t *s, uint32_t i)
{
    task_t *t = s->queue[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, best = i;
        task_t *bt = t;
        if (l < s->n_queue && t_before(s->queue[l], bt)) {
            best = l;
            bt = s->queue[l];
        }
        if (r < s->n_queue && t_before(s->queue[r], bt)) {
            best = r;
            bt = s->queue[r];
        }
        if (best == i)
            break;
        t_set(s, i, bt);
        i = best;
    }
    t_set(s, i, t);
}

/* A new array of at least `need` slots (a power of two, 64 or more) holding the queued tasks
 * in ring order, holes dropped, from index 0. */
static int q_relayout(service_t *s, uint32_t need)
{
    uint32_t ncap = s->cap_queue ? s->cap_queue : 64;
    while (ncap < need)
        ncap *= 2;
    task_t **q = malloc(ncap * sizeof *q);
    if (!q)
        return SWB_E_NOMEM;
    uint32_t n = 0;
    if (s->ring) {
        for (uint32_t k = 0; k < s->r_len; k++) {
            task_t *t = s->queue[(s->r_head + k) & (s->cap_queue - 1)];
            if (t) {
                q[n] = t;
                t->qpos = (int32_t)n++;
            }
        }
        s->r_head = 0;
        s->r_len = n;
    } else if (s->n_queue) {
        memcpy(q, s->queue, s->n_queue * sizeof *q);
    }
    free(s->queue);
    s->queue = q;
    s->cap_queue = ncap;
    return SWB_OK;
}

int svc_queue_push(service_t *s, task_t *t)
{
    if (!s->n_queue) { /* an empty queue starts as a ring of this task's priority */
        s->ring = 1;
        s->ring_prio = t->priority;
        s->r_head = s->r_len = 0;
    }
    if (s->ring && t->priority == s->ring_prio && (!s->r_len || t->seq > s->ring_seq)) {
        if (s->r_len == s->cap_queue && q_relayout(s, s->n_queue + s->n_queue / 2 + 1) != SWB_OK)
            return SWB_E_NOMEM;
        uint32_t i = (s->r_head + s->r_len++) & (s->cap_queue - 1);
        s->queue[i] = t;
        t->qpos = (int32_t)i;
        s->ring_seq = t->seq;
        s->n_queue++;
        return SWB_OK;
    }
    /* Another priority, or a task older than the last (a retry): a heap from now until the
     * queue is empty. The ring's tasks in ring order are already a valid heap (same priority,
     * increasing seq), so they are laid out from index 0 and stay where they are. */
    if (s->ring || s->n_queue == s->cap_queue) {
        if (q_relayout(s, s->n_queue + 1) != SWB_OK)
            return SWB_E_NOMEM;
        s->ring = 0;
    }
    s->queue[s->n_queue] = t;
    t->qpos = (int32_t)s->n_queue;
    t_up(s, s->n_queue++);
    return SWB_OK;
}

void svc_queue_remove(service_t *s, task_t *t)
{
    int32_t i = t->qpos;
    if (i < 0)
        return;
    t->qpos = -1;
    if (s->ring) {
        s->queue[i] = NULL; /* a hole, skipped by pop and dropped when the ring is laid out */
        if (!--s->n_queue)
            s->r_head = s->r_len = 0;
        return;
    }
    task_t *last = s->queue[--s->n_queue];
    if ((uint32_t)i == s->n_queue)
        return;
    t_set(s, (uint32_t)i, last);
    t_up(s, (uint32_t)i);
    t_down(s, (uint32_t)last->qpos);
}

task_t *svc_queue_pop(service_t *s)
{
    if (!s->n_queue)
        return NULL;
    if (s->ring) {
        uint32_t mask = s->cap_queue - 1;
        while (!s->queue[s->r_head]) { /* holes of removed tasks */
            s->r_head = (s->r_head + 1) & mask;
            s->r_len--;
        }
        task_t *t = s->queue[s->r_head];
        s->queue[s->r_head] = NULL;
        s->r_head = (s->r_head + 1) & mask;
        s->r_len--;
        t->qpos = -1;
        if (!--s->n_queue)
            s->r_head = s->r_len = 0;
        return t;
    }
    task_t *t = s->queue[0];
    svc_queue_remove(s, t);
    return t;
}

void svc_queue_unpop(service_t *s, task_t *t)
{
    if (s->ring) { /* in front of the head again; it has the lowest seq of the ring */
        s->r_head = (s->r_head - 1) & (s->cap_queue - 1);
        s->queue[s->r_head] = t;
        t->qpos = (int32_t)s->r_head;
        s->r_len++;
        s->n_queue++;
        return;
    }
    s->queue[s->n_queue] = t; /* the heap had it a moment ago: there is room */
    t->qpos = (int32_t)s->n_queue;
    t_up(s, s->n_queue++);
}

/* ---- latency -------------------------------------------------------------------------- */

/* Bucket of `us`, and the bucket's bounds [lo, hi). */
static int lat_bucket(uint64_t us)
{
    if (us < SVC_LAT_SUB)
        return (int)us;
    int e = 63 - __builtin_clzll(us); /* 2^e <= us < 2^(e+1), e >= 3 */
    if (e > SVC_LAT_MAX_EXP)
        return SVC_LAT_BUCKETS - 1;
    int sub = (int)((us >> (e - 3)) & (SVC_LAT_SUB - 1));
    return SVC_LAT_SUB + (e - 3) * SVC_LAT_SUB + sub;
}

static void lat_bounds(int b, uint64_t *lo, uint64_t *hi)
{
    if (b < SVC_LAT_SUB) {
        *lo = (uint64_t)b;
        *hi = (uint64_t)b + 1;
        return;
    }
    int e = (b - SVC_LAT_SUB) / SVC_LAT_SUB + 3, sub = (b - SVC_LAT_SUB) % SVC_LAT_SUB;
    uint64_t step = 1ull << (e - 3);
    *lo = (1ull << e) + (uint64_t)sub * step;
    *hi = *lo + step;
}

void svc_latency_add(service_t *s, int64_t us)
{
    s->lat[lat_bucket(us > 0 ? (uint64_t)us : 0)]++;
}

uint64_t svc_latency_pct(const service_t *s, double p)
{
    uint64_t total = 0;
    for (int i = 0; i < SVC_LAT_BUCKETS; i++)
        total += s->lat[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(p * (double)total);
    if (want >= total)
        want = total - 1;
    uint64_t seen = 0;
    for (int i = 0; i < SVC_LAT_BUCKETS; i++) {
        if (seen + s->lat[i] > want) {
            uint64_t lo, hi;
            lat_bounds(i, &lo, &hi);
            /* The rank's place among the bucket's samples, spread evenly over its span. */
            double at = ((double)(want - seen) + 0.5) / (double)s->lat[i];
            return lo + (uint64_t)(at * (double)(hi - lo));
        }
        seen += s->lat[i];
    }
    return 0;
}
