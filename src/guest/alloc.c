#include "alloc.h"

#include "cpu.h"
#include "mem.h"

#define PAGE_SIZE 4096u

static struct spinlock alloc_lock;
static uintptr_t next_free;
static uintptr_t free_end;

void page_alloc_init(const struct boot_info *bi)
{
    uint64_t start = (bi->image_end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    uint64_t stacks = (uint64_t)bi->vcpu_count * ABI_STACK_SLOT_SIZE;
    uint64_t end = stacks < bi->ram_size ? bi->ram_size - stacks : 0;
    /* The module arena (boot info version 3) is the VMM's to map; the heap ends below it. */
    if (bi->version >= 3 && bi->module_arena_size != 0 && bi->module_arena_gpa < end)
        end = bi->module_arena_gpa;
    spin_lock(&alloc_lock);
    next_free = (uintptr_t)start;
    free_end = (uintptr_t)(end > start ? end : start);
    spin_unlock(&alloc_lock);
}

void *page_alloc(size_t size)
{
    if (size == 0 || size > SIZE_MAX - PAGE_SIZE)
        return NULL;
    size_t bytes = (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
    void *p = NULL;
    spin_lock(&alloc_lock);
    if (next_free != 0 && free_end - next_free >= bytes) {
        p = (void *)next_free;
        next_free += bytes;
    }
    spin_unlock(&alloc_lock);
    if (p)
        memset(p, 0, bytes);   /* RAM comes zeroed from the VMM, but nothing here relies on it */
    return p;
}

size_t page_alloc_free(void)
{
    spin_lock(&alloc_lock);
    size_t left = free_end - next_free;
    spin_unlock(&alloc_lock);
    return left;
}
