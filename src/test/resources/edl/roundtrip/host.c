/*
 * The application half of the round-trip test, plus a fake transport: sgx_ecall copies the buffers (as the
 * runtime does into enclave memory) and calls the module's enclave_ecalls entry; enclave_ocall calls this
 * application's OCALL table. The second half calls the trusted bridges directly with hostile buffers.
 */
#define _GNU_SOURCE
#include "RoundTrip_u.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

typedef struct {
    uint64_t count;
    sgx_ecall_bridge_t fn[];
} ecall_table_t;

static const ecall_table_t *ecalls;
static const sgx_ocall_table_t *current_ocalls;
static int hostile_ocall;
static int checks, fails;

#define CHECK(cond)                                                          \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
            fails++;                                                         \
        }                                                                    \
    } while (0)

/* Runs a bridge on private copies: `in` as received, `out` full of garbage the bridge must not leak. */
static uint32_t run_bridge(uint32_t (*fn)(const void *, size_t, void *, size_t, size_t *), const void *in,
                           size_t in_len, void *out, size_t out_cap, size_t *out_len, int short_answer)
{
    uint8_t *own_in = malloc(in_len ? in_len : 1);
    uint8_t *own_out = malloc(out_cap ? out_cap : 1);
    size_t n = 0;
    memcpy(own_in, in, in_len);
    memset(own_out, 0xAA, out_cap);
    uint32_t st = fn(own_in, in_len, own_out, out_cap, &n);
    if (st == SGX_SUCCESS) {
        if (n > out_cap) {
            st = SGX_ERROR_UNEXPECTED;
        } else {
            /* Every byte the callee reports must have been written on purpose: no 0xAA garbage. */
            for (size_t k = 0; k < n; k++)
                if (own_out[k] == 0xAA && !short_answer) {
                    printf("FAIL garbage byte %zu of %zu left in out\n", k, n);
                    fails++;
                    break;
                }
            if (short_answer && n > 0)
                n--;
            memcpy(out, own_out, n);
            *out_len = n;
        }
    }
    free(own_in);
    free(own_out);
    return st;
}

sgx_status_t sgx_ecall(sgx_enclave_id_t eid, int index, const void *ocall_table, const void *in, size_t in_len,
                       void *out, size_t out_cap, size_t *out_len)
{
    if (eid != 1)
        return SGX_ERROR_INVALID_ENCLAVE_ID;
    if (index < 0 || (uint64_t)index >= ecalls->count)
        return SGX_ERROR_INVALID_FUNCTION;
    const sgx_ocall_table_t *saved = current_ocalls;
    current_ocalls = ocall_table;
    uint32_t st = run_bridge(ecalls->fn[index], in, in_len, out, out_cap, out_len, 0);
    current_ocalls = saved;
    return (sgx_status_t)st;
}

static uint32_t ocall_adapter_fn(sgx_ocall_bridge_t fn, const void *in, size_t in_len, void *out, size_t out_cap,
                                 size_t *out_len)
{
    return run_bridge((uint32_t (*)(const void *, size_t, void *, size_t, size_t *))fn, in, in_len, out, out_cap,
                      out_len, hostile_ocall);
}

__attribute__((visibility("default")))
uint32_t enclave_ocall(uint32_t index, const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    if (current_ocalls == NULL || index >= current_ocalls->count)
        return SGX_ERROR_INVALID_FUNCTION;
    return ocall_adapter_fn(current_ocalls->fn[index], in, in_len, out, out_cap, out_len);
}

/* ---- OCALL implementations ---- */
long ocall_add(long a, int b) { return a + b; }

void ocall_in(const uint8_t *buf, size_t len, uint64_t *sum)
{
    if (buf == NULL || sum == NULL) {
        CHECK(buf == NULL && sum == NULL && len == 0);
        return;
    }
    *sum = 0;
    for (size_t k = 0; k < len; k++)
        *sum += buf[k];
}

void ocall_out(int *arr, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        CHECK(arr[k] == 0);
        arr[k] = (int)(k * 3);
    }
}

void ocall_inout(int *arr, size_t n)
{
    for (size_t k = 0; k < n; k++)
        arr[k] = -arr[k];
}

void ocall_string(const char *s, char *reply, size_t cap)
{
    snprintf(reply, cap, "host:%s", s);
}

void ocall_string_inout(char *s)
{
    size_t n = strlen(s);
    memset(s, 'X', n + 1); /* overwrites the terminator: the enclave's wrapper must restore it */
}

size_t ocall_wstring(const wchar_t *ws) { return wcslen(ws); }

int ocall_errno(int e)
{
    errno = e;
    return -1;
}

void ocall_user_check(void *p, uint64_t *v) { *v = (uint64_t)(uintptr_t)p; }

static int allow_calls;
void ocall_allow(void)
{
    allow_calls++;
    /* A private ECALL from inside an OCALL: nested ECALLs are refused by this runtime. */
    int r = 0;
    CHECK(ecall_private(1, &r) == SGX_ERROR_ECALL_NOT_ALLOWED);
}

struct point ocall_struct(struct point p)
{
    struct point r = {p.y + 1, p.x};
    return r;
}

static char printed[64];
void ocall_print(const char *msg) { snprintf(printed, sizeof printed, "%s", msg); }

/* ---- hostile inputs straight into the trusted bridges ---- */
enum { E_IN = 5, E_OUT = 6, E_STRING = 8, E_WSTRING = 10, E_ARRAY = 12, E_SIZE_COUNT = 13, E_PRIVATE = 19 };

static uint32_t raw(int index, const void *in, size_t in_len, size_t out_cap, size_t *out_len)
{
    static _Alignas(16) uint8_t inbuf[4096], outbuf[4096];
    size_t dummy;
    memcpy(inbuf, in, in_len);
    return ecalls->fn[index](inbuf, in_len, outbuf, out_cap, out_len ? out_len : &dummy);
}

static void hostile(void)
{
    _Alignas(8) uint8_t b[256];
    struct edl_cursor c;
    size_t n;

    /* ecall_in: a well-formed call first, so the refusals below are refusals of the one thing changed. */
    int arr[2] = {3, 4};
    size_t cnt = 2;
#define IN_CALL(LEN_PREFIX, COUNT)                                \
    memset(b, 0, sizeof b);                                       \
    c = (struct edl_cursor){b, sizeof b, 0, 0};                   \
    edl_put_u64(&c, (LEN_PREFIX));                                \
    edl_put(&c, arr, 8);                                          \
    cnt = (COUNT);                                                \
    edl_put(&c, &cnt, sizeof cnt);
    IN_CALL(8, 2);
    CHECK(raw(E_IN, b, c.off, 8, &n) == SGX_SUCCESS && n == sizeof(int));
    /* length prefix says 8 bytes, count says 3 ints */
    IN_CALL(8, 3);
    CHECK(raw(E_IN, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* count * sizeof(int) overflows size_t */
    IN_CALL(8, (size_t)-1 / 2 + 1);
    CHECK(raw(E_IN, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* short buffer: the last parameter cut off */
    IN_CALL(8, 2);
    CHECK(raw(E_IN, b, c.off - 1, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    CHECK(raw(E_IN, b, 0, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* a length prefix far beyond the buffer */
    IN_CALL(UINT64_MAX - 1, 2);
    CHECK(raw(E_IN, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* trailing bytes */
    IN_CALL(8, 2);
    CHECK(raw(E_IN, b, c.off + 8, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* no room for the return value */
    IN_CALL(8, 2);
    CHECK(raw(E_IN, b, c.off, sizeof(int) - 1, NULL) == SGX_ERROR_INVALID_PARAMETER);
    /* misaligned in */
    IN_CALL(8, 2);
    {
        static _Alignas(16) uint8_t mis[300], o[16];
        memcpy(mis + 1, b, c.off);
        CHECK(ecalls->fn[E_IN](mis + 1, c.off, o, sizeof o, &n) == SGX_ERROR_UNEXPECTED);
    }

    /* ecall_out: out_cap too small for ret + 4 ints */
    memset(b, 0, sizeof b);
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 16);
    edl_put(&c, NULL, 0);
    cnt = 4;
    edl_put(&c, &cnt, sizeof cnt);
    CHECK(raw(E_OUT, b, c.off, 8 + 16, &n) == SGX_SUCCESS && n == 24);
    CHECK(raw(E_OUT, b, c.off, 8 + 15, NULL) == SGX_ERROR_INVALID_PARAMETER);

    /* ecall_string: no NUL at the end, and a zero-length string */
    const char *nonul = "abcdefgh";
    memset(b, 0, sizeof b);
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 8);
    edl_put(&c, nonul, 8);
    CHECK(raw(E_STRING, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 0);
    CHECK(raw(E_STRING, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 9);
    edl_put(&c, "abcdefgh", 9);
    CHECK(raw(E_STRING, b, c.off, 8, &n) == SGX_SUCCESS);

    /* ecall_wstring: a length that is not a whole number of wchar_t */
    wchar_t w[3] = {L'a', L'b', 0};
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, sizeof w - 1);
    edl_put(&c, w, sizeof w - 1);
    CHECK(raw(E_WSTRING, b, c.off, 8, NULL) == SGX_ERROR_INVALID_PARAMETER);

    /* ecall_array: the array's length is fixed by its declaration */
    int a4[4] = {1, 2, 3, 4};
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 12);
    edl_put(&c, a4, 12);
    edl_put_u64(&c, 24);
    edl_put(&c, NULL, 0);
    CHECK(raw(E_ARRAY, b, c.off, 64, NULL) == SGX_ERROR_INVALID_PARAMETER);

    /* ecall_size_count: size * count overflows */
    uint64_t elem = 1ULL << 33, count = 1ULL << 33;
    c = (struct edl_cursor){b, sizeof b, 0, 0};
    edl_put_u64(&c, 0);
    edl_put(&c, NULL, 0);
    edl_put(&c, &elem, 8);
    edl_put(&c, &count, 8);
    edl_put_u64(&c, 8);
    edl_put(&c, NULL, 0);
    CHECK(raw(E_SIZE_COUNT, b, c.off, 64, NULL) == SGX_ERROR_INVALID_PARAMETER);

    /* a private ECALL called from outside */
    CHECK(raw(E_PRIVATE, b, 0, 8, NULL) == SGX_ERROR_ECALL_NOT_ALLOWED);
}

int main(int argc, char **argv)
{
    void *module = dlopen(argc > 1 ? argv[1] : "./enclave.so", RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        printf("FAIL dlopen: %s\n", dlerror());
        return 2;
    }
    ecalls = dlsym(module, "enclave_ecalls");
    CHECK(ecalls != NULL && ecalls->count == 22);
    if (ecalls == NULL)
        return 2;
    sgx_enclave_id_t eid = 1;

    int64_t r64 = 0;
    CHECK(ecall_scalars(eid, &r64, -1, 200, -300, 60000, -70000, 4000000000U, -5, 6, -7, 8, -9, 10, -11, 12, -13,
                        14, -15, 16, 17, L'Z', 1.5f, 2.25, -3, 5) == SGX_SUCCESS);
    CHECK(r64 == (int64_t)-1 * 1 + 200 * 2 + -300 * 3 + 60000 * 4 + -70000LL * 5 + 4000000000LL * 6 + -5 * 7
                     + 6 * 8 + -7 * 9 + 8 * 10 + -9 * 11 + 10 * 12 + -11 * 13 + 12 * 14 + -13 * 15 + 14 * 16
                     + -15 * 17 + 16 * 18 + 17 * 19 + (int64_t)L'Z' * 20 + 31 + 49 + -3 * 23 + 5 * 24);

    int ri = 0;
    struct point p1 = {1, 2}, p2 = {4, 6};
    CHECK(ecall_distance2(eid, &ri, p1, p2) == SGX_SUCCESS && ri == 25);
    enum color col = RED;
    CHECK(ecall_next_color(eid, &col, GREEN) == SGX_SUCCESS && col == BLUE);
    union num un = {.i = 7}, ur;
    CHECK(ecall_union(eid, &ur, un) == SGX_SUCCESS && ur.f == 3.5f);
    CHECK(ecall_void(eid) == SGX_SUCCESS);

    int ints[5] = {1, 2, 3, 4, 5};
    CHECK(ecall_in(eid, &ri, ints, 5) == SGX_SUCCESS && ri == 1 + 4 + 9 + 16 + 25);
    int outs[7];
    memset(outs, 0x55, sizeof outs);
    CHECK(ecall_out(eid, &ri, outs, 7) == SGX_SUCCESS && ri == 0 && outs[0] == 0 && outs[6] == 36);
    uint8_t buf[3] = {0x00, 0x5a, 0xff};
    CHECK(ecall_inout(eid, buf, 3) == SGX_SUCCESS && buf[0] == 0x5a && buf[1] == 0 && buf[2] == 0xa5);
    size_t rs = 0;
    CHECK(ecall_string(eid, &rs, "enclave") == SGX_SUCCESS && rs == 7);
    CHECK(ecall_string(eid, &rs, "") == SGX_SUCCESS && rs == 0);
    char up[] = "Mixed case 9";
    CHECK(ecall_string_inout(eid, up) == SGX_SUCCESS && strcmp(up, "MIXED CASE 9") == 0);
    CHECK(ecall_wstring(eid, &rs, L"\u00e9t\u00e9") == SGX_SUCCESS && rs == 3 * 1000 + 0xe9);
    uint64_t r_u64 = 0;
    CHECK(ecall_user_check(eid, &r_u64, (void *)buf) == SGX_SUCCESS && r_u64 == (uint64_t)(uintptr_t)buf);
    int a4[4] = {1, 2, 3, 4}, b23[2][3];
    CHECK(ecall_array(eid, &ri, a4, b23) == SGX_SUCCESS && ri == 10 && b23[0][2] == 12 && b23[1][0] == 20);
    uint8_t bytes[6] = {1, 2, 3, 4, 5, 250};
    uint64_t sum = 0;
    CHECK(ecall_size_count(eid, bytes, 2, 3, &sum) == SGX_SUCCESS && sum == 265);
    CHECK(ecall_size_count(eid, bytes, (size_t)1 << 33, (size_t)1 << 33, &sum) == SGX_ERROR_INVALID_PARAMETER);
    struct blob bin = {41, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}, bout;
    CHECK(ecall_isptr(eid, &ri, &bin, &bout) == SGX_SUCCESS && ri == 16 && bout.tag == 42 && bout.bytes[11] == 24);
    int two[2] = {5, 6}, mo = 0;
    CHECK(ecall_nullable(eid, &ri, two, &mo) == SGX_SUCCESS && ri == 11 && mo == 77);
    CHECK(ecall_nullable(eid, &ri, NULL, NULL) == SGX_SUCCESS && ri == -2);
    double d = 2.5;
    struct point pp = {1, 2};
    float rf = 0;
    CHECK(ecall_default_size(eid, &rf, &d, &pp) == SGX_SUCCESS && rf == 2.5f && pp.x == 2 && pp.y == 4);
    CHECK(ecall_common(eid, &ri, 1) == SGX_SUCCESS && ri == 1001);
    CHECK(ecall_named(eid, &ri, 1) == SGX_SUCCESS && ri == 2001);
    CHECK(ecall_private(eid, &ri) == SGX_ERROR_ECALL_NOT_ALLOWED);
    CHECK(ecall_common(2, &ri, 1) == SGX_ERROR_INVALID_ENCLAVE_ID);

    ri = -100;
    CHECK(ecall_calls_ocalls(eid, &ri, 7) == SGX_SUCCESS);
    CHECK(ri == 0);
    if (ri != 0)
        printf("FAIL ecall_calls_ocalls: check %d in enclave.c\n", ri);
    CHECK(allow_calls == 1 && strcmp(printed, "from the enclave") == 0);

    hostile_ocall = 1;
    CHECK(ecall_hostile_ocall(eid, &ri) == SGX_SUCCESS && ri == SGX_ERROR_UNEXPECTED);
    hostile_ocall = 0;

    hostile();

    printf("%s %d checks, %d failed\n", fails ? "FAILED" : "PASSED", checks, fails);
    return fails ? 1 : 0;
}
