/*
 * Module memory (docs/module-runtime.md, section 1): the arena the VMM maps page by page on request, with the
 * rights each page needs (W^X), and the runtime's allocator of arena ranges. Any vCPU.
 *
 * A range given back with modmem_release is reserved again only once every vCPU has flushed its TLB since
 * (modmem_idle, from each vCPU's idle loop): until then another vCPU may still hold a stale translation of a
 * page that was unmapped. The bookkeeping lives in the runtime's .bss, never in the arena.
 */
#ifndef ENCLAVE_MODMEM_H
#define ENCLAVE_MODMEM_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* The rights of a MAP (MODMEM_R etc.) and the MODMEM_E* statuses are in abi.h. */

/* Boot vCPU, once; runtime_start calls it. Takes the arena from boot info (none before version 3: every reserve fails). */
void modmem_init(const struct boot_info *boot_info);

/* Bytes of arena in total / not reserved (ranges waiting for TLB flushes included). */
uint64_t modmem_arena_size(void);
uint64_t modmem_free(void);

/*
 * Reserves length bytes (rounded up to 4 KiB) of arena addresses, none mapped yet: the GPA, or 0 when no
 * range that large is free (ranges released before every vCPU flushed its TLB do not count yet).
 */
uint64_t modmem_reserve(uint64_t length);

/* Gives back a reserved range (length as reserved); its pages must all be unmapped (modmem_unmap) first. */
void modmem_release(uint64_t gpa, uint64_t length);

/*
 * MAP (copying length bytes from src, or zeros when src is NULL) / UNMAP (scrubbing) through port 0x507.
 * 0, or the VMM's MODMEM_E* status (MODMEM_E_REQUEST too when the VMM could not write one). src must be
 * user read/write RAM (heap, stack, .data/.bss, an arena range mapped W), not .rodata. tag = module id
 * (0 for the runtime's own), label = its MRENCLAVE or NULL. A successful UNMAP moves the flush generation.
 */
uint32_t modmem_map(uint64_t dst, const void *src, uint64_t length, uint32_t rights, uint32_t tag,
                    const uint8_t label[48]);
uint32_t modmem_unmap(uint64_t dst, uint64_t length, uint32_t tag);

/* Every vCPU, from its idle loop: flushes its TLB (int $0x20) if an UNMAP happened since its last flush. */
void modmem_idle(uint32_t vcpu);

/*
 * This vCPU is about to WAIT and calls modmem_idle before it touches module memory again: meanwhile it counts
 * as flushed, so a vCPU asleep in WAIT does not hold up the reuse of released ranges.
 */
void modmem_wait(uint32_t vcpu);

/* This vCPU's TLB, now (int $0x20: the VMM's ring-0 stub reloads CR3). */
void modmem_flush_tlb(void);

#endif
