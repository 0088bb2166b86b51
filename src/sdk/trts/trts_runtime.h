/*
 * What libde_trts imports from the enclave runtime's API table, version 2 (docs/module-runtime.md, section 2).
 * Host checks (src/sdk/check) link simulations of these instead.
 */
#ifndef TRTS_RUNTIME_H
#define TRTS_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

void *enclave_heap_alloc(size_t len);
int enclave_heap_free(void *p);
int enclave_module_range(uint64_t *base, uint64_t *size);

/* A test-and-set lock for the library's shared state (the heap): held for a few hundred instructions. */
struct trts_lock {
    int taken;
};

static inline void trts_lock(struct trts_lock *l)
{
    while (__atomic_exchange_n(&l->taken, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->taken, __ATOMIC_RELAXED))
            __asm__ volatile("pause");
}

static inline void trts_unlock(struct trts_lock *l)
{
    __atomic_store_n(&l->taken, 0, __ATOMIC_RELEASE);
}

#endif
