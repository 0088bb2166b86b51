/*
 * The boot-time page allocator: hands out the free RAM between the loaded image and the module arena
 * (boot_info image_end up to module_arena_gpa; without an arena up to ram_size - vcpu_count * 64 KiB, the
 * stacks). Allocations are never freed: what the runtime allocates (virtqueues, vsock buffers) lives as
 * long as the enclave, and what it reuses it keeps in pools of its own.
 */
#ifndef ENCLAVE_ALLOC_H
#define ENCLAVE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* Boot vCPU, once, before any page_alloc. */
void page_alloc_init(const struct boot_info *boot_info);

/*
 * size bytes (rounded up to whole 4 KiB pages), page aligned, zeroed. NULL when the free RAM is exhausted
 * (or before page_alloc_init). Any vCPU.
 */
void *page_alloc(size_t size);

/* Bytes still free. */
size_t page_alloc_free(void);

#endif
