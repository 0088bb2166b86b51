/*
 * sgx_edger8r.h: what the bridges `enclavectl sdk edger8r` generates need, on both sides of the enclave
 * boundary. The byte layout the helpers below read and write is docs/sdk-edl.md "Marshalling"; the ECALL and
 * OCALL entry points are docs/module-runtime.md section 2.
 *
 * Every item of a marshalled buffer starts at an offset that is a multiple of 8 (zero padding between
 * items), so that a buffer handed to a trusted function is aligned for any C type; the runtime passes
 * `in` and `out` 8-byte aligned.
 */
#ifndef SGX_EDGER8R_H_
#define SGX_EDGER8R_H_

#include <stddef.h>
#include <stdint.h>
#include "sgx_error.h"
#include "sgx_eid.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SGX_CDECL
#define SGX_CDECL
#endif
#ifndef SGX_EXTERNC
#define SGX_EXTERNC
#endif

/* Length prefix of a NULL pointer: no bytes follow, the callee passes NULL. */
#define EDL_NULL_LEN UINT64_MAX

/* An ECALL bridge in the module (an entry of enclave_ecalls) and an OCALL bridge in the application. */
typedef uint32_t (*sgx_ecall_bridge_t)(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
typedef sgx_status_t (*sgx_ocall_bridge_t)(const void *in, size_t in_len, void *out, size_t out_cap,
                                           size_t *out_len);

/* The OCALL table an untrusted bridge passes to sgx_ecall: fn[index] answers OCALL index. */
typedef struct {
    size_t count;
    sgx_ocall_bridge_t fn[1];
} sgx_ocall_table_t;

/*
 * Untrusted runtime (libde_urts): run ECALL `index` of enclave `eid` with `in_len` bytes of `in`, accepting
 * up to `out_cap` bytes into `out` (*out_len says how many came back). OCALLs the ECALL makes meanwhile are
 * answered on the calling thread by ocall_table->fn[index]. Returns the ECALL's status.
 */
sgx_status_t sgx_ecall(sgx_enclave_id_t eid, int index, const void *ocall_table, const void *in, size_t in_len,
                       void *out, size_t out_cap, size_t *out_len);

/* Trusted runtime (the enclave's API table): OCALL `index`; blocks until the host answers. */
uint32_t enclave_ocall(uint32_t index, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* Overflow-checked size arithmetic: 0 on overflow. */
static inline int edl_mul(uint64_t a, uint64_t b, size_t *r)
{
    uint64_t p;
    if (__builtin_mul_overflow(a, b, &p) || p > SIZE_MAX)
        return 0;
    *r = (size_t)p;
    return 1;
}

/* Reserves `n` bytes at the next multiple of 8 after *acc. */
static inline int edl_grow(size_t *acc, size_t n)
{
    size_t a;
    if (__builtin_add_overflow(*acc, (size_t)7, &a))
        return 0;
    a &= ~(size_t)7;
    return !__builtin_add_overflow(a, n, acc);
}

/*
 * A cursor over a marshalled buffer: each item is taken at the next 8-aligned offset. Running past the end
 * sets `bad` (and takes nothing), so a bridge checks once after all its items.
 */
struct edl_cursor {
    uint8_t *base;
    size_t len;
    size_t off;
    int bad;
};

/* The next `n` bytes, or NULL (and `bad` set) when the buffer is too short. */
static inline void *edl_take(struct edl_cursor *c, size_t n)
{
    size_t at = c->off;
    if (c->bad || !edl_grow(&at, 0) || at > c->len || n > c->len - at) {
        c->bad = 1;
        return NULL;
    }
    c->off = at + n;
    return c->base + at;
}

static inline void edl_get(struct edl_cursor *c, void *dst, size_t n)
{
    const void *p = edl_take(c, n);
    if (p != NULL && n != 0)
        __builtin_memcpy(dst, p, n);
}

static inline void edl_put(struct edl_cursor *c, const void *src, size_t n)
{
    void *p = edl_take(c, n);
    if (p != NULL && n != 0)
        __builtin_memcpy(p, src, n);
}

static inline void edl_put_u64(struct edl_cursor *c, uint64_t v)
{
    edl_put(c, &v, sizeof v);
}

static inline int edl_aligned(const void *p)
{
    return ((uintptr_t)p & 7) == 0;
}

static inline size_t edl_wcslen(const wchar_t *s)
{
    size_t n = 0;
    while (s[n] != 0)
        n++;
    return n;
}

#ifdef __cplusplus
}
#endif

#endif
