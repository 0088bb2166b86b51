/* The "enclave" of the round-trip test: implementations of RoundTrip.edl's ECALLs, calling every OCALL. */
#include "RoundTrip_t.h"
#include <string.h>
#include <errno.h>

int64_t ecall_scalars(char c, unsigned char uc, short s, unsigned short us, int i, unsigned int ui, long l,
                      unsigned long ul, long long ll, unsigned long long ull, int8_t i8, uint8_t u8, int16_t i16,
                      uint16_t u16, int32_t i32, uint32_t u32, int64_t i64, uint64_t u64, size_t sz, wchar_t wc,
                      float f, double d, signed char sc, unsigned u)
{
    /* A weighted sum: a parameter shifted to another's place changes the result. */
    return (int64_t)c * 1 + uc * 2 + s * 3 + us * 4 + (int64_t)i * 5 + (int64_t)ui * 6 + l * 7 + (int64_t)ul * 8
        + ll * 9 + (int64_t)ull * 10 + i8 * 11 + u8 * 12 + i16 * 13 + u16 * 14 + (int64_t)i32 * 15
        + (int64_t)u32 * 16 + i64 * 17 + (int64_t)u64 * 18 + (int64_t)sz * 19 + (int64_t)wc * 20
        + (int64_t)(f * 21) + (int64_t)(d * 22) + sc * 23 + (int64_t)u * 24;
}

int ecall_distance2(struct point a, struct point b)
{
    return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y);
}

enum color ecall_next_color(enum color c)
{
    return c == RED ? GREEN : c == GREEN ? BLUE : RED;
}

union num ecall_union(union num n)
{
    union num r;
    r.f = (float)n.i / 2;
    return r;
}

static int void_calls;

void ecall_void(void)
{
    void_calls++;
}

int ecall_in(const int *arr, size_t n)
{
    int sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += arr[k] * (int)(k + 1);
    return sum;
}

int ecall_out(int *arr, size_t n)
{
    int dirty = 0;
    for (size_t k = 0; k < n; k++) {
        if (arr[k] != 0)
            dirty++;
        arr[k] = (int)(k * k);
    }
    return dirty;
}

void ecall_inout(uint8_t *buf, size_t len)
{
    for (size_t k = 0; k < len; k++)
        buf[k] ^= 0x5a;
}

size_t ecall_string(const char *s)
{
    return strlen(s);
}

void ecall_string_inout(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 32);
}

size_t ecall_wstring(const wchar_t *ws)
{
    size_t n = 0;
    while (ws[n])
        n++;
    return n * 1000 + (size_t)ws[0];
}

uint64_t ecall_user_check(void *p)
{
    return (uint64_t)(uintptr_t)p;
}

int ecall_array(int a[4], int b[2][3])
{
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            b[r][c] = a[r] * 10 + c;
    return a[0] + a[1] + a[2] + a[3];
}

void ecall_size_count(const void *p, size_t elem, size_t cnt, void *sum)
{
    uint64_t total = 0;
    for (size_t k = 0; k < elem * cnt; k++)
        total += ((const uint8_t *)p)[k];
    memcpy(sum, &total, 8);
}

int ecall_isptr(cblob_ptr b, blob_ptr o)
{
    o->tag = b->tag + 1;
    for (int k = 0; k < 12; k++)
        o->bytes[k] = (uint8_t)(b->bytes[k] * 2);
    return (int)sizeof(*o);
}

int ecall_nullable(const int *maybe, int *maybe_out)
{
    int r = maybe == NULL ? -1 : maybe[0] + maybe[1];
    if (maybe_out != NULL)
        *maybe_out = 77;
    return maybe_out == NULL ? r * 2 : r;
}

int ecall_common(int x)
{
    return x + 1000;
}

int ecall_named(int x)
{
    return x + 2000;
}

int ecall_private(void)
{
    return 42;
}

float ecall_default_size(const double *d, struct point *p)
{
    p->x += 1;
    p->y *= 2;
    return (float)*d;
}

/* Calls every OCALL; returns 0, or the number (1-based) of the first check that failed. */
int ecall_calls_ocalls(int x)
{
    long lr = 0;
    if (ocall_add(&lr, 40000000000L, x) != SGX_SUCCESS || lr != 40000000000L + x)
        return 1;
    uint8_t bytes[5] = {1, 2, 3, 4, 250};
    uint64_t sum = 0;
    if (ocall_in(bytes, sizeof bytes, &sum) != SGX_SUCCESS || sum != 260)
        return 2;
    int arr[6] = {9, 9, 9, 9, 9, 9};
    if (ocall_out(arr, 6) != SGX_SUCCESS || arr[0] != 0 || arr[5] != 15)
        return 3;
    int io[3] = {1, 2, 3};
    if (ocall_inout(io, 3) != SGX_SUCCESS || io[0] != -1 || io[2] != -3)
        return 4;
    char reply[16];
    if (ocall_string("hello", reply, sizeof reply) != SGX_SUCCESS || strcmp(reply, "host:hello") != 0)
        return 5;
    char s[] = "abc";
    /* The host writes no terminator back; the wrapper must put one. */
    if (ocall_string_inout(s) != SGX_SUCCESS || s[3] != 0 || s[0] != 'X' || s[2] != 'X')
        return 6;
    size_t wl = 0;
    if (ocall_wstring(&wl, L"wide") != SGX_SUCCESS || wl != 4)
        return 7;
    int er = 0;
    errno = 0;
    if (ocall_errno(&er, 34) != SGX_SUCCESS || er != -1 || errno != 34)
        return 8;
    uint64_t v = 0;
    if (ocall_user_check((void *)(uintptr_t)0x1234, &v) != SGX_SUCCESS || v != 0x1234)
        return 9;
    if (ocall_allow() != SGX_SUCCESS)
        return 10;
    struct point pt = {3, 4}, back = {0, 0};
    if (ocall_struct(&back, pt) != SGX_SUCCESS || back.x != 5 || back.y != 3)
        return 11;
    if (ocall_print("from the enclave") != SGX_SUCCESS)
        return 12;
    /* NULL [out] and NULL [in]: travel as NULL, not as empty buffers. */
    if (ocall_in(NULL, 0, NULL) != SGX_SUCCESS)
        return 13;
    /* A retval pointer may be NULL: the value is dropped. */
    if (ocall_add(NULL, 1, 2) != SGX_SUCCESS)
        return 14;
    /* count * sizeof(int) overflows: refused before anything is sent. */
    if (ocall_out(arr, (size_t)-1 / 2) != SGX_ERROR_INVALID_PARAMETER)
        return 15;
    return 0;
}

/* The host answers this OCALL with fewer bytes than promised (host.c's hostile mode). */
int ecall_hostile_ocall(void)
{
    int arr[4] = {7, 7, 7, 7};
    sgx_status_t st = ocall_out(arr, 4);
    /* Nothing of a short answer may land in the caller's buffer. */
    if (arr[0] != 7 || arr[3] != 7)
        return -1;
    return (int)st;
}
