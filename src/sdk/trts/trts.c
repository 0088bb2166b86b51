/* sgx_trts.h (the module's range, RDRAND), errno, abs, abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sgx_trts.h"
#include "trts_runtime.h"

static int module_errno;

int *__errno_location(void)
{
    return &module_errno;
}

/* The module's range never changes while it is loaded (and this .bss starts zero at each load). */
static uint64_t range_base, range_end;   /* end inclusive; 0 until known */

static int module_range(uint64_t *base, uint64_t *end)
{
    uint64_t e = __atomic_load_n(&range_end, __ATOMIC_ACQUIRE);
    if (e == 0) {
        uint64_t b, size;
        if (enclave_module_range(&b, &size) != 0 || size == 0)
            return -1;
        __atomic_store_n(&range_base, b, __ATOMIC_RELAXED);
        __atomic_store_n(&range_end, b + size - 1, __ATOMIC_RELEASE);
        e = b + size - 1;
    }
    *base = __atomic_load_n(&range_base, __ATOMIC_RELAXED);
    *end = e;
    return 0;
}

/* [start, last] of a buffer, as SGX counts it (size 0 is the address alone); -1 if it wraps. */
static int span(const void *addr, size_t size, uint64_t *start, uint64_t *last)
{
    *start = (uintptr_t)addr;
    *last = *start + (size ? size - 1 : 0);
    return *last < *start ? -1 : 0;
}

int sgx_is_within_enclave(const void *addr, size_t size)
{
    uint64_t base, end, start, last;
    if (span(addr, size, &start, &last) != 0 || module_range(&base, &end) != 0)
        return 0;
    return start >= base && last <= end;
}

int sgx_is_outside_enclave(const void *addr, size_t size)
{
    uint64_t base, end, start, last;
    if (span(addr, size, &start, &last) != 0 || module_range(&base, &end) != 0)
        return 0;
    return last < base || start > end;
}

static int have_rdrand(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (c >> 30) & 1;
}

/* One 64-bit draw; Intel's guidance is to retry a failing RDRAND up to 10 times. */
static int rdrand64(uint64_t *v)
{
    for (int i = 0; i < 10; i++) {
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok)
            return 0;
    }
    return -1;
}

sgx_status_t sgx_read_rand(unsigned char *rand, size_t length)
{
    if (rand == NULL || length == 0)
        return SGX_ERROR_INVALID_PARAMETER;
    if (!have_rdrand())
        return SGX_ERROR_UNEXPECTED;
    while (length > 0) {
        uint64_t v;
        if (rdrand64(&v) != 0)
            return SGX_ERROR_UNEXPECTED;
        size_t n = length < 8 ? length : 8;
        for (size_t i = 0; i < n; i++)
            rand[i] = (unsigned char)(v >> (8 * i));
        rand += n;
        length -= n;
    }
    return SGX_SUCCESS;
}

int abs(int x)
{
    return x < 0 ? -x : x;
}

long labs(long x)
{
    return x < 0 ? -x : x;
}

long long llabs(long long x)
{
    return x < 0 ? -x : x;
}

void abort(void)
{
    for (;;)
        __asm__ volatile("ud2");
}
