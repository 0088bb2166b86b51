/*
 * MMIO accesses. Each is one plain mov that KVM can decode and hand to the VMM (KVM_EXIT_MMIO): inline asm,
 * so the compiler can neither merge, split nor reorder them.
 */
#ifndef ENCLAVE_MMIO_H
#define ENCLAVE_MMIO_H

#include <stdint.h>

#ifdef ENCLAVE_HOST_CHECK
/* Host-side checks (check/vsock-sim.c) run the driver against a simulated device: accesses go to it. */
uint32_t host_check_mmio_read32(uintptr_t gpa);
void host_check_mmio_write32(uintptr_t gpa, uint32_t v);
static inline uint32_t mmio_read32(uintptr_t gpa)
{
    return host_check_mmio_read32(gpa);
}

static inline void mmio_write32(uintptr_t gpa, uint32_t v)
{
    host_check_mmio_write32(gpa, v);
}
#else
static inline uint32_t mmio_read32(uintptr_t gpa)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(gpa) : "memory");
    return v;
}

static inline void mmio_write32(uintptr_t gpa, uint32_t v)
{
    __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(gpa) : "memory");
}
#endif

#endif
