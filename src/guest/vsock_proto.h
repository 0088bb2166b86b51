/*
 * virtio-vsock packets (virtio 1.2 §5.10.6, docs/guest-abi.md "Packets") and the pure arithmetic of its
 * credit-based flow control. No guest dependencies: check/vsock-check.c tests this on the host.
 */
#ifndef ENCLAVE_VSOCK_PROTO_H
#define ENCLAVE_VSOCK_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct __attribute__((packed)) virtio_vsock_hdr {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len;
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
};

_Static_assert(sizeof(struct virtio_vsock_hdr) == 44, "virtio_vsock_hdr is 44 bytes");
_Static_assert(offsetof(struct virtio_vsock_hdr, dst_cid) == 8, "hdr.dst_cid");
_Static_assert(offsetof(struct virtio_vsock_hdr, src_port) == 16, "hdr.src_port");
_Static_assert(offsetof(struct virtio_vsock_hdr, dst_port) == 20, "hdr.dst_port");
_Static_assert(offsetof(struct virtio_vsock_hdr, len) == 24, "hdr.len");
_Static_assert(offsetof(struct virtio_vsock_hdr, type) == 28, "hdr.type");
_Static_assert(offsetof(struct virtio_vsock_hdr, op) == 30, "hdr.op");
_Static_assert(offsetof(struct virtio_vsock_hdr, flags) == 32, "hdr.flags");
_Static_assert(offsetof(struct virtio_vsock_hdr, buf_alloc) == 36, "hdr.buf_alloc");
_Static_assert(offsetof(struct virtio_vsock_hdr, fwd_cnt) == 40, "hdr.fwd_cnt");

#define VSOCK_HDR_SIZE 44u

/* The host's CID (VMADDR_CID_HOST); the enclave's is boot_info.cid (docs/guest-abi.md, "Packets"). */
#define VSOCK_HOST_CID 2u

#define VIRTIO_VSOCK_TYPE_STREAM 1u

#define VIRTIO_VSOCK_OP_REQUEST         1u
#define VIRTIO_VSOCK_OP_RESPONSE        2u
#define VIRTIO_VSOCK_OP_RST             3u
#define VIRTIO_VSOCK_OP_SHUTDOWN        4u
#define VIRTIO_VSOCK_OP_RW              5u
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE   6u
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST  7u

/* SHUTDOWN flags, as seen by the side that sends them. */
#define VIRTIO_VSOCK_SHUTDOWN_RCV   1u   /* the sender receives no more */
#define VIRTIO_VSOCK_SHUTDOWN_SEND  2u   /* the sender sends no more */

/* event queue entries (4 bytes); id 0 is TRANSPORT_RESET: every connection is gone. */
struct virtio_vsock_event {
    uint32_t id;
};
_Static_assert(sizeof(struct virtio_vsock_event) == 4, "virtio_vsock_event is 4 bytes");
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0u

/*
 * Bytes a sender may still send: the peer's buffer less what is in flight (sent but not yet consumed by
 * the peer). All counters are free-running u32 and wrap. A peer whose fwd_cnt is ahead of what was sent,
 * or whose buf_alloc shrank below what is in flight, gives no credit rather than a huge one.
 */
static inline uint32_t vsock_peer_credit(uint32_t peer_buf_alloc, uint32_t peer_fwd_cnt, uint32_t tx_cnt)
{
    uint32_t in_flight = tx_cnt - peer_fwd_cnt;
    return in_flight > peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
}

/* Room left in our receive buffer of buf_alloc bytes: received (rx_cnt) less consumed (fwd_cnt). */
static inline uint32_t vsock_rx_room(uint32_t buf_alloc, uint32_t rx_cnt, uint32_t fwd_cnt)
{
    uint32_t held = rx_cnt - fwd_cnt;
    return held > buf_alloc ? 0 : buf_alloc - held;
}

/* Whether the consumer has freed at least half the buffer since fwd_cnt was last sent to the peer. */
static inline int vsock_credit_update_due(uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t fwd_cnt_sent)
{
    return fwd_cnt - fwd_cnt_sent >= buf_alloc / 2;
}

/*
 * A connection's receive buffer is a byte ring of size bytes (a power of two dividing 2^32), indexed by the
 * free-running counters: bytes go in at rx_cnt and come out at fwd_cnt. These copy in or out across the
 * wrap; the caller has checked that len fits (vsock_rx_room) or is held (rx_cnt - fwd_cnt).
 */
static inline void vsock_ring_put(uint8_t *ring, uint32_t size, uint32_t rx_cnt, const uint8_t *src, uint32_t len)
{
    uint32_t at = rx_cnt & (size - 1);
    uint32_t first = size - at < len ? size - at : len;
    __builtin_memcpy(ring + at, src, first);
    __builtin_memcpy(ring, src + first, len - first);
}

static inline void vsock_ring_get(const uint8_t *ring, uint32_t size, uint32_t fwd_cnt, uint8_t *dst, uint32_t len)
{
    uint32_t at = fwd_cnt & (size - 1);
    uint32_t first = size - at < len ? size - at : len;
    __builtin_memcpy(dst, ring + at, first);
    __builtin_memcpy(dst + first, ring, len - first);
}

#endif
