/*
 * frames.c - how a message is laid out in ZeroMQ frames, both ways.
 *
 * A body of at most SWBI_INLINE_MAX bytes travels in the header's frame, right after the
 * header map; a larger one (or an empty one) in a second frame. Every frame costs each hop a
 * ZeroMQ send and receive, several hundred instructions each way, which is more than copying
 * a small body; a large body keeps its own frame so that the broker passes it on by reference.
 * Receivers accept either form whatever the size (PROTOCOL.md section 2).
 *
 * Layer: common; uses: proto; called by: peer, host, broker (every sender and receiver).
 */
#include <errno.h>
#include <string.h>

#include "swbi.h"

/* Send `m`, closing it on failure (ZeroMQ empties it on success). */
static int send_msg(void *sock, zmq_msg_t *m, int flags)
{
    if (zmq_msg_send(m, sock, flags) >= 0)
        return 0;
    int e = errno;
    zmq_msg_close(m);
    errno = e;
    return -1;
}

/* The header, then `len` body bytes at `bytes` when has_body: inline when small, else as a
 * second frame that refers to `frame` when given (its bytes are the body) or copies them. */
static int send_parts(void *sock, const swbi_rid_t *rid, const swb_header_t *h, int has_body,
                      const void *bytes, size_t len, zmq_msg_t *frame, int flags)
{
    unsigned char hb[SWB_MAX_HEADER];
    size_t hlen = 0;
    if (swb_header_encode(h, hb, sizeof hb, &hlen) != SWB_OK) {
        errno = EINVAL;
        return -1;
    }
    int inl = has_body && len > 0 && len <= SWBI_INLINE_MAX;
    int apart = has_body && !inl;
    /* Both frames are ready before the first goes: past the routing id the message is
     * committed, and ZeroMQ sends it whole or not at all. */
    zmq_msg_t m, b;
    if (zmq_msg_init_size(&m, hlen + (inl ? len : 0)) != 0)
        return -1;
    char *d = zmq_msg_data(&m);
    memcpy(d, hb, hlen);
    if (inl)
        memcpy(d + hlen, bytes, len);
    if (apart) {
        int rc = 0;
        if (frame) {
            zmq_msg_init(&b);
            rc = zmq_msg_copy(&b, frame); /* a reference, not a byte copy */
        } else if ((rc = zmq_msg_init_size(&b, len)) == 0 && len) {
            memcpy(zmq_msg_data(&b), bytes, len);
        }
        if (rc != 0) {
            int e = errno;
            zmq_msg_close(&m);
            errno = e;
            return -1;
        }
    }
    SWBI_SENT(); /* after the last write to the frames, which the receiver will read */
    if (rid && zmq_send(sock, rid->id, rid->len, ZMQ_SNDMORE | flags) < 0) {
        int e = errno;
        zmq_msg_close(&m);
        if (apart)
            zmq_msg_close(&b);
        errno = e;
        return -1;
    }
    if (send_msg(sock, &m, (apart ? ZMQ_SNDMORE : 0) | flags) != 0) {
        if (apart)
            zmq_msg_close(&b);
        return -1;
    }
    return apart ? send_msg(sock, &b, flags) : 0;
}

int swbi_send(void *sock, const swbi_rid_t *rid, const swb_header_t *h, const swbi_body_t *body,
              int flags)
{
    if (!body)
        return send_parts(sock, rid, h, 0, NULL, 0, NULL, flags);
    /* A body that came in a frame of its own goes on by reference; one that came inline is
     * copied (a large one only when a peer other than ours sent it inline). */
    return send_parts(sock, rid, h, 1, swbi_body_data(body), body->len,
                      body->off == 0 ? body->msg : NULL, flags);
}

int swbi_send_bytes(void *sock, const swbi_rid_t *rid, const swb_header_t *h, const void *body,
                    size_t len, int flags)
{
    return send_parts(sock, rid, h, body != NULL, body, len, NULL, flags);
}

int swbi_decode_msg(zmq_msg_t *hdr, zmq_msg_t *second, swb_header_t *h, swbi_body_t *body)
{
    const void *p = zmq_msg_data(hdr);
    size_t n = zmq_msg_size(hdr);
    body->msg = NULL;
    body->off = body->len = 0;
    if (second) { /* the body has its own frame: nothing may follow the header in this one */
        int rc = swb_header_decode(p, n, h);
        if (rc == SWB_OK) {
            body->msg = second;
            body->len = zmq_msg_size(second);
        }
        return rc;
    }
    size_t hlen = 0;
    int rc = swb_header_decode_prefix(p, n, h, &hlen);
    if (rc == SWB_OK && hlen < n) {
        body->msg = hdr;
        body->off = hlen;
        body->len = n - hlen;
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
