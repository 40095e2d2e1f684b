/*
 * zmq_accept.c - the connection cap at the descriptor limit, where libzmq itself accepts.
 *
 * libzmq 4.3's ipc listener asserts that accept4() never fails with EMFILE, so a burst of
 * connections at the descriptor limit aborted the broker and everything embedded with it; and
 * libzmq offers no way to refuse one connection while keeping the others (unbinding a listener
 * closes every connection it accepted). So this accept4 stands in front of libc's, for
 * ZeroMQ's own I/O threads only (named "ZMQbg/..."); every other caller gets libc's answer
 * unchanged:
 *   - while the fd guard (broker_fds.c) says the process is near its limit, a new connection
 *     is accepted and closed at once, and libzmq is told ECONNABORTED, which it survives;
 *   - when the limit is reached anyway (a burst within one tick), a descriptor kept in reserve
 *     is given up for a moment to accept the waiting connection and close it, so the listener
 *     neither aborts nor spins on a connection it cannot take.
 * Connections already made are never touched. Refused ones are counted for STATS.
 *
 * Layer: broker; uses: libc (dlsym); called by: libzmq, through symbol lookup; broker_fds.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker_int.h"

typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static accept4_fn real_accept4;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t reserve_mu = PTHREAD_MUTEX_INITIALIZER;
static int reserve_fd = -1;
static int refusing;     /* atomic */
static uint64_t refused; /* atomic */

static void find_real(void)
{
    real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
}

static int sys_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    pthread_once(&once, find_real);
    if (real_accept4)
        return real_accept4(fd, addr, len, flags);
    return (int)syscall(SYS_accept4, fd, addr, len, flags); /* a fully static program */
}

static int in_zmq_thread(void)
{
    char name[16];
    return pthread_getname_np(pthread_self(), name, sizeof name) == 0 &&
           strstr(name, "ZMQbg/") != NULL;
}

static void refuse_one(int c)
{
    close(c);
    __atomic_add_fetch(&refused, 1, __ATOMIC_RELAXED);
}

/* At the limit: free the reserve for the time of one accept, so the waiting connection leaves
 * the listener's queue. */
static void shed(int fd)
{
    pthread_mutex_lock(&reserve_mu);
    if (reserve_fd >= 0) {
        close(reserve_fd);
        int c = sys_accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0)
            refuse_one(c);
        reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    pthread_mutex_unlock(&reserve_mu);
}

__attribute__((visibility("default"))) int accept4(int fd, struct sockaddr *addr, socklen_t *len,
                                                   int flags)
{
    if (!in_zmq_thread())
        return sys_accept4(fd, addr, len, flags);
    int c = sys_accept4(fd, addr, len, flags);
    if (c >= 0 && __atomic_load_n(&refusing, __ATOMIC_RELAXED)) {
        refuse_one(c);
        errno = ECONNABORTED;
        return -1;
    }
    if (c < 0 && (errno == EMFILE || errno == ENFILE)) {
        shed(fd);
        errno = ECONNABORTED;
    }
    return c;
}

void broker_accept_init(void)
{
    pthread_mutex_lock(&reserve_mu);
    if (reserve_fd < 0)
        reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pthread_mutex_unlock(&reserve_mu);
}

void broker_accept_refuse(int on)
{
    __atomic_store_n(&refusing, on, __ATOMIC_RELAXED);
}

uint64_t broker_accept_refused(void)
{
    return __atomic_load_n(&refused, __ATOMIC_RELAXED);
}
