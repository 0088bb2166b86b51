/*
 * The trusted library's test module (docs/module-runtime.md section 6, "The trusted library's test module"):
 * built with libde_trts (target/enclave-sdk/lib) and SSE, one ECALL per part of the library. Every ECALL
 * returns an sgx_status_t and sets *out_len.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgx_tcrypto.h"
#include "sgx_trts.h"

/* 0 malloc: in u32 rounds (default 100); out u32 LE: blocks whose bytes did not survive (0 expected). */
static uint32_t ecall_malloc(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    uint32_t rounds = 100, broken = 0;
    if (in_len >= 4)
        memcpy(&rounds, in, 4);
    if (out_cap < 4)
        return SGX_ERROR_INVALID_PARAMETER;
    enum { N = 64 };
    uint8_t *blocks[N] = { 0 };
    size_t sizes[N] = { 0 };
    uint32_t seed = 12345;
    for (uint32_t r = 0; r < rounds; r++) {
        for (int i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t n = (seed >> 8) % (i % 8 == 0 ? 70000 : 500) + 1;
            for (size_t k = 0; blocks[i] && k < sizes[i]; k++)
                broken += blocks[i][k] != (uint8_t)(i + k);
            uint8_t *p = (seed & 1) ? realloc(blocks[i], n) : (free(blocks[i]), malloc(n));
            if (!p) {
                free(blocks[i]);
                blocks[i] = NULL;
                continue;
            }
            blocks[i] = p;
            sizes[i] = n;
            for (size_t k = 0; k < n; k++)
                p[k] = (uint8_t)(i + k);
        }
    }
    for (int i = 0; i < N; i++)
        free(blocks[i]);
    memcpy(out, &broken, 4);
    *out_len = 4;
    return SGX_SUCCESS;
}

/* 1 format: in two doubles x, y; out the string "%g|%.2f|%.3e|%d|%s|%x" of sqrt(x), pow(x, y), exp(y), floor(x),
 * "trts", 0xbeef, with its NUL. */
static uint32_t ecall_format(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    double v[2];
    if (in_len != sizeof v)
        return SGX_ERROR_INVALID_PARAMETER;
    memcpy(v, in, sizeof v);
    int n = snprintf(out, out_cap, "%g|%.2f|%.3e|%d|%s|%x", sqrt(v[0]), pow(v[0], v[1]), exp(v[1]), (int)floor(v[0]),
                     "trts", 0xbeefu);
    if (n < 0 || (size_t)n >= out_cap)
        return SGX_ERROR_INVALID_PARAMETER;
    *out_len = (size_t)n + 1;
    return SGX_SUCCESS;
}

/* 2 distance (SampleMath's): in four doubles x1, y1, x2, y2; out the double distance. */
static uint32_t ecall_distance(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    double p[4];
    if (in_len != sizeof p || out_cap < 8)
        return SGX_ERROR_INVALID_PARAMETER;
    memcpy(p, in, sizeof p);
    double dx = p[2] - p[0], dy = p[3] - p[1], d = sqrt(dx * dx + dy * dy);
    memcpy(out, &d, 8);
    *out_len = 8;
    return SGX_SUCCESS;
}

/* 3 sha256: out the SHA-256 of the in bytes. */
static uint32_t ecall_sha256(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    sgx_sha256_hash_t h;
    if (out_cap < sizeof h)
        return SGX_ERROR_INVALID_PARAMETER;
    uint32_t s = sgx_sha256_msg(in, (uint32_t)in_len, &h);
    if (s == SGX_SUCCESS) {
        memcpy(out, h, sizeof h);
        *out_len = sizeof h;
    }
    return s;
}

/* 4 range: out u32 flags: 1 in is within, 2 a stack local is within, 4 a heap block is within, 8 address 0x1000
 * is outside, 16 [in - 1 MiB, in + 1) is neither within nor outside (it straddles the start... or lies before). */
static uint32_t ecall_range(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    volatile int local = 1;
    if (out_cap < 4 || in_len == 0)
        return SGX_ERROR_INVALID_PARAMETER;
    void *block = malloc(100);
    uint32_t f = 0;
    f |= sgx_is_within_enclave(in, in_len) ? 1u : 0;
    f |= sgx_is_within_enclave((const void *)&local, sizeof local) ? 2u : 0;
    f |= block && sgx_is_within_enclave(block, 100) ? 4u : 0;
    f |= sgx_is_outside_enclave((const void *)0x1000, 16) ? 8u : 0;
    const char *wide = (const char *)in - (256u << 20);
    f |= !sgx_is_within_enclave(wide, (256u << 20) + 1) ? 16u : 0;
    free(block);
    memcpy(out, &f, 4);
    *out_len = 4;
    return SGX_SUCCESS;
}

/* 5 rand: out_cap random bytes (sgx_read_rand's status). */
static uint32_t ecall_rand(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len;
    uint32_t s = sgx_read_rand(out, out_cap);
    if (s == SGX_SUCCESS)
        *out_len = out_cap;
    return s;
}

/* 6 hold: in u32 bytes to malloc and keep until ECALL 7; OUT_OF_MEMORY if the heap has no room. */
static void *held[64];
static uint32_t ecall_hold(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out, (void)out_cap;
    uint32_t n;
    if (in_len != 4)
        return SGX_ERROR_INVALID_PARAMETER;
    memcpy(&n, in, 4);
    *out_len = 0;
    for (int i = 0; i < 64; i++) {
        if (!held[i]) {
            held[i] = malloc(n);
            if (!held[i])
                return SGX_ERROR_OUT_OF_MEMORY;
            memset(held[i], 0xa5, n);
            return SGX_SUCCESS;
        }
    }
    return SGX_ERROR_OUT_OF_MEMORY;
}

/* 7 release: frees what ECALL 6 holds. */
static uint32_t ecall_release(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap;
    for (int i = 0; i < 64; i++) {
        free(held[i]);
        held[i] = NULL;
    }
    *out_len = 0;
    return SGX_SUCCESS;
}

__attribute__((visibility("default"))) const struct {
    uint64_t count;
    uint32_t (*fn[8])(const void *, size_t, void *, size_t, size_t *);
} enclave_ecalls = {
    8,
    { ecall_malloc, ecall_format, ecall_distance, ecall_sha256, ecall_range, ecall_rand, ecall_hold, ecall_release },
};
