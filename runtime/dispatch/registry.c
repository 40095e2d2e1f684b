/*
 * registry.c - peers by name and by routing id.
 *
 * A fixed slab of max_peers records (the broker's peer cap bounds its memory) and two open
 * addressing hash indexes with linear probing and backward-shift deletion, so lookups on the
 * routing path are O(1) and nothing is allocated after start.
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch.c and broker.
 */
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "swb_error.h"

typedef struct {
    int32_t *slots; /* index into peers, -1 = empty */
    uint32_t mask;
} index_t;

struct registry {
    reg_peer_t *peers;
    uint32_t cap;
    uint32_t count;
    uint32_t *free_list;
    uint32_t n_free;
    uint64_t joins;
    index_t by_name, by_rid;
};

static uint64_t hash_bytes(const void *data, size_t len)
{
    /* FNV-1a: short keys (names, 5-byte routing ids), so simplicity wins. */
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int index_init(index_t *ix, uint32_t cap)
{
    uint32_t n = 16;
    while (n < cap * 2)
        n <<= 1;
    ix->slots = malloc(n * sizeof *ix->slots);
    if (!ix->slots)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        ix->slots[i] = -1;
    ix->mask = n - 1;
    return 0;
}

typedef const void *(*key_fn)(const reg_peer_t *p, size_t *len);

static const void *key_name(const reg_peer_t *p, size_t *len)
{
    *len = strlen(p->name);
    return p->name;
}

static const void *key_rid(const reg_peer_t *p, size_t *len)
{
    *len = p->rid_len;
    return p->rid;
}

static int32_t index_find(const registry_t *r, const index_t *ix, key_fn kf, const void *key,
                          size_t len)
{
    uint32_t i = (uint32_t)hash_bytes(key, len) & ix->mask;
    while (ix->slots[i] >= 0) {
        size_t kl;
        const void *k = kf(&r->peers[ix->slots[i]], &kl);
        if (kl == len && memcmp(k, key, len) == 0)
            return ix->slots[i];
        i = (i + 1) & ix->mask;
    }
    return -1;
}

static void index_insert(const registry_t *r, index_t *ix, key_fn kf, int32_t id)
{
    size_t len;
    const void *key = kf(&r->peers[id], &len);
    uint32_t i = (uint32_t)hash_bytes(key, len) & ix->mask;
    while (ix->slots[i] >= 0)
        i = (i + 1) & ix->mask;
    ix->slots[i] = id;
}

static void index_erase(const registry_t *r, index_t *ix, key_fn kf, int32_t id)
{
    size_t len;
    const void *key = kf(&r->peers[id], &len);
    uint32_t i = (uint32_t)hash_bytes(key, len) & ix->mask;
    while (ix->slots[i] != id) {
        if (ix->slots[i] < 0)
            return;
        i = (i + 1) & ix->mask;
    }
    /* Backward-shift: pull later entries of the probe run into the hole. */
    uint32_t hole = i;
    for (uint32_t j = (hole + 1) & ix->mask; ix->slots[j] >= 0; j = (j + 1) & ix->mask) {
        size_t kl;
        const void *k = kf(&r->peers[ix->slots[j]], &kl);
        uint32_t home = (uint32_t)hash_bytes(k, kl) & ix->mask;
        /* Move j into the hole if its home is not in (hole, j] cyclically. */
        int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            ix->slots[hole] = ix->slots[j];
            hole = j;
        }
    }
    ix->slots[hole] = -1;
}

int registry_new(registry_t **out, uint32_t max_peers)
{
    registry_t *r = calloc(1, sizeof *r);
    if (!r)
        return SWB_E_NOMEM;
    r->cap = max_peers;
    r->peers = calloc(max_peers, sizeof *r->peers);
    r->free_list = malloc(max_peers * sizeof *r->free_list);
    if (!r->peers || !r->free_list || index_init(&r->by_name, max_peers) ||
        index_init(&r->by_rid, max_peers)) {
        registry_destroy(&r);
        return SWB_E_NOMEM;
    }
    for (uint32_t i = 0; i < max_peers; i++)
        r->free_list[i] = max_peers - 1 - i;
    r->n_free = max_peers;
    *out = r;
    return SWB_OK;
}

void registry_destroy(registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    registry_t *r = *self_p;
    free(r->peers);
    free(r->free_list);
    free(r->by_name.slots);
    free(r->by_rid.slots);
    free(r);
    *self_p = NULL;
}

reg_peer_t *registry_add(registry_t *r, const char *name, const void *rid, size_t rid_len)
{
    if (!r->n_free || rid_len > REG_RID_MAX || strlen(name) > SWB_MAX_NAME)
        return NULL;
    uint32_t id = r->free_list[--r->n_free];
    reg_peer_t *p = &r->peers[id];
    uint32_t gen = p->gen + 1;
    memset(p, 0, sizeof *p);
    p->gen = gen;
    p->used = 1;
    p->joined = ++r->joins;
    for (int i = 0; i < SWB_MAX_SERVICES; i++)
        p->heap_pos[i] = -1;
    strcpy(p->name, name);
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    index_insert(r, &r->by_name, key_name, (int32_t)id);
    index_insert(r, &r->by_rid, key_rid, (int32_t)id);
    r->count++;
    return p;
}

void registry_remove(registry_t *r, reg_peer_t *p)
{
    if (!p || !p->used)
        return;
    int32_t id = (int32_t)(p - r->peers);
    index_erase(r, &r->by_name, key_name, id);
    index_erase(r, &r->by_rid, key_rid, id);
    p->used = 0;
    r->free_list[r->n_free++] = (uint32_t)id;
    r->count--;
}

reg_peer_t *registry_by_name(registry_t *r, const char *name, size_t len)
{
    int32_t id = index_find(r, &r->by_name, key_name, name, len);
    return id < 0 ? NULL : &r->peers[id];
}

reg_peer_t *registry_by_rid(registry_t *r, const void *rid, size_t len)
{
    int32_t id = index_find(r, &r->by_rid, key_rid, rid, len);
    return id < 0 ? NULL : &r->peers[id];
}

int registry_rebind(registry_t *r, reg_peer_t *p, const void *rid, size_t rid_len)
{
    if (rid_len > REG_RID_MAX)
        return SWB_E_TOO_LARGE;
    int32_t id = (int32_t)(p - r->peers);
    index_erase(r, &r->by_rid, key_rid, id);
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    index_insert(r, &r->by_rid, key_rid, id);
    return SWB_OK;
}

size_t registry_count(const registry_t *r)
{
    return r->count;
}

uint32_t registry_capacity(const registry_t *r)
{
    return r->cap;
}

reg_peer_t *registry_at(registry_t *r, uint32_t i)
{
    return &r->peers[i];
}

int registry_serves(const reg_peer_t *p, const char *service, size_t len)
{
    for (uint32_t i = 0; i < p->n_services; i++)
        if (strlen(p->services[i]) == len && memcmp(p->services[i], service, len) == 0)
            return 1;
    return 0;
}
