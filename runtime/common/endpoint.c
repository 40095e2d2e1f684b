/*
 * endpoint.c - where the broker listens: the default endpoint, ipc socket directories and
 * their locks.
 *
 * Layer: common; uses: proto; called by: every layer above.
 *
 * ipc sockets live in a directory only we can enter, checked the way tmux checks its socket
 * directory (ours, a real directory, no access for group or others), because anyone who can
 * connect can send tasks. ZeroMQ 4.3.4 lets a second bind of the same path silently steal it,
 * so each bound path is guarded by an flock'ed "<path>.lock".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "swbi.h"

static int dir_ok(const char *dir, int create)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT || !create)
            return SWB_E_SYS;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return SWB_E_SYS;
        if (lstat(dir, &st) != 0)
            return SWB_E_SYS;
    }
    if (!S_ISDIR(st.st_mode)) {
        swb_log(SWB_LOG_ERROR, "%s is not a directory", dir);
        return SWB_E_INVALID;
    }
    if (st.st_uid != getuid()) {
        swb_log(SWB_LOG_ERROR, "%s is not owned by uid %d", dir, (int)getuid());
        return SWB_E_INVALID;
    }
    if (st.st_mode & 077) {
        swb_log(SWB_LOG_ERROR, "%s is accessible by others (mode %03o); want 0700", dir,
                (unsigned)(st.st_mode & 0777));
        return SWB_E_INVALID;
    }
    return SWB_OK;
}

int swb_default_endpoint(char *buf, size_t cap)
{
    const char *env = getenv("SWB_ENDPOINT");
    int n;
    if (env && *env) {
        n = snprintf(buf, cap, "%s", env);
    } else {
        char dir[PATH_MAX];
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg)
            snprintf(dir, sizeof dir, "%s/switchboard", xdg);
        else
            snprintf(dir, sizeof dir, "/tmp/switchboard-%d", (int)getuid());
        int rc = dir_ok(dir, 1);
        if (rc != SWB_OK)
            return rc;
        n = snprintf(buf, cap, "ipc://%s/broker.sock", dir);
    }
    if (n < 0 || (size_t)n >= cap)
        return SWB_E_TOO_LARGE;
    return swbi_ipc_prepare(buf);
}

const char *swbi_ipc_path(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return NULL;
    const char *p = endpoint + 6;
    if (*p == '@' || *p == '\0') /* abstract namespace: no file */
        return NULL;
    return p;
}

int swbi_ipc_prepare(const char *endpoint)
{
    const char *path = swbi_ipc_path(endpoint);
    if (!path)
        return SWB_OK;
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof dir)
        return SWB_E_TOO_LARGE;
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return SWB_OK; /* a relative name or a file in /: the caller chose it */
    *slash = '\0';
    return dir_ok(dir, 1);
}

int swbi_ipc_lock(const char *endpoint, int *fd)
{
    *fd = -1;
    const char *path = swbi_ipc_path(endpoint);
    if (!path)
        return SWB_OK;
    char lock[PATH_MAX];
    if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
        return SWB_E_TOO_LARGE;
    int f = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0)
        return SWB_E_SYS;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        close(f);
        swb_log(SWB_LOG_ERROR, "%s: another broker is serving it", endpoint);
        return SWB_E_NAME_TAKEN;
    }
    /* We hold the lock, so any socket file left is stale (a crashed broker's). */
    unlink(path);
    *fd = f;
    return SWB_OK;
}
