/*
 * plugin.c - find and load worker plugins.
 *
 * A name ("sum") resolves to <plugin dir>/sum.so; anything with a '/' is a path. The
 * descriptor's ABI number is checked before any of its functions is called, so a plugin built
 * against another ABI is refused with a clear error instead of crashing the worker.
 *
 * A reload must pick up a new build of a plugin, also in worker threads. A process loads the
 * file afresh, but in one process dlopen() of a path already loaded returns the old code (the
 * loader matches by name). So each path's file identity (device, inode, size, mtime) is
 * remembered, and a changed file is loaded from a private copy under a new name. Plugins are
 * never unloaded: other worker threads may be running them.
 *
 * Layer: host; uses: common; called by: host.c and, through swb_plugin_service, programs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_int.h"

typedef struct loaded {
    char path[PATH_MAX];      /* as asked for */
    char load_path[PATH_MAX]; /* what was dlopen'ed for its current build */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct loaded *next;
} loaded_t;

static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static loaded_t *loaded_list;

static int same_file(const loaded_t *l, const struct stat *st)
{
    return l->dev == st->st_dev && l->ino == st->st_ino && l->size == st->st_size &&
           l->mtime.tv_sec == st->st_mtim.tv_sec && l->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Copy `path` to a fresh file whose name the loader has never seen; returns 0 and its name. */
static int private_copy(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/swb-plugin-XXXXXX");
    int dst = mkostemp(out, O_CLOEXEC); /* another thread may be forking a worker meanwhile */
    if (dst < 0)
        return -1;
    int src = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = src < 0 || fstat(src, &st) != 0 ? -1 : 0;
    for (off_t off = 0; rc == 0 && off < st.st_size;) {
        ssize_t n = sendfile(dst, src, &off, (size_t)(st.st_size - off));
        if (n <= 0)
            rc = -1;
    }
    if (src >= 0)
        close(src);
    close(dst);
    if (rc != 0)
        unlink(out);
    return rc;
}

/* dlopen `path`, or a private copy of it when the file changed since it was first loaded. */
static void *open_current(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    pthread_mutex_lock(&loaded_lock);
    loaded_t *l = loaded_list;
    while (l && strcmp(l->path, path) != 0)
        l = l->next;
    void *h = NULL;
    if (l && same_file(l, &st)) {
        h = dlopen(l->load_path, RTLD_NOW | RTLD_LOCAL); /* loaded already: found by name */
    } else {
        char copy[PATH_MAX];
        int fresh = !l;
        if (fresh) {
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            snprintf(copy, sizeof copy, "%s", path);
        } else if (private_copy(path, copy, sizeof copy) == 0) {
            h = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
            unlink(copy); /* the mapping stays; the loader still knows it by this name */
            swb_log(SWB_LOG_INFO, "plugin %s changed: loaded the new build", path);
        }
        if (h && fresh)
            l = calloc(1, sizeof *l);
        if (h && l) {
            snprintf(l->path, sizeof l->path, "%s", path);
            snprintf(l->load_path, sizeof l->load_path, "%s", copy);
            l->dev = st.st_dev;
            l->ino = st.st_ino;
            l->size = st.st_size;
            l->mtime = st.st_mtim;
            if (fresh) {
                l->next = loaded_list;
                loaded_list = l;
            }
        }
    }
    pthread_mutex_unlock(&loaded_lock);
    return h;
}

/* The size of the descriptor each ABI version defined (index: version). */
static const size_t abi_size[] = {
    [1] = SWBI_OPTS_END(swb_plugin_t, fini),
};
_Static_assert(sizeof abi_size / sizeof *abi_size == SWB_PLUGIN_ABI + 1,
               "a new plugin ABI needs its descriptor size here");

int plugin_load(const char *path, void **dl, swb_plugin_t *desc)
{
    /* On the failures below the object stays loaded: unloading in a threaded process is
     * never worth the risk, and a broken plugin costs only its mapping. */
    *dl = open_current(path);
    if (!*dl) {
        const char *e = dlerror();
        swb_log(SWB_LOG_ERROR, "plugin %s: %s", path, e ? e : strerror(errno));
        return SWB_E_PLUGIN;
    }
    swb_plugin_descriptor_fn fn;
    /* POSIX guarantees dlsym's object pointer converts to a function pointer. */
    *(void **)(&fn) = dlsym(*dl, "swb_plugin_descriptor");
    const swb_plugin_t *d = fn ? fn() : NULL;
    if (!d) {
        swb_log(SWB_LOG_ERROR, "plugin %s: no swb_plugin_descriptor()", path);
        return SWB_E_PLUGIN;
    }
    if (d->abi < 1 || d->abi > SWB_PLUGIN_ABI) {
        swb_log(SWB_LOG_ERROR, "plugin %s: built for plugin ABI %u, this host speaks 1 to %u", path,
                d->abi, SWB_PLUGIN_ABI);
        return SWB_E_ABI;
    }
    if (!d->handle_task && !d->on_message) {
        swb_log(SWB_LOG_ERROR, "plugin %s: neither handle_task nor on_message", path);
        return SWB_E_PLUGIN;
    }
    memset(desc, 0, sizeof *desc);
    memcpy(desc, d, abi_size[d->abi]);
    return SWB_OK;
}

int swb_plugin_service(const char *plugin, const char *plugin_dir, char *out, size_t cap)
{
    char path[PATH_MAX];
    int rc = swb_plugin_resolve(plugin, plugin_dir, path, sizeof path);
    if (rc != SWB_OK)
        return rc;
    void *dl;
    swb_plugin_t d;
    if ((rc = plugin_load(path, &dl, &d)) != SWB_OK)
        return rc;
    const char *svc = d.services && d.services[0] ? d.services[0] : d.name;
    if (!svc || !*svc)
        return SWB_E_PLUGIN;
    if (strlen(svc) >= cap)
        return SWB_E_TOO_LARGE;
    snprintf(out, cap, "%s", svc);
    return SWB_OK; /* dl stays loaded: plugins are never unloaded */
}
