#include "virtq.h"

#include "alloc.h"
#include "cpu.h"
#include "mem.h"
#include "ports.h"

int virtq_alloc(struct virtq *q, uint32_t index, uint32_t size)
{
    uint8_t *mem = page_alloc(virtq_total_bytes(size));
    if (!mem)
        return -1;
    q->index = index;
    q->size = size;
    q->desc = (struct virtq_desc *)mem;
    q->avail = (struct virtq_avail *)(mem + virtq_avail_offset(size));
    q->used = (struct virtq_used *)(mem + virtq_used_offset(size));
    virtq_clear(q);
    return 0;
}

void virtq_clear(struct virtq *q)
{
    memset(q->desc, 0, virtq_total_bytes(q->size));
    q->avail_idx = 0;
    q->published = 0;
    q->last_used = 0;
    q->outstanding = 0;
}

int virtq_kick(struct virtq *q)
{
    if (q->avail_idx == q->published)
        return 0;
    __atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
    q->published = q->avail_idx;
    /* The store above must be visible before the flag is read: the device clears the flag, fences and
     * re-reads avail.idx before it sleeps, so one of the two sides always sees the other. */
    cpu_mfence();
    uint16_t flags = __atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE);
    if (flags & VIRTQ_USED_F_NO_NOTIFY)
        return 0;
    port_notify(q->index);
    return 1;
}

int virtq_next_used(struct virtq *q, uint32_t *id, uint32_t *len)
{
    uint16_t used_idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
    int n = virtq_used_new(used_idx, q->last_used, q->outstanding);
    if (n <= 0)
        return n;
    const volatile struct virtq_used_elem *e = &q->used->ring[virtq_slot(q->last_used, q->size)];
    *id = e->id;
    *len = e->len;
    q->last_used++;
    q->outstanding--;
    return 1;
}
