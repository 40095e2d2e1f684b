/*
 * cli_connect.c - how the commands that talk to a running broker (call, send, stats, top,
 * reload, scale) join it, and what they say when they cannot.
 *
 * ZeroMQ connects in the background and retries for ever, so a socket file that nobody listens
 * on any more (a broker that crashed or was killed leaves it behind) looks like a slow broker:
 * the HELLO waits out the whole connect timeout. For an ipc:// endpoint a plain connect(2)
 * first tells the cases apart at once: refused is a dead broker, no file is one that is not
 * (yet) running, which is still waited for, as a broker being started may bind any moment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "switchboard.h"

/* connect(2) to the socket file of an ipc:// endpoint: 0 when something listens (or the
 * endpoint has no file to try), else the errno. */
static int probe_ipc(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    const char *path = endpoint + 6;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (*path == '@' || *path == '\0' || strlen(path) >= sizeof sa.sun_path)
        return 0; /* abstract or too long for us: ZeroMQ alone decides */
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
    close(fd);
    return rc == EAGAIN ? 0 : rc; /* EAGAIN: a full backlog, so a live listener */
}

/* Why nobody answers at an ipc:// endpoint, or NULL when connect(2) does not say. */
static const char *why_not(int err, char *buf, size_t cap)
{
    switch (err) {
    case 0:
        return NULL;
    case ECONNREFUSED:
        return "connection refused (its socket file is left from a broker that is gone)";
    case ENOENT:
        return "no socket file (is a broker running?)";
    default:
        snprintf(buf, cap, "%s", strerror(err));
        return buf;
    }
}

int cli_connect(const char *cmd, const char *endpoint, int timeout_ms, swb_peer_t **p)
{
    char def[512];
    if (!endpoint) {
        int rc = swb_default_endpoint(def, sizeof def);
        if (rc != SWB_OK) {
            fprintf(stderr, "swb %s: no default endpoint: %s\n", cmd, swb_strerror(rc));
            return 1;
        }
        endpoint = def;
    }
    /* A refusal is retried briefly: a broker starting on the path binds, then listens. */
    int err = probe_ipc(endpoint);
    for (int i = 0; err == ECONNREFUSED && i < 4; i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        err = probe_ipc(endpoint);
    }
    char buf[256];
    if (err != 0 && err != ENOENT) {
        fprintf(stderr, "swb %s: no broker answering at %s: %s\n", cmd, endpoint,
                why_not(err, buf, sizeof buf));
        return 1;
    }
    swb_peer_opts_t po = {.endpoint = endpoint, .connect_timeout_ms = timeout_ms};
    int rc = swb_peer_new(p, &po);
    if (rc == SWB_OK)
        return 0;
    const char *why = rc == SWB_E_TIMEOUT ? why_not(probe_ipc(endpoint), buf, sizeof buf) : NULL;
    if (why)
        fprintf(stderr, "swb %s: no broker answering at %s: %s\n", cmd, endpoint, why);
    else if (rc == SWB_E_TIMEOUT)
        fprintf(stderr, "swb %s: no broker answering at %s: no WELCOME within %d ms\n", cmd,
                endpoint, timeout_ms > 0 ? timeout_ms : 5000);
    else
        fprintf(stderr, "swb %s: cannot connect to the broker at %s: %s\n", cmd, endpoint,
                swb_strerror(rc));
    return 1;
}
