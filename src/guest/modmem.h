/*
 * Module memory (docs/module-runtime.md, section 1): the arena the VMM maps page by page on request, with the
 * rights each page needs (W^X), and the runtime's allocator of arena ranges. Any vCPU.
 */
#ifndef ENCLAVE_MODMEM_H
#define ENCLAVE_MODMEM_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#define MODMEM_R 4u
#define MODMEM_W 2u
#define MODMEM_X 1u

/* Boot vCPU, once, after runtime_start: takes the arena from boot info (size 0: every alloc fails). */
void modmem_init(const struct boot_info *boot_info);

/* Bytes of arena in total / not allocated. */
uint64_t modmem_arena_size(void);
uint64_t modmem_free(void);

/*
 * Reserves length bytes (rounded up to 4 KiB) of arena addresses, none mapped yet: the GPA, or 0 when no
 * range that large is free (ranges freed before every vCPU flushed its TLB do not count yet).
 */
uint64_t modmem_reserve(uint64_t length);

/* Gives back a reserved range; its pages must all be unmapped (modmem_unmap) first. */
void modmem_release(uint64_t gpa, uint64_t length);

/*
 * MAP (copying length bytes from src, or zeros when src is NULL) / UNMAP (scrubbing) through port 0x507.
 * 0, or the VMM's MODMEM_E* status. tag = module id (0 for the runtime's own), label = its MRENCLAVE or NULL.
 */
uint32_t modmem_map(uint64_t dst, const void *src, uint64_t length, uint32_t rights, uint32_t tag,
                    const uint8_t label[48]);
uint32_t modmem_unmap(uint64_t dst, uint64_t length, uint32_t tag);

/* Every vCPU, from its idle loop: flushes its TLB (int $0x20) if an UNMAP happened since its last flush. */
void modmem_idle(uint32_t vcpu);

#endif
