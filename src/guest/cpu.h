/* The few CPU instructions the runtime needs, all usable at CPL 3. */
#ifndef ENCLAVE_CPU_H
#define ENCLAVE_CPU_H

#include <stdint.h>

/* Spin-wait hint; also keeps the compiler from collapsing polling loops. */
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* CR4.TSD is clear (ABI), so rdtsc works in ring 3 without a VM exit. */
static inline uint64_t cpu_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Never returns and never exits to the VMM: what a vCPU does once it has nothing left to say. */
__attribute__((noreturn)) static inline void cpu_spin_forever(void)
{
    for (;;)
        cpu_relax();
}

/*
 * A ticket lock for the few things vCPUs share (console lines, the panic message). Fair on purpose: a
 * plain test-and-set lock let one vCPU print line after line while another spun for its turn.
 */
struct spinlock {
    uint32_t next;
    uint32_t serving;
};

static inline void spin_lock(struct spinlock *l)
{
    uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

/*
 * Takes the lock only if no one holds it or waits for it: the ticket taken is the one being served.
 * Returns nonzero if the lock is now held.
 */
static inline int spin_trylock(struct spinlock *l)
{
    uint32_t serving = __atomic_load_n(&l->serving, __ATOMIC_ACQUIRE);
    uint32_t expected = serving;
    return __atomic_compare_exchange_n(&l->next, &expected, serving + 1, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

/* A full fence: orders an earlier store before a later load (the notification handshakes need it). */
static inline void cpu_mfence(void)
{
    __asm__ volatile("mfence" ::: "memory");
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->serving, __atomic_load_n(&l->serving, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

#endif
