/*
 * broker_fds.c - the file-descriptor guard: refuse new connections before the process runs
 * out of descriptors, and take them again once some are freed.
 *
 * Every connection, worker thread and child's pidfd costs descriptors, and at the limit
 * libzmq 4.3 used to abort the process. So the broker counts the descriptors its process has
 * open (whoever opened them: the embedding program's count too) against RLIMIT_NOFILE each
 * tick, and when fewer than a reserve are left (an eighth of the limit, at least 64) new
 * connections are refused: accepted and closed at once by the accept4 in zmq_accept.c, so the
 * peer's ZeroMQ retries later. Peers already connected are served as before, and the reserve
 * leaves room for the children and sockets the broker itself still opens. Past twice the
 * reserve, connections are taken again. Logged, and in STATS (accepting, accept_pauses,
 * connections_refused).
 *
 * Layer: broker; uses: common; called by: broker.c (each tick), broker_stats.c.
 */
#include <dirent.h>
#include <errno.h>
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

static void set_accepting(swb_broker_t *b, int on)
{
    b->fds.paused = !on;
    broker_accept_refuse(!on);
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
        b->fds.open = limit; /* not even a descriptor to look with: at the limit */
    int left = limit - b->fds.open;
    if (!b->fds.paused && left < reserve) {
        b->fds.pauses++;
        swb_log(SWB_LOG_WARN,
                "%d of %d file descriptors in use: refusing new connections until %d are free",
                b->fds.open, limit, 2 * reserve);
        set_accepting(b, 0);
    } else if (b->fds.paused && left >= 2 * reserve) {
        swb_log(SWB_LOG_INFO, "%d of %d file descriptors in use: accepting connections again",
                b->fds.open, limit);
        set_accepting(b, 1);
    }
}
