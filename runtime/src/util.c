/*
 * util.c - small helpers: clock, string copies, frame send/drain.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "swbi.h"

#ifdef SWBI_TSAN
char swbi_tsan_sync;
#endif

int64_t swbi_now_ms(void)
{
    /* The coarse clock (a few ms of resolution) is plenty for heartbeats and deadlines and
     * costs a fraction of the precise one, which every message used to pay several times. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t swbi_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void swbi_str_copy(char *dst, size_t cap, swb_str_t s)
{
    if (!cap)
        return;
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

int swbi_send(void *sock, const swbi_rid_t *rid, const swb_header_t *h, zmq_msg_t *body, int flags)
{
    unsigned char buf[SWB_MAX_HEADER];
    size_t len = 0;
    SWBI_SENT();
    if (swb_header_encode(h, buf, sizeof buf, &len) != SWB_OK) {
        errno = EINVAL;
        return -1;
    }
    if (rid) {
        if (zmq_send(sock, rid->id, rid->len, ZMQ_SNDMORE | flags) < 0)
            return -1;
    }
    /* Past the routing id the message is committed: ZeroMQ sends it whole or not at all. */
    if (zmq_send(sock, buf, len, (body ? ZMQ_SNDMORE : 0) | flags) < 0)
        return -1;
    if (body && zmq_msg_send(body, sock, flags) < 0)
        return -1;
    return 0;
}

int swbi_send_bytes(void *sock, const swbi_rid_t *rid, const swb_header_t *h, const void *body,
                    size_t len, int flags)
{
    if (!body)
        return swbi_send(sock, rid, h, NULL, flags);
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, len) != 0)
        return -1;
    if (len)
        memcpy(zmq_msg_data(&m), body, len);
    int rc = swbi_send(sock, rid, h, &m, flags);
    if (rc < 0) {
        int e = errno;
        zmq_msg_close(&m);
        errno = e;
    }
    return rc;
}

void swbi_drain(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        zmq_msg_close(&m);
    }
}
