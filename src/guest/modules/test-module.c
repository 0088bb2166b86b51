/*
 * The test module (docs/module-format.md, docs/module-runtime.md "The test module's ECALLs"): a freestanding
 * PIC shared object that exercises each relocation the loader applies and gives the tests one ECALL per kind
 * of call. The pointer tables need R_X86_64_RELATIVE (their functions are static: a pointer to a global,
 * preemptible function would be R_X86_64_64, which the loader refuses), reading enclave_api_version through
 * the GOT needs R_X86_64_GLOB_DAT, calling the runtime through the PLT needs R_X86_64_JUMP_SLOT.
 * ecall_answer's constant is a byte pattern tests look for in the code to flip.
 */
#include <stddef.h>
#include <stdint.h>

extern int enclave_api_version;
extern long enclave_api_print(const char *text, unsigned long length);
extern uint32_t enclave_ocall(uint32_t index, const void *in, size_t in_len, void *out, size_t out_cap,
                              size_t *out_len);
extern size_t strlen(const char *s);
extern void *memcpy(void *dst, const void *src, size_t n);

#define SUCCESS           0u
#define INVALID_PARAMETER 2u

static const char *const greetings[] = {"hello", "module"};

long ecall_answer(void)
{
    return 0x5eed1234;
}

long ecall_greet(int which)
{
    const char *g = greetings[which & 1];
    unsigned long n = 0;
    while (g[n] != 0) {
        n++;
    }
    return enclave_api_print(g, n) + enclave_api_version;
}

/* 0: nothing in, nothing out. */
static uint32_t ecall_empty(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap;
    *out_len = 0;
    return SUCCESS;
}

/* 1: out = in (INVALID_PARAMETER if out_cap < in_len). */
static uint32_t ecall_echo(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (in_len > out_cap)
        return INVALID_PARAMETER;
    memcpy(out, in, in_len);
    *out_len = in_len;
    return SUCCESS;
}

/* 2: the sum of the in bytes, as a little-endian u64 (out_cap >= 8). */
static uint32_t ecall_sum(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (out_cap < 8)
        return INVALID_PARAMETER;
    const uint8_t *p = in;
    uint64_t sum = 0;
    for (size_t i = 0; i < in_len; i++)
        sum += p[i];
    memcpy(out, &sum, 8);
    *out_len = 8;
    return SUCCESS;
}

/* 3: no in bytes (else INVALID_PARAMETER); fills all of out with byte i = (uint8_t)(i * 7 + (i >> 12)). */
static uint32_t ecall_fill(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    if (in_len != 0)
        return INVALID_PARAMETER;
    uint8_t *p = out;
    for (size_t i = 0; i < out_cap; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 12));
    *out_len = out_cap;
    return SUCCESS;
}

/* 4: out[i] = ~in[in_len - 1 - i] (out_cap >= in_len). */
static uint32_t ecall_transform(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (in_len > out_cap)
        return INVALID_PARAMETER;
    const uint8_t *s = in;
    uint8_t *d = out;
    for (size_t i = 0; i < in_len; i++)
        d[i] = (uint8_t)~s[in_len - 1 - i];
    *out_len = in_len;
    return SUCCESS;
}

/* 5: in is a NUL-terminated string (its last byte 0, else INVALID_PARAMETER); out is it in ASCII upper case
 * up to the first NUL, with the NUL (out_cap >= that length + 1). Uses the runtime's strlen and memcpy. */
static uint32_t ecall_string(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    const char *s = in;
    if (in_len == 0 || s[in_len - 1] != 0)
        return INVALID_PARAMETER;
    size_t n = strlen(s) + 1;
    if (n > out_cap)
        return INVALID_PARAMETER;
    char *d = out;
    memcpy(d, s, n);
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 'a' && d[i] <= 'z')
            d[i] = (char)(d[i] - 'a' + 'A');
    *out_len = n;
    return SUCCESS;
}

/* 6: the addresses the call sees, like a user_check pointer: u64 in, u64 out, u64 a local on its stack
 * (out_cap >= 24). */
static uint32_t ecall_addresses(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in_len;
    if (out_cap < 24)
        return INVALID_PARAMETER;
    volatile uint64_t local = 0;
    uint64_t a[3] = { (uint64_t)(uintptr_t)in, (uint64_t)(uintptr_t)out, (uint64_t)(uintptr_t)&local };
    memcpy(out, a, sizeof a);
    *out_len = sizeof a;
    return SUCCESS;
}

/* 7: OCALL 0 with the in bytes and this call's out buffer; returns the OCALL's status and its out bytes. */
static uint32_t ecall_ocall(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    size_t n = 0;
    uint32_t status = enclave_ocall(0, in, in_len, out, out_cap, &n);
    *out_len = n;
    return status;
}

/* 8: reads address 0: the enclave crashes (docs/module-runtime.md, section 5). */
static uint32_t ecall_fault(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap;
    *out_len = 0;
    return *(volatile uint32_t *)(uintptr_t)(in_len >> 32);   /* 0 for any in_len a host can send */
}

/* 9: spins for the u32 count in its first 4 in bytes (1000000 without them) pause instructions. */
static uint32_t ecall_spin(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out, (void)out_cap;
    uint32_t count = 1000000;
    if (in_len >= 4)
        memcpy(&count, in, 4);
    for (uint32_t i = 0; i < count; i++)
        __asm__ volatile("pause" ::: "memory");
    *out_len = 0;
    return SUCCESS;
}

/* 10: claims one byte more than out_cap: the runtime answers UNEXPECTED. */
static uint32_t ecall_liar(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out;
    *out_len = out_cap + 1;
    return SUCCESS;
}

typedef uint32_t (*ecall_fn)(const void *, size_t, void *, size_t, size_t *);

const struct {
    uint64_t count;
    ecall_fn fn[11];
} enclave_ecalls = {
    11,
    { ecall_empty, ecall_echo, ecall_sum, ecall_fill, ecall_transform, ecall_string, ecall_addresses, ecall_ocall,
      ecall_fault, ecall_spin, ecall_liar },
};
