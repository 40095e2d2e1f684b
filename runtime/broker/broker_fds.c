/*
 * broker_fds.c - the file-descriptor guard: stop accepting connections before the process
 * runs out of descriptors, and accept again once some are freed.
 *
 * libzmq 4.3 aborts the whole process when accept(2) fails with EMFILE (an assertion in
 * ipc_listener.cpp), and every connection, worker thread and child's pidfd costs descriptors.
 * So the broker counts the descriptors its process has open (whoever opened them: the
 * embedding program's count too) against RLIMIT_NOFILE, and when fewer than a reserve are
 * left it unbinds its ipc and tcp endpoints: new connections are refused by the kernel
 * (peers keep retrying, as ZeroMQ does), connected peers are served as before, and the
 * reserve leaves room for the children and sockets the broker itself still opens. Past twice
 * the reserve it binds them again. Counted every tick (once a second while far below a large
 * limit), so a burst of more than the reserve within one tick can still reach the limit.
 *
 * Layer: broker; uses: common; called by: broker.c (each tick), broker_stats.c.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "broker_int.h"

#define FD_RESERVE_MIN 64
#define FAR_CHECK_MS   1000
#define FAR_LIMIT      8192 /* counting up to this many entries per tick costs little */

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static int listens(const char *ep)
{
    return strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "tcp://", 6) == 0;
}

static void set_accepting(swb_broker_t *b, int on)
{
    for (size_t i = 0; i < b->n_endpoints; i++) {
        const char *ep = b->endpoints[i];
        if (!listens(ep))
            continue;
        int rc = on ? zmq_bind(b->router, ep) : zmq_unbind(b->router, ep);
        if (rc != 0)
            swb_log(SWB_LOG_WARN, "%s %s: %s", on ? "bind" : "unbind", ep, zmq_strerror(errno));
    }
    b->fds.paused = !on;
}

void broker_fd_guard(swb_broker_t *b)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    int limit = rl.rlim_cur > (rlim_t)1 << 30 ? 1 << 30 : (int)rl.rlim_cur;
    int reserve = limit / 8 > FD_RESERVE_MIN ? limit / 8 : FD_RESERVE_MIN;
    /* Far from a large limit, once a second is enough; otherwise every tick. */
    if (!b->fds.paused && limit > FAR_LIMIT && b->fds.open >= 0 && b->fds.open < limit / 4 &&
        b->now.ms - b->fds.checked_ms < FAR_CHECK_MS)
        return;
    b->fds.checked_ms = b->now.ms;
    b->fds.limit = limit;
    b->fds.open = count_open_fds();
    if (b->fds.open < 0)
        return;
    int left = limit - b->fds.open;
    if (!b->fds.paused && left < reserve) {
        b->fds.pauses++;
        swb_log(SWB_LOG_WARN,
                "%d of %d file descriptors in use: not accepting connections until %d are free",
                b->fds.open, limit, 2 * reserve);
        set_accepting(b, 0);
    } else if (b->fds.paused && left >= 2 * reserve) {
        swb_log(SWB_LOG_INFO, "%d of %d file descriptors in use: accepting connections again",
                b->fds.open, limit);
        set_accepting(b, 1);
    }
}
