/*
 * testkit.c - swb_testkit.h: a private broker, one worker of the plugin under test, and a
 * client, made and undone together.
 *
 * Layer: embed; uses: the public API only; called by: test suites.
 */
#include <stdlib.h>

#include "swb_testkit.h"

struct swb_testkit {
    swb_broker_t *broker;
    swb_peer_t *peer;
    swb_child_t worker;
    char service[SWB_NAME_MAX + 1];
};

int swb_testkit_start(swb_testkit_t **out, const char *plugin, int mode)
{
    if (!out || !plugin)
        return SWB_E_INVALID;
    *out = NULL;
    swb_testkit_t *k = calloc(1, sizeof *k);
    if (!k)
        return SWB_E_NOMEM;
    int rc = swb_plugin_service(plugin, NULL, k->service, sizeof k->service);
    swb_broker_opts_t bo = SWB_OPTS(swb_broker_opts_t, .private_ipc = 1, .no_default = 1);
    if (rc == SWB_OK)
        rc = swb_broker_new(&k->broker, &bo);
    if (rc == SWB_OK)
        rc = swb_broker_start(k->broker);
    swb_peer_opts_t po = SWB_OPTS(swb_peer_opts_t, .broker = k->broker, .name = "testkit");
    if (rc == SWB_OK)
        rc = swb_peer_new(&k->peer, &po);
    swb_spawn_opts_t so =
        SWB_OPTS(swb_spawn_opts_t, .plugin = plugin, .mode = mode, .no_restart = 1);
    size_t n = 0;
    if (rc == SWB_OK)
        rc = swb_spawn(k->peer, &so, &k->worker, 1, &n);
    if (rc != SWB_OK) {
        swb_testkit_stop(&k);
        return rc;
    }
    *out = k;
    return SWB_OK;
}

const char *swb_testkit_service(const swb_testkit_t *k)
{
    return k ? k->service : NULL;
}

const swb_child_t *swb_testkit_worker(const swb_testkit_t *k)
{
    return k ? &k->worker : NULL;
}

const char *swb_testkit_endpoint(const swb_testkit_t *k)
{
    return k ? swb_broker_endpoint(k->broker) : NULL;
}

swb_peer_t *swb_testkit_peer(swb_testkit_t *k)
{
    return k ? k->peer : NULL;
}

int swb_testkit_call(swb_testkit_t *k, const void *body, size_t len, int timeout_ms,
                     swb_msg_t *result)
{
    if (!k)
        return SWB_E_INVALID;
    return swb_call(k->peer, k->service, body, len, timeout_ms, result);
}

void swb_testkit_stop(swb_testkit_t **kp)
{
    if (!kp || !*kp)
        return;
    swb_testkit_t *k = *kp;
    swb_peer_destroy(&k->peer);
    swb_broker_destroy(&k->broker); /* ends and reaps the worker, removes the directory */
    free(k);
    *kp = NULL;
}
