/*
 * zmq_accept.c - keep libzmq 4.3 from aborting the process when accept(2) runs out of
 * descriptors.
 *
 * libzmq's ipc listener asserts that accept4() never fails with EMFILE (ENFILE it takes as a
 * failed accept and carries on), so a burst of connections at the descriptor limit kills the
 * broker and everything embedded with it. This accept4 stands in front of libc's: in
 * ZeroMQ's own I/O threads (named "ZMQbg/..."), and only there, EMFILE is reported as ENFILE,
 * which libzmq survives; the fd guard (broker_fds.c) then stops accepting within a tick. Any
 * other caller of accept4 in the process sees libc's answer unchanged.
 *
 * Layer: broker; uses: libc (dlsym); called by: libzmq, through symbol lookup.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static accept4_fn real_accept4;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
    real_accept4 = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
}

static int in_zmq_thread(void)
{
    char name[16];
    return pthread_getname_np(pthread_self(), name, sizeof name) == 0 &&
           strncmp(name, "ZMQbg/", 6) == 0;
}

__attribute__((visibility("default"))) int accept4(int fd, struct sockaddr *addr, socklen_t *len,
                                                   int flags)
{
    pthread_once(&once, find_real);
    if (!real_accept4) {
        errno = ENOSYS;
        return -1;
    }
    int r = real_accept4(fd, addr, len, flags);
    if (r < 0 && errno == EMFILE && in_zmq_thread())
        errno = ENFILE;
    return r;
}
