/*
 * tasks.c - the task table: records by id and by (client, client's id), and their reuse.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch.c.
 */
#include <stdlib.h>
#include <string.h>

#include "swbi.h"
#include "task.h"

/* Task records are reused: one per task would otherwise be a calloc and a free on the hot
 * path. The spares are bounded, so a burst's records go back to the allocator. */
#define SPARE_TASKS 1024

static uint32_t home(const task_table_t *tt, uint64_t id)
{
    return (uint32_t)((id * 11400714819323198485ull) >> 32) & tt->mask;
}

static uint32_t chome(const task_table_t *tt, const char *client, uint64_t id)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)client; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (uint32_t)(((h ^ id) * 11400714819323198485ull) >> 32) & tt->mask;
}

task_t *task_find(const task_table_t *tt, uint64_t id)
{
    for (uint32_t i = home(tt, id); tt->slots[i]; i = (i + 1) & tt->mask)
        if (tt->slots[i]->id == id)
            return tt->slots[i];
    return NULL;
}

task_t *task_find_client(const task_table_t *tt, const char *client, uint64_t id)
{
    for (uint32_t i = chome(tt, client, id); tt->cslots[i]; i = (i + 1) & tt->mask) {
        task_t *t = tt->cslots[i];
        if (t->client_id == id && t->state != TASK_ANSWERED && !strcmp(t->client, client))
            return t;
    }
    return NULL;
}

/* Linear probing's deletion without tombstones: move later entries of the run back into the
 * hole when their home is not between the hole and them. */
static void erase_at(task_t **tab, uint32_t mask, uint32_t hole, int by_client,
                     const task_table_t *tt)
{
    for (uint32_t j = (hole + 1) & mask; tab[j]; j = (j + 1) & mask) {
        uint32_t h =
            by_client ? chome(tt, tab[j]->client, tab[j]->client_id) : home(tt, tab[j]->id);
        int in_range = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
        if (!in_range) {
            tab[hole] = tab[j];
            hole = j;
        }
    }
    tab[hole] = NULL;
}

static void cindex_erase(task_table_t *tt, task_t *t)
{
    uint32_t i = chome(tt, t->client, t->client_id);
    while (tt->cslots[i] != t) {
        if (!tt->cslots[i])
            return;
        i = (i + 1) & tt->mask;
    }
    erase_at(tt->cslots, tt->mask, i, 1, tt);
}

void task_insert(task_table_t *tt, task_t *t)
{
    uint32_t i = chome(tt, t->client, t->client_id);
    while (tt->cslots[i])
        i = (i + 1) & tt->mask;
    tt->cslots[i] = t;
    i = home(tt, t->id);
    while (tt->slots[i])
        i = (i + 1) & tt->mask;
    tt->slots[i] = t;
    tt->count++;
}

static void task_erase(task_table_t *tt, task_t *t)
{
    cindex_erase(tt, t);
    uint32_t i = home(tt, t->id);
    while (tt->slots[i] != t) {
        if (!tt->slots[i])
            return;
        i = (i + 1) & tt->mask;
    }
    erase_at(tt->slots, tt->mask, i, 0, tt);
    tt->count--;
}

int task_table_init(task_table_t *tt)
{
    uint32_t n = 1024;
    memset(tt, 0, sizeof *tt);
    tt->slots = calloc(n, sizeof *tt->slots);
    tt->cslots = calloc(n, sizeof *tt->cslots);
    tt->mask = n - 1;
    if (!tt->slots || !tt->cslots) {
        free(tt->slots);
        free(tt->cslots);
        return SWB_E_NOMEM;
    }
    return SWB_OK;
}

void task_table_fini(task_table_t *tt)
{
    for (uint32_t i = 0; tt->slots && i <= tt->mask; i++) {
        if (tt->slots[i]) {
            zmq_msg_close(&tt->slots[i]->body);
            free(tt->slots[i]);
        }
    }
    while (tt->spare) {
        task_t *t = tt->spare;
        tt->spare = t->wnext;
        free(t);
    }
    free(tt->slots);
    free(tt->cslots);
    memset(tt, 0, sizeof *tt);
}

int task_table_room(task_table_t *tt)
{
    uint32_t size = tt->mask + 1;
    if ((tt->count + 1) * 2 <= size)
        return SWB_OK;
    uint32_t n = size * 2;
    task_t **slots = calloc(n, sizeof *slots), **cslots = calloc(n, sizeof *cslots);
    if (!slots || !cslots) {
        free(slots);
        free(cslots);
        return SWB_E_NOMEM;
    }
    task_t **old = tt->slots;
    free(tt->cslots);
    tt->slots = slots;
    tt->cslots = cslots;
    tt->mask = n - 1;
    tt->count = 0;
    for (uint32_t i = 0; i < size; i++)
        if (old[i])
            task_insert(tt, old[i]);
    free(old);
    return SWB_OK;
}

task_t *task_alloc(task_table_t *tt)
{
    task_t *t = tt->spare;
    if (!t)
        return calloc(1, sizeof *t);
    tt->spare = t->wnext;
    tt->n_spare--;
    memset(t, 0, sizeof *t);
    return t;
}

void task_free(task_table_t *tt, task_t *t)
{
    task_erase(tt, t);
    zmq_msg_close(&t->body);
    if (tt->n_spare >= SPARE_TASKS) {
        free(t);
        return;
    }
    t->wnext = tt->spare;
    tt->spare = t;
    tt->n_spare++;
}
