/*
 * pool.c - a worker pool in one call, like Piscina: a private embedded broker, N workers of a
 * plugin (threads, or processes on a private ipc socket), and a client to run tasks on them.
 *
 * Safe from any thread, as Piscina's pool.run() is from anywhere: each calling thread gets a
 * client peer of its own (a ZeroMQ socket belongs to one thread), made on its first call and
 * kept until the pool is destroyed; the thread that made the pool uses the first one.
 *
 * Layer: embed (top); uses: the public API (switchboard.h), as a program would, and common's
 * reader of option structs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "swbi.h"

typedef struct {
    pthread_t thread;
    swb_peer_t *peer;
} pool_client_t;

struct swb_pool {
    swb_broker_t *broker;
    swb_peer_t *client; /* the creating thread's */
    pthread_t owner;
    char service[SWB_NAME_MAX + 1];
    pthread_mutex_t lock; /* the other threads' clients */
    pool_client_t *clients;
    size_t n_clients, cap_clients;
    uint64_t seq;
};

/* The calling thread's client peer, made on its first call; NULL when it cannot be made. */
static swb_peer_t *thread_client(swb_pool_t *pool)
{
    pthread_t self = pthread_self();
    if (pthread_equal(self, pool->owner))
        return pool->client;
    pthread_mutex_lock(&pool->lock);
    for (size_t i = 0; i < pool->n_clients; i++) {
        if (pthread_equal(pool->clients[i].thread, self)) {
            swb_peer_t *p = pool->clients[i].peer;
            pthread_mutex_unlock(&pool->lock);
            return p;
        }
    }
    char name[SWB_NAME_MAX + 1];
    snprintf(name, sizeof name, "pool-%llu", (unsigned long long)++pool->seq);
    pthread_mutex_unlock(&pool->lock);
    /* Made without the lock (it waits for WELCOME): only this thread makes its own. */
    swb_peer_t *p = NULL;
    swb_peer_opts_t po = SWB_OPTS(swb_peer_opts_t, .broker = pool->broker, .name = name);
    if (swb_peer_new(&p, &po) != SWB_OK)
        return NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->n_clients == pool->cap_clients) {
        size_t ncap = pool->cap_clients ? pool->cap_clients * 2 : 8;
        pool_client_t *c = realloc(pool->clients, ncap * sizeof *c);
        if (!c) {
            pthread_mutex_unlock(&pool->lock);
            swb_peer_destroy(&p);
            return NULL;
        }
        pool->clients = c;
        pool->cap_clients = ncap;
    }
    pool->clients[pool->n_clients++] = (pool_client_t){self, p};
    pthread_mutex_unlock(&pool->lock);
    return p;
}

int swb_pool_new(swb_pool_t **out, const swb_pool_opts_t *opts)
{
    if (!out || !opts)
        return SWB_E_INVALID;
    *out = NULL;
    swb_pool_opts_t taken;
    int rc = swbi_opts_take(&taken, sizeof taken, opts, SWBI_OPTS_END(swb_pool_opts_t, max_queue),
                            "swb_pool_opts_t");
    if (rc != SWB_OK)
        return rc;
    const swb_pool_opts_t *o = &taken;
    if (!o->plugin)
        return SWB_E_INVALID;
    swb_pool_t *pool = calloc(1, sizeof *pool);
    if (!pool)
        return SWB_E_NOMEM;
    pthread_mutex_init(&pool->lock, NULL);
    pool->owner = pthread_self();
    rc = swb_plugin_service(o->plugin, NULL, pool->service, sizeof pool->service);
    if (rc != SWB_OK)
        goto fail;
    /* Processes need an ipc socket: the broker makes a private one. */
    swb_broker_opts_t bo =
        SWB_OPTS(swb_broker_opts_t, .no_default = 1, .private_ipc = o->mode == SWB_CHILD_PROCESS,
                 .max_queue = o->max_queue);
    if ((rc = swb_broker_new(&pool->broker, &bo)) != SWB_OK ||
        (rc = swb_broker_start(pool->broker)) != SWB_OK)
        goto fail;
    swb_peer_opts_t po = SWB_OPTS(swb_peer_opts_t, .broker = pool->broker, .name = "pool");
    if ((rc = swb_peer_new(&pool->client, &po)) != SWB_OK)
        goto fail;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t n = o->workers ? o->workers : (uint32_t)(ncpu > 0 ? ncpu : 1);
    swb_spawn_opts_t so = SWB_OPTS(swb_spawn_opts_t, .plugin = o->plugin, .name = "worker",
                                   .mode = o->mode, .count = n, .capacity = o->capacity,
                                   .config = o->config, .config_len = o->config_len);
    swb_child_t *kids = calloc(n, sizeof *kids);
    size_t got = 0;
    rc = kids ? swb_spawn(pool->client, &so, kids, n, &got) : SWB_E_NOMEM;
    free(kids);
    if (rc != SWB_OK)
        goto fail;
    *out = pool;
    return SWB_OK;
fail:
    swb_pool_destroy(&pool);
    return rc;
}

void swb_pool_destroy(swb_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    swb_pool_t *pool = *self_p;
    for (size_t i = 0; i < pool->n_clients; i++)
        swb_peer_destroy(&pool->clients[i].peer);
    free(pool->clients);
    swb_peer_destroy(&pool->client);
    swb_broker_destroy(&pool->broker); /* stops and reaps the workers, removes the socket */
    pthread_mutex_destroy(&pool->lock);
    free(pool);
    *self_p = NULL;
}

const char *swb_pool_service(const swb_pool_t *pool)
{
    return pool ? pool->service : NULL;
}

swb_peer_t *swb_pool_peer(swb_pool_t *pool)
{
    return pool ? thread_client(pool) : NULL;
}

swb_broker_t *swb_pool_broker(swb_pool_t *pool)
{
    return pool ? pool->broker : NULL;
}

int swb_pool_call(swb_pool_t *pool, const void *body, size_t len, int timeout_ms, swb_msg_t *result)
{
    swb_peer_t *p = pool ? thread_client(pool) : NULL;
    if (!p)
        return pool ? SWB_E_NOMEM : SWB_E_INVALID;
    return swb_call(p, pool->service, body, len, timeout_ms, result);
}

int swb_pool_submit(swb_pool_t *pool, const void *body, size_t len, const swb_task_opts_t *o,
                    uint64_t *id)
{
    swb_peer_t *p = pool ? thread_client(pool) : NULL;
    if (!p)
        return pool ? SWB_E_NOMEM : SWB_E_INVALID;
    return swb_submit(p, pool->service, body, len, o, id);
}

int swb_pool_stats(swb_pool_t *pool, void **body, size_t *len)
{
    swb_peer_t *p = pool ? thread_client(pool) : NULL;
    if (!p)
        return pool ? SWB_E_NOMEM : SWB_E_INVALID;
    return swb_peer_stats(p, body, len, 5000);
}
