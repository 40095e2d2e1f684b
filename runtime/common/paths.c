/*
 * paths.c - where things are found on disk: the worker executable and plugins (by name in the
 * plugin folder, or by path).
 *
 * Layer: common; uses: nothing of ZeroMQ; called by: broker (swb-worker and the plugin folder
 * at start), supervise (every child's plugin), host (loading) and programs through
 * swb_plugin_resolve.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swbi.h"

/* Whether this library (or the program it is linked into) runs from the build tree: then the
 * build's swb-worker and plugins come first, else the installed ones, so an installed program
 * never picks up a stale build tree that happens to still be on disk. */
int swbi_from_build_tree(void)
{
    Dl_info info;
    if (!dladdr((void *)&swbi_from_build_tree, &info) || !info.dli_fname)
        return 0;
    char real[PATH_MAX];
    const char *where = realpath(info.dli_fname, real) ? real : info.dli_fname;
    size_t n = strlen(SWB_BUILD_ROOT);
    return strncmp(where, SWB_BUILD_ROOT, n) == 0 && where[n] == '/';
}

/* The installed swb-worker and plugin folder. An installed libswitchboard.so finds them
 * relative to its own folder, so an install into any prefix (`cmake --install --prefix P`,
 * which the build cannot know) is self-sufficient; linked statically into a program it can
 * only use the prefix configured at build time. */
static struct {
    pthread_once_t once;
    char bin[PATH_MAX], plugins[PATH_MAX];
} s_installed = {PTHREAD_ONCE_INIT, "", ""};

static void find_installed(void)
{
    snprintf(s_installed.bin, sizeof s_installed.bin, "%s", SWB_INSTALL_BIN_DIR);
    snprintf(s_installed.plugins, sizeof s_installed.plugins, "%s", SWB_INSTALL_PLUGIN_DIR);
    Dl_info info;
    char real[PATH_MAX];
    if (!dladdr((void *)&find_installed, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, real))
        return;
    char *slash = strrchr(real, '/');
    if (!slash || strncmp(slash + 1, "libswitchboard.so", 17) != 0)
        return;
    *slash = '\0';
    snprintf(s_installed.bin, sizeof s_installed.bin, "%s/%s", real, SWB_INSTALL_LIB_TO_BIN);
    snprintf(s_installed.plugins, sizeof s_installed.plugins, "%s/%s", real,
             SWB_INSTALL_LIB_TO_PLUGINS);
}

static const char *installed_bin_dir(void)
{
    pthread_once(&s_installed.once, find_installed);
    return s_installed.bin;
}

static const char *installed_plugin_dir(void)
{
    pthread_once(&s_installed.once, find_installed);
    return s_installed.plugins;
}

static int exe_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

int swbi_worker_exe(const char *given, char *out, size_t cap)
{
    const char *env = getenv("SWB_WORKER_EXE");
    if (given && *given)
        return snprintf(out, cap, "%s", given) < (int)cap ? SWB_OK : SWB_E_TOO_LARGE;
    if (env && *env)
        return snprintf(out, cap, "%s", env) < (int)cap ? SWB_OK : SWB_E_TOO_LARGE;
    char dir[PATH_MAX];
    if (exe_dir(dir, sizeof dir) == 0) {
        snprintf(out, cap, "%s/swb-worker", dir);
        if (access(out, X_OK) == 0)
            return SWB_OK;
    }
    const char *build = SWB_BUILD_BIN_DIR "/swb-worker";
    char installed[PATH_MAX];
    snprintf(installed, sizeof installed, "%s/swb-worker", installed_bin_dir());
    int from_build = swbi_from_build_tree();
    const char *candidates[] = {from_build ? build : installed, from_build ? installed : build};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        if (access(candidates[i], X_OK) == 0)
            return snprintf(out, cap, "%s", candidates[i]) < (int)cap ? SWB_OK : SWB_E_TOO_LARGE;
    }
    return SWB_E_SPAWN;
}

const char *swbi_plugin_dir(const char *given)
{
    const char *env = getenv("SWB_PLUGIN_DIR");
    if (given && *given)
        return given;
    if (env && *env)
        return env;
    int from_build = swbi_from_build_tree();
    const char *first = from_build ? SWB_BUILD_PLUGIN_DIR : installed_plugin_dir();
    const char *second = from_build ? installed_plugin_dir() : SWB_BUILD_PLUGIN_DIR;
    return access(first, R_OK) == 0 || access(second, R_OK) != 0 ? first : second;
}

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
