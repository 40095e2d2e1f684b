/*
 * plugin.c - find and load worker plugins.
 *
 * A name ("sum") resolves to <plugin dir>/sum.so; anything with a '/' is a path. The
 * descriptor's ABI number is checked before any of its functions is called, so a plugin built
 * against another ABI is refused with a clear error instead of crashing the worker.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_int.h"

int swb_plugin_resolve(const char *plugin, const char *plugin_dir, char *out, size_t cap)
{
    if (!plugin || !*plugin || !out)
        return SWB_E_INVALID;
    char path[PATH_MAX];
    if (strchr(plugin, '/')) {
        snprintf(path, sizeof path, "%s", plugin);
    } else {
        const char *dir = swbi_plugin_dir(plugin_dir);
        size_t n = strlen(plugin);
        int has_ext = n > 3 && strcmp(plugin + n - 3, ".so") == 0;
        snprintf(path, sizeof path, "%s/%s%s", dir, plugin, has_ext ? "" : ".so");
    }
    char real[PATH_MAX];
    if (!realpath(path, real) || access(real, R_OK) != 0) {
        swb_log(SWB_LOG_WARN, "plugin %s: %s not found", plugin, path);
        return SWB_E_PLUGIN;
    }
    if (strlen(real) >= cap)
        return SWB_E_TOO_LARGE;
    strcpy(out, real);
    return SWB_OK;
}

int plugin_load(const char *path, void **dl, const swb_plugin_t **desc)
{
    *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*dl) {
        swb_log(SWB_LOG_ERROR, "plugin %s: %s", path, dlerror());
        return SWB_E_PLUGIN;
    }
    swb_plugin_descriptor_fn fn;
    /* POSIX guarantees dlsym's object pointer converts to a function pointer. */
    *(void **)(&fn) = dlsym(*dl, "swb_plugin_descriptor");
    const swb_plugin_t *d = fn ? fn() : NULL;
    if (!d) {
        swb_log(SWB_LOG_ERROR, "plugin %s: no swb_plugin_descriptor()", path);
        dlclose(*dl);
        *dl = NULL;
        return SWB_E_PLUGIN;
    }
    if (d->abi != SWB_PLUGIN_ABI) {
        swb_log(SWB_LOG_ERROR, "plugin %s: built for plugin ABI %u, this host speaks %u", path,
                d->abi, SWB_PLUGIN_ABI);
        dlclose(*dl);
        *dl = NULL;
        return SWB_E_ABI;
    }
    if (!d->handle_task && !d->on_message) {
        swb_log(SWB_LOG_ERROR, "plugin %s: neither handle_task nor on_message", path);
        dlclose(*dl);
        *dl = NULL;
        return SWB_E_PLUGIN;
    }
    *desc = d;
    return SWB_OK;
}
