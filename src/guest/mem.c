#include "mem.h"

#include <stdint.h>

/*
 * rep movsb / rep stosb: on every x86-64 since Ivy Bridge (ERMSB; also AMD Zen) these run at full cache
 * bandwidth for large sizes without SSE, which the runtime must not use (-mgeneral-regs-only). Payload
 * copies between vsock rings and connection buffers are the hot path. DF is clear (boot.S, and every
 * std here is paired with cld).
 */

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
    if (d - s >= n) {
        /* dst below src or no overlap (the unsigned difference wraps when dst < src): copy forwards. */
        return memcpy(dst, src, n);
    }
    if (n == 0)
        return dst;
    /* dst overlaps the end of src: copy backwards, from the last byte down. */
    void *dl = (uint8_t *)dst + n - 1;
    const void *sl = (const uint8_t *)src + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(dl), "+S"(sl), "+c"(n) : : "memory", "cc");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
