#include "modmem.h"

#include "console.h"
#include "cpu.h"
#include "mem.h"
#include "ports.h"

#define PAGE_SIZE 4096u
/*
 * Free ranges kept apart at most: module ranges are large and coalesce, so this is far more than an arena of
 * 64 MiB in a handful of modules needs. A release that would need one more is lost (said on the console).
 */
#define MAX_FREE_RANGES 256u
#define MAX_VCPUS 256u
/* What the runtime puts in status before the `out`: still there afterwards = the VMM wrote nothing. */
#define STATUS_UNWRITTEN 0xFFFFFFFFu

/*
 * A free range of arena addresses. gen: the flush generation at its release; it may be reserved once every
 * vCPU has flushed at least that generation (0: ripe).
 */
struct free_range {
    uint64_t start;
    uint64_t length;
    uint64_t gen;
};

static struct spinlock lock;
static struct free_range ranges[MAX_FREE_RANGES];   /* sorted by start, never overlapping */
static uint32_t range_count;
static uint64_t arena_gpa, arena_size, free_bytes;
static uint32_t vcpus;

/* Moved by every successful UNMAP; each vCPU records the value it last flushed at. */
static uint64_t generation;
static uint64_t flushed[MAX_VCPUS];
/* Set while a vCPU is in (or about to enter) WAIT: it counts as flushed, since it flushes before anything else. */
static uint8_t waiting[MAX_VCPUS];

void modmem_init(const struct boot_info *bi)
{
    spin_lock(&lock);
    vcpus = bi->vcpu_count < MAX_VCPUS ? bi->vcpu_count : MAX_VCPUS;
    if (bi->version >= 3 && bi->module_arena_size != 0) {
        arena_gpa = bi->module_arena_gpa;
        arena_size = bi->module_arena_size;
        ranges[0] = (struct free_range){arena_gpa, arena_size, 0};
        range_count = 1;
        free_bytes = arena_size;
    }
    spin_unlock(&lock);
}

uint64_t modmem_arena_size(void)
{
    return arena_size;
}

uint64_t modmem_free(void)
{
    spin_lock(&lock);
    uint64_t bytes = free_bytes;
    spin_unlock(&lock);
    return bytes;
}

#ifdef ENCLAVE_HOST_CHECK
/* check/modmem-check.c plays the VMM and counts flushes. */
uint32_t host_check_modmem(struct modmem_request *req);
void host_check_flush(void);
#endif

void modmem_flush_tlb(void)
{
#ifdef ENCLAVE_HOST_CHECK
    host_check_flush();
#else
    __asm__ volatile("int $0x20" ::: "memory");
#endif
}

void modmem_idle(uint32_t vcpu)
{
    if (vcpu >= MAX_VCPUS)
        return;
    /*
     * Back from WAIT: clear the flag with a full barrier before reading the generation. A releaser that still
     * saw the flag moved the generation before that read, so this vCPU flushes.
     */
    if (__atomic_load_n(&waiting[vcpu], __ATOMIC_RELAXED))
        __atomic_exchange_n(&waiting[vcpu], 0, __ATOMIC_SEQ_CST);
    uint64_t g = __atomic_load_n(&generation, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&flushed[vcpu], __ATOMIC_RELAXED) == g)
        return;
    /* g was read before the flush: every UNMAP that moved the generation up to g is covered by it. */
    modmem_flush_tlb();
    __atomic_store_n(&flushed[vcpu], g, __ATOMIC_RELEASE);
}

void modmem_wait(uint32_t vcpu)
{
    if (vcpu < MAX_VCPUS)
        __atomic_store_n(&waiting[vcpu], 1, __ATOMIC_RELEASE);
}

/* The generation every vCPU has flushed at (one in WAIT counts as flushed: it flushes before anything else). */
static uint64_t flushed_by_all(void)
{
    uint64_t low = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < vcpus; i++) {
        if (__atomic_load_n(&waiting[i], __ATOMIC_SEQ_CST))
            continue;
        uint64_t f = __atomic_load_n(&flushed[i], __ATOMIC_ACQUIRE);
        if (f < low)
            low = f;
    }
    return low;
}

static void remove_at(uint32_t i)
{
    memmove(&ranges[i], &ranges[i + 1], (range_count - i - 1) * sizeof ranges[0]);
    range_count--;
}

/* Lock held: ranges every vCPU has flushed for become ripe; neighbours of the same generation merge. */
static void ripen_and_merge(void)
{
    uint64_t flushed_gen = flushed_by_all();
    for (uint32_t i = 0; i < range_count; i++) {
        if (ranges[i].gen <= flushed_gen)
            ranges[i].gen = 0;
    }
    for (uint32_t i = 0; i + 1 < range_count;) {
        struct free_range *a = &ranges[i], *b = &ranges[i + 1];
        if (a->start + a->length == b->start && a->gen == b->gen) {
            a->length += b->length;
            remove_at(i + 1);
        } else {
            i++;
        }
    }
}

static uint64_t round_up(uint64_t length)
{
    return length > UINT64_MAX - (PAGE_SIZE - 1) ? 0 : (length + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

uint64_t modmem_reserve(uint64_t length)
{
    uint64_t bytes = round_up(length);
    if (bytes == 0)
        return 0;
    uint64_t gpa = 0;
    spin_lock(&lock);
    ripen_and_merge();
    for (uint32_t i = 0; i < range_count; i++) {
        struct free_range *r = &ranges[i];
        if (r->gen != 0 || r->length < bytes)
            continue;
        gpa = r->start;
        r->start += bytes;
        r->length -= bytes;
        if (r->length == 0)
            remove_at(i);
        free_bytes -= bytes;
        break;
    }
    spin_unlock(&lock);
    return gpa;
}

void modmem_release(uint64_t gpa, uint64_t length)
{
    uint64_t bytes = round_up(length);
    if (bytes == 0 || gpa % PAGE_SIZE || gpa < arena_gpa || gpa - arena_gpa >= arena_size
        || bytes > arena_size - (gpa - arena_gpa)) {
        console_printf("modmem: release of 0x%lx + 0x%lx outside the arena ignored\n", gpa, length);
        return;
    }
    spin_lock(&lock);
    uint64_t gen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
    uint32_t at = 0;
    while (at < range_count && ranges[at].start < gpa)
        at++;
    int overlaps = (at > 0 && ranges[at - 1].start + ranges[at - 1].length > gpa)
                   || (at < range_count && ranges[at].start < gpa + bytes);
    if (overlaps || range_count == MAX_FREE_RANGES) {
        spin_unlock(&lock);
        console_printf("modmem: release of 0x%lx + 0x%lx %s; the range is lost\n", gpa, length,
                       overlaps ? "overlaps a free range" : "finds the free list full");
        return;
    }
    memmove(&ranges[at + 1], &ranges[at], (range_count - at) * sizeof ranges[0]);
    ranges[at] = (struct free_range){gpa, bytes, gen};
    range_count++;
    free_bytes += bytes;
    ripen_and_merge();
    spin_unlock(&lock);
}

static uint32_t request(struct modmem_request *req)
{
    req->status = STATUS_UNWRITTEN;
#ifdef ENCLAVE_HOST_CHECK
    host_check_modmem(req);
#else
    outl(PORT_MODMEM, (uint32_t)(uintptr_t)req);
#endif
    uint32_t status = __atomic_load_n(&req->status, __ATOMIC_ACQUIRE);
    return status == STATUS_UNWRITTEN ? MODMEM_E_REQUEST : status;
}

uint32_t modmem_map(uint64_t dst, const void *src, uint64_t length, uint32_t rights, uint32_t tag,
                    const uint8_t label[48])
{
    struct modmem_request req = {
        .op = MODMEM_OP_MAP, .rights = rights, .dst = dst, .length = length, .src = (uint64_t)(uintptr_t)src,
        .tag = tag,
    };
    if (label)
        memcpy(req.label, label, MODMEM_LABEL_SIZE);
    return request(&req);
}

uint32_t modmem_unmap(uint64_t dst, uint64_t length, uint32_t tag)
{
    struct modmem_request req = {.op = MODMEM_OP_UNMAP, .dst = dst, .length = length, .tag = tag};
    uint32_t status = request(&req);
    if (status == 0)
        __atomic_add_fetch(&generation, 1, __ATOMIC_ACQ_REL);
    return status;
}
