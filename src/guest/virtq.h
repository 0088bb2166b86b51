/*
 * Split virtqueues (virtio 1.2 §2.7), driver side. The ring layouts and the index arithmetic are pure
 * (inline here, checked on the host by check/vsock-check.c); virtq.c puts rings in guest RAM.
 *
 * Everything the device writes (used.idx, used entries, used.flags) is untrusted: virtq_next_used() refuses
 * a used.idx that runs ahead of what the driver made available, and the caller checks each id and length.
 */
#ifndef ENCLAVE_VIRTQ_H
#define ENCLAVE_VIRTQ_H

#include <stddef.h>
#include <stdint.h>

#define VIRTQ_DESC_F_NEXT      1u
#define VIRTQ_DESC_F_WRITE     2u
#define VIRTQ_DESC_F_INDIRECT  4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT  1u
#define VIRTQ_USED_F_NO_NOTIFY      1u

/* The largest queue the driver sets up; smaller if the device's QueueNumMax is. */
#define VIRTQ_SIZE_MAX 256u

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];   /* size entries (then used_event, unused: no EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];   /* size entries (then avail_event, unused) */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(offsetof(struct virtq_desc, len) == 8, "virtq_desc.len");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc.flags");
_Static_assert(offsetof(struct virtq_desc, next) == 14, "virtq_desc.next");
_Static_assert(offsetof(struct virtq_avail, idx) == 2, "virtq_avail.idx");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "virtq_avail.ring");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(offsetof(struct virtq_used, idx) == 2, "virtq_used.idx");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "virtq_used.ring");

/* The queue size to use for a device maximum: the largest power of two <= min(max, VIRTQ_SIZE_MAX); 0 if max is 0. */
static inline uint32_t virtq_size_for(uint32_t queue_num_max)
{
    uint32_t limit = queue_num_max < VIRTQ_SIZE_MAX ? queue_num_max : VIRTQ_SIZE_MAX;
    uint32_t size = 0;
    for (uint32_t s = 1; s != 0 && s <= limit; s <<= 1)
        size = s;
    return size;
}

/* Ring slot of a free-running 16-bit index; size is a power of two. */
static inline uint32_t virtq_slot(uint16_t index, uint32_t size)
{
    return index & (size - 1);
}

/*
 * How many used entries the device has published beyond last_used, or -1 if it claims more than the
 * driver has outstanding (a device bug or a hostile one: nothing it says can be used then). Indexes are
 * free-running 16-bit counters, so the difference is taken modulo 2^16.
 */
static inline int virtq_used_new(uint16_t used_idx, uint16_t last_used, uint32_t outstanding)
{
    uint16_t n = (uint16_t)(used_idx - last_used);
    return n <= outstanding ? (int)n : -1;
}

/* Byte offsets of the three rings in one allocation: avail right after the table, used on the next page. */
static inline size_t virtq_avail_offset(uint32_t size)
{
    return (size_t)16 * size;
}

static inline size_t virtq_used_offset(uint32_t size)
{
    return (virtq_avail_offset(size) + 6 + 2 * (size_t)size + 4095) & ~(size_t)4095;
}

static inline size_t virtq_total_bytes(uint32_t size)
{
    return virtq_used_offset(size) + 6 + 8 * (size_t)size;
}

struct virtq {
    uint32_t index;          /* queue number at the device (the value written to NOTIFY) */
    uint32_t size;           /* a power of two */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t avail_idx;      /* next avail slot to fill (ahead of avail->idx until published) */
    uint16_t published;      /* the avail->idx the device has seen */
    uint16_t last_used;      /* next used entry to take */
    uint32_t outstanding;    /* chains made available and not yet taken back from the used ring */
};

/* Allocates and zeroes rings for a queue of this size (a power of two). Returns 0, or -1 without memory. */
int virtq_alloc(struct virtq *q, uint32_t index, uint32_t size);

/* Forgets every chain: zeroed rings, indexes 0 (after a device reset, before the queue is set up again). */
void virtq_clear(struct virtq *q);

/* Makes the chain starting at descriptor head available (not yet visible to the device: virtq_kick). */
static inline void virtq_add(struct virtq *q, uint16_t head)
{
    q->avail->ring[virtq_slot(q->avail_idx, q->size)] = head;
    q->avail_idx++;
    q->outstanding++;
}

/*
 * Publishes what virtq_add made available and notifies the device if it asked for it, per
 * docs/guest-abi.md "Notifications": avail.idx (release), mfence, used.flags, NOTIFY only without NO_NOTIFY.
 * Returns 1 if it wrote NOTIFY.
 */
int virtq_kick(struct virtq *q);

/*
 * Takes the next used entry: 1 with *id and *len as the device wrote them (unchecked: the caller checks
 * them against what it posted), 0 if there is none, -1 if the used index is not believable.
 */
int virtq_next_used(struct virtq *q, uint32_t *id, uint32_t *len);

#endif
