/*
 * Host check of libde_trts (src/sdk/trts), built with ASan and UBSan by `make -C src/sdk check`: the library's
 * functions are renamed t_* (trts.mk), the host's libc, libm and openssl are the oracles. The runtime API the
 * library imports (enclave_heap_alloc, enclave_heap_free, enclave_module_range) is simulated here over a heap of
 * a fixed budget, so malloc's chunks, their return and running out are all seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgx_error.h"

typedef uint8_t sha256_t[32];

void *t_malloc(size_t n);
void *t_calloc(size_t c, size_t n);
void *t_realloc(void *p, size_t n);
void t_free(void *p);
void *t_memchr(const void *s, int c, size_t n);
size_t t_strnlen(const char *s, size_t n);
int t_strcmp(const char *a, const char *b);
int t_strncmp(const char *a, const char *b, size_t n);
char *t_strcpy(char *d, const char *s);
char *t_strncpy(char *d, const char *s, size_t n);
char *t_strcat(char *d, const char *s);
char *t_strncat(char *d, const char *s, size_t n);
char *t_strchr(const char *s, int c);
char *t_strrchr(const char *s, int c);
char *t_strstr(const char *h, const char *n);
int t_snprintf(char *s, size_t n, const char *fmt, ...);
double t_sqrt(double), t_fabs(double), t_floor(double), t_ceil(double), t_exp(double), t_log(double);
double t_pow(double, double);
int *t_errno_location(void);
int t_sgx_is_within_enclave(const void *p, size_t n);
int t_sgx_is_outside_enclave(const void *p, size_t n);
sgx_status_t t_sgx_read_rand(unsigned char *b, size_t n);
sgx_status_t t_sgx_sha256_msg(const uint8_t *src, uint32_t len, sha256_t *hash);

static int failures, checks;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        checks++;                                         \
        if (!(cond)) {                                    \
            if (++failures <= 40) {                       \
                printf("FAIL %s:%d: ", __FILE__, __LINE__); \
                printf(__VA_ARGS__);                      \
                printf("\n");                             \
            }                                             \
        }                                                 \
    } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- the runtime API, simulated ---- */

static size_t sim_budget = 8u << 20, sim_used;
static int sim_chunks, sim_in_ecall = 1;
static uint64_t sim_base = 0x7f0000000000ull, sim_size = 0x300000;

void *enclave_heap_alloc(size_t len)
{
    if (!sim_in_ecall || len == 0 || len > sim_budget - sim_used)
        return NULL;
    size_t *p = aligned_alloc(16, ((len + 15) & ~(size_t)15) + 16);
    p[0] = len;
    sim_used += len;
    sim_chunks++;
    return p + 2;
}

int enclave_heap_free(void *q)
{
    size_t *p = (size_t *)q - 2;
    sim_used -= p[0];
    sim_chunks--;
    free(p);
    return 0;
}

int enclave_module_range(uint64_t *base, uint64_t *size)
{
    if (!sim_in_ecall)
        return -1;
    *base = sim_base;
    *size = sim_size;
    return 0;
}

/* ---- snprintf ---- */

static void same_format(const char *fmt, ...)
{
    char want[4096], got[4096];
    va_list a, b;
    va_start(a, fmt);
    va_copy(b, a);
    int wn = vsnprintf(want, sizeof want, fmt, a);
    va_end(a);
    extern int t_vsnprintf(char *, size_t, const char *, va_list);
    int gn = t_vsnprintf(got, sizeof got, fmt, b);
    va_end(b);
    CHECK(wn == gn && strcmp(want, got) == 0, "format \"%s\": host \"%s\" (%d), trts \"%s\" (%d)", fmt, want, wn, got, gn);
}

static double random_double(void)
{
    switch (rnd() % 5) {
    case 0: {   /* any bit pattern but NaN payloads */
        uint64_t u = rnd();
        double d;
        memcpy(&d, &u, 8);
        return isnan(d) ? 1.5 : d;
    }
    case 1:
        return (double)(int64_t)(rnd() % 2000001) - 1000000.0;
    case 2:
        return ((double)(rnd() % 100000) + 0.5) / 1000.0;   /* ties at some precisions */
    case 3:
        return ldexp((double)(rnd() >> 11), (int)(rnd() % 200) - 150);
    default:
        return (double)(rnd() % 1000) / 8.0;
    }
}

static void check_snprintf(void)
{
    same_format("plain text %% and more");
    same_format("%d %i %u %x %X %o", 0, -1, 4000000000u, 0xdeadbeefu, 0xabcu, 0777u);
    same_format("%ld %lu %lld %llu %zu %jd %hd %hhu", -9000000000l, 18000000000000000000ul, -1ll, 42ull, (size_t)77,
                (intmax_t)-5, (short)-3, (unsigned char)255);
    same_format("[%5d] [%-5d] [%05d] [%+d] [% d] [%.3d] [%8.3d] [%-8.3x] [%#x] [%#o] [%#X] [%.0d] [%.0x]", 42, 42, 42, 42,
                42, 7, 7, 0xa, 255, 8, 255, 0, 0);
    same_format("[%*d] [%-*d] [%.*d] [%*.*d]", 6, 1, 6, 2, 4, 3, 7, 3, -4);
    same_format("[%s] [%10s] [%-10s] [%.2s] [%c] [%3c] [%-3c]", "abc", "right", "left", "truncated", 'x', 'y', 'z');
    same_format("%p %p %20p %-20p|", (void *)0x1234, (void *)0, (void *)0xabcdef, (void *)0x10);
    same_format("%d %d", INT32_MIN, INT32_MAX);
    same_format("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    same_format("%f %e %g %F %E %G", 0.0, 0.0, 0.0, -0.0, -0.0, -0.0);
    same_format("%f %e %g %F %E %G", INFINITY, -INFINITY, NAN, INFINITY, -INFINITY, -NAN);
    same_format("[%10f] [%-10.2f] [%010.3f] [%+f] [% f] [%#.0f] [%.0f] [%.0f] [%.0f] [%.0f]", 3.14159, 2.5, -1.5, 1.0,
                1.0, 3.0, 0.5, 1.5, 2.5, -0.5);
    same_format("%g %g %g %g %g %g %g", 4.47213595499958, 7.0, 100000.0, 1000000.0, 1e-4, 1e-5, 123456789.0);
    same_format("%#g %#.3g %.0g %.1g %.17g %.20e %.30f", 1.0, 2.0, 123.0, 0.05, 0.1, 0.1, 0.1);
    same_format("%f %e %.3e %g %.15g", DBL_MAX, DBL_MIN, 4.9e-324, 4.9e-324, DBL_MAX);
    same_format("%.1100f %.1500f %.1200e %#.1300g %.1300g", 4.9e-324, 0.1, 1.0 / 3, 2.5, 2.5);
    same_format("%.1f %.1f %.1f %.2f %.2f", 0.25, 0.35, 0.45, 1.005, 1.015);
    const char *ffmts[] = { "%f", "%e", "%g", "%.0f", "%.1f", "%.3f", "%.10f", "%.0e", "%.2e", "%.12e", "%.1g",
                            "%.3g", "%.10g", "%.17g", "%12.4f", "%-12.4e", "%+.5g", "%#.4g", "%G", "%E", "%.25f" };
    for (int i = 0; i < 20000; i++) {
        double d = random_double();
        const char *f = ffmts[rnd() % (sizeof ffmts / sizeof ffmts[0])];
        same_format(f, d);
    }
    for (int i = 0; i < 3000; i++) {
        uint64_t v = rnd() >> (rnd() % 64);
        same_format("%llu %lld %llx %llo %20llu %-20llX| %.25llu", (unsigned long long)v, (long long)v,
                    (unsigned long long)v, (unsigned long long)v, (unsigned long long)v, (unsigned long long)v,
                    (unsigned long long)v);
    }
    /* truncation: the return value counts everything, the buffer holds n-1 and a NUL */
    char small[8];
    memset(small, 'x', sizeof small);
    int n = t_snprintf(small, sizeof small, "%s-%d", "hello", 12345);
    CHECK(n == 11 && strcmp(small, "hello-1") == 0, "truncated: %d \"%s\"", n, small);
    CHECK(t_snprintf(NULL, 0, "%d", 123456) == 6, "size only");
    memset(small, 'x', sizeof small);
    CHECK(t_snprintf(small, 1, "abc") == 3 && small[0] == 0 && small[1] == 'x', "n = 1: only the NUL");
}

/* ---- math ---- */

static int64_t ulps(double a, double b)
{
    int64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    if (x < 0)
        x = INT64_MIN - x;
    if (y < 0)
        y = INT64_MIN - y;
    return x > y ? x - y : y - x;
}

static int same_special(double want, double got)
{
    if (isnan(want))
        return isnan(got);
    return want == got && signbit(want) == signbit(got);
}

static int64_t worst_exp, worst_log, worst_pow;

static void near(const char *what, double x, double y, double want, double got, int64_t max_ulps, int64_t *worst)
{
    if (isnan(want) || isinf(want) || want == 0 || isnan(got) || isinf(got)) {
        CHECK(same_special(want, got), "%s(%.17g, %.17g): libm %.17g, trts %.17g", what, x, y, want, got);
        return;
    }
    int64_t u = ulps(want, got);
    if (u > *worst)
        *worst = u;
    CHECK(u <= max_ulps, "%s(%.17g, %.17g): libm %.17g, trts %.17g, %" PRId64 " ulps apart", what, x, y, want, got, u);
}

static void check_math(void)
{
    double specials[] = { 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1.5, -1.5, 2.5, 1e300, -1e300, 4.9e-324,
                          -4.9e-324, DBL_MIN, DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 0x1p52, 0x1p52 + 1,
                          -0x1p52 - 1, 0x1p53, 0.49999999999999994, 709.78, -745.1, 710.0, -746.0, 3.0, -3.0, 1e-310 };
    size_t ns = sizeof specials / sizeof specials[0];
    for (size_t i = 0; i < ns; i++) {
        double x = specials[i];
        CHECK(same_special(sqrt(x), t_sqrt(x)), "sqrt(%g)", x);
        CHECK(same_special(fabs(x), t_fabs(x)), "fabs(%g)", x);
        CHECK(same_special(floor(x), t_floor(x)), "floor(%.17g): %.17g vs %.17g", x, floor(x), t_floor(x));
        CHECK(same_special(ceil(x), t_ceil(x)), "ceil(%.17g): %.17g vs %.17g", x, ceil(x), t_ceil(x));
        near("exp", x, 0, exp(x), t_exp(x), 2, &worst_exp);
        near("log", x, 0, log(x), t_log(x), 2, &worst_log);
        for (size_t j = 0; j < ns; j++)
            near("pow", x, specials[j], pow(x, specials[j]), t_pow(x, specials[j]), 4, &worst_pow);
    }
    for (int i = 0; i < 200000; i++) {
        double x = random_double();
        CHECK(same_special(sqrt(x), t_sqrt(x)), "sqrt(%.17g)", x);
        CHECK(same_special(floor(x), t_floor(x)), "floor(%.17g)", x);
        CHECK(same_special(ceil(x), t_ceil(x)), "ceil(%.17g)", x);
        double e = ((double)(rnd() >> 11) / 0x1p53 - 0.5) * 1500;
        near("exp", e, 0, exp(e), t_exp(e), 2, &worst_exp);
        double l = fabs(x);
        near("log", l, 0, log(l), t_log(l), 2, &worst_log);
        double px = ldexp((double)(rnd() >> 11) / 0x1p53, (int)(rnd() % 40) - 20);
        double py = ((double)(rnd() >> 11) / 0x1p53 - 0.5) * 200;
        if (rnd() % 4 == 0)
            py = (double)((int)(rnd() % 41) - 20), px = -px;
        near("pow", px, py, pow(px, py), t_pow(px, py), 4, &worst_pow);
    }
    *t_errno_location() = 0;
    t_log(-1.0);
    CHECK(*t_errno_location() == EDOM, "log(-1) sets EDOM");
    *t_errno_location() = 0;
    t_exp(1000.0);
    CHECK(*t_errno_location() == ERANGE, "exp(1000) sets ERANGE");
    *t_errno_location() = 0;
    t_pow(-2.0, 0.5);
    CHECK(*t_errno_location() == EDOM, "pow(-2, 0.5) sets EDOM");
    CHECK(t_sqrt(20.0) == sqrt(20.0) && t_pow(2.0, 10.0) == 1024.0 && t_pow(10.0, 2.0) == 100.0, "exact cases");
}

/* ---- SHA-256 ---- */

static void hex(const uint8_t *h, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

static void check_sha256(void)
{
    struct {
        const char *msg, *digest;
    } fips[] = {
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    };
    sha256_t h;
    char got[65];
    for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
        CHECK(t_sgx_sha256_msg((const uint8_t *)fips[i].msg, (uint32_t)strlen(fips[i].msg), &h) == SGX_SUCCESS, "sha");
        hex(h, got);
        CHECK(strcmp(got, fips[i].digest) == 0, "SHA-256(\"%s\") = %s", fips[i].msg, got);
    }
    uint8_t *million = malloc(1000000);
    memset(million, 'a', 1000000);
    t_sgx_sha256_msg(million, 1000000, &h);
    hex(h, got);
    CHECK(strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "a million a: %s", got);
    CHECK(t_sgx_sha256_msg(NULL, 1, &h) == SGX_ERROR_INVALID_PARAMETER && t_sgx_sha256_msg(million, 1, NULL)
              == SGX_ERROR_INVALID_PARAMETER && t_sgx_sha256_msg(NULL, 0, &h) == SGX_SUCCESS, "parameters");
    /* every length around the padding boundaries and some random ones, against openssl */
    char path[] = "/tmp/trts-check-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    size_t lens[] = { 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4097, 65536 + 3 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0] + 6; i++) {
        size_t len = i < sizeof lens / sizeof lens[0] ? lens[i] : rnd() % 100000;
        for (size_t j = 0; j < len; j++)
            million[j] = (uint8_t)rnd();
        CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, million, len, 0) == (ssize_t)len, "write");
        char cmd[128], line[256] = "";
        snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -r %s", path);
        FILE *p = popen(cmd, "r");
        CHECK(p && fgets(line, sizeof line, p), "openssl dgst");
        if (p)
            pclose(p);
        t_sgx_sha256_msg(million, (uint32_t)len, &h);
        hex(h, got);
        CHECK(strncmp(line, got, 64) == 0, "length %zu: openssl %.64s, trts %s", len, line, got);
    }
    close(fd);
    unlink(path);
    free(million);
}

/* ---- string.h ---- */

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static void random_string(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s[i] = (char)("abc\x80\xff"[rnd() % 5]);
    s[n] = 0;
}

static void check_strings(void)
{
    char a[64], b[64], d1[160], d2[160];
    for (int i = 0; i < 50000; i++) {
        size_t la = rnd() % 12, lb = rnd() % 12, n = rnd() % 14;
        random_string(a, la);
        random_string(b, lb);
        CHECK(sign(strcmp(a, b)) == sign(t_strcmp(a, b)), "strcmp(%s, %s)", a, b);
        CHECK(sign(strncmp(a, b, n)) == sign(t_strncmp(a, b, n)), "strncmp(%s, %s, %zu)", a, b, n);
        CHECK(strchr(a, b[0]) == t_strchr(a, b[0]), "strchr");
        CHECK(strrchr(a, b[0]) == t_strrchr(a, b[0]), "strrchr");
        CHECK(strstr(a, b) == t_strstr(a, b), "strstr(%s, %s)", a, b);
        CHECK(memchr(a, b[0], la) == t_memchr(a, b[0], la), "memchr");
        CHECK(strnlen(a, n) == t_strnlen(a, n), "strnlen");
        memset(d1, 'z', sizeof d1);
        memset(d2, 'z', sizeof d2);
        CHECK(t_strcpy(d2, a) == d2 && strcmp(strcpy(d1, a), d2) == 0 && memcmp(d1, d2, sizeof d1) == 0, "strcpy");
        strncpy(d1, b, n);
        t_strncpy(d2, b, n);
        CHECK(memcmp(d1, d2, sizeof d1) == 0, "strncpy(%s, %zu)", b, n);
        strcpy(d1, a);
        strcpy(d2, a);
        strncat(d1, b, n);
        t_strncat(d2, b, n);
        CHECK(memcmp(d1, d2, sizeof d1) == 0, "strncat");
        strcat(d1, a);
        t_strcat(d2, a);
        CHECK(memcmp(d1, d2, sizeof d1) == 0, "strcat");
    }
    CHECK(t_strchr("abc", 0) == NULL || *t_strchr("abc", 0) == 0, "strchr of NUL finds the end");
}

/* ---- malloc ---- */

struct live {
    uint8_t *p;
    size_t n;
    uint8_t tag;
};

static int intact(const struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->p[i] != (uint8_t)(l->tag + i))
            return 0;
    return 1;
}

static void fill(struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->p[i] = (uint8_t)(l->tag + i);
}

static void check_malloc(void)
{
    enum { SLOTS = 512 };
    static struct live live[SLOTS];
    size_t bad_align = 0, corrupt = 0;
    for (int op = 0; op < 300000; op++) {
        struct live *l = &live[rnd() % SLOTS];
        size_t n = rnd() % 8 == 0 ? rnd() % 200000 : rnd() % 300;
        switch (rnd() % 3) {
        case 0:
            if (l->p)
                break;
            l->p = rnd() % 2 ? t_malloc(n) : t_calloc(1, n);
            if (!l->p)
                break;
            l->n = n;
            l->tag = (uint8_t)rnd();
            fill(l);
            bad_align += (uintptr_t)l->p % 16 != 0;
            break;
        case 1:
            if (!l->p)
                break;
            corrupt += !intact(l);
            t_free(l->p);
            l->p = NULL;
            break;
        default:
            if (!l->p)
                break;
            corrupt += !intact(l);
            uint8_t *q = t_realloc(l->p, n + 1);
            if (!q)
                break;
            l->p = q;
            l->n = l->n < n + 1 ? l->n : n + 1;
            corrupt += !intact(l);
            l->n = n + 1;
            fill(l);
            bad_align += (uintptr_t)q % 16 != 0;
        }
    }
    CHECK(bad_align == 0, "%zu pointers not 16-byte aligned", bad_align);
    CHECK(corrupt == 0, "%zu allocations lost their bytes", corrupt);
    int peak_chunks = sim_chunks;
    for (int i = 0; i < SLOTS; i++) {
        if (live[i].p) {
            CHECK(intact(&live[i]), "slot %d", i);
            t_free(live[i].p);
            live[i].p = NULL;
        }
    }
    CHECK(sim_chunks <= 1 && sim_used <= (64u << 10), "%d chunks (%zu bytes) held after everything was freed (%d "
          "at the peak): all go back but one small one", sim_chunks, sim_used, peak_chunks);
    /* calloc zeroes, overflow is refused, running out is ENOMEM and recovers */
    uint8_t *z = t_calloc(1000, 10);
    int zero = z != NULL;
    for (int i = 0; zero && i < 10000; i++)
        zero = z[i] == 0;
    CHECK(zero, "calloc zeroes");
    t_free(z);
    *t_errno_location() = 0;
    CHECK(t_calloc(SIZE_MAX / 2, 4) == NULL && *t_errno_location() == ENOMEM, "calloc overflow");
    CHECK(t_malloc(SIZE_MAX - 8) == NULL, "malloc(SIZE_MAX - 8)");
    void *big = t_malloc(sim_budget);
    CHECK(big == NULL && *t_errno_location() == ENOMEM, "more than the heap: ENOMEM");
    void *most = t_malloc(sim_budget / 2);
    CHECK(most != NULL, "half the heap after everything was freed");
    t_free(most);
    CHECK(t_malloc(0) != NULL, "malloc(0) gives a pointer");
    CHECK(t_realloc(NULL, 10) != NULL, "realloc(NULL) is malloc");
    sim_in_ecall = 0;
    void *outside = t_malloc(1 << 20);
    CHECK(outside == NULL, "no heap outside an ECALL (the runtime refuses)");
    sim_in_ecall = 1;
}

static void check_trts(void)
{
    uint8_t *base = (uint8_t *)(uintptr_t)sim_base;
    CHECK(t_sgx_is_within_enclave(base, sim_size) && t_sgx_is_within_enclave(base + sim_size - 1, 1)
              && t_sgx_is_within_enclave(base + 5, 0), "inside");
    CHECK(!t_sgx_is_within_enclave(base - 1, 2) && !t_sgx_is_within_enclave(base, sim_size + 1)
              && !t_sgx_is_within_enclave(base + sim_size, 0), "straddling or past the end");
    CHECK(t_sgx_is_outside_enclave(base - 16, 16) && t_sgx_is_outside_enclave(base + sim_size, 100)
              && !t_sgx_is_outside_enclave(base - 1, 2) && !t_sgx_is_outside_enclave(base + 10, 1), "outside");
    CHECK(!t_sgx_is_within_enclave((void *)UINTPTR_MAX, 2) && !t_sgx_is_outside_enclave((void *)UINTPTR_MAX, 2),
          "a wrapping range is neither");
    uint8_t r1[64] = { 0 }, r2[64] = { 0 };
    CHECK(t_sgx_read_rand(NULL, 4) == SGX_ERROR_INVALID_PARAMETER && t_sgx_read_rand(r1, 0)
              == SGX_ERROR_INVALID_PARAMETER, "read_rand parameters");
    sgx_status_t s1 = t_sgx_read_rand(r1, 61), s2 = t_sgx_read_rand(r2, 61);
    CHECK(s1 == SGX_SUCCESS && s2 == SGX_SUCCESS, "read_rand: 0x%x 0x%x (this host has RDRAND)", s1, s2);
    CHECK(memcmp(r1, r2, 61) != 0 && r1[61] == 0 && r1[62] == 0, "two draws differ, nothing past the length written");
}

int main(void)
{
    check_trts();
    check_strings();
    check_sha256();
    check_malloc();
    check_math();
    check_snprintf();
    if (failures) {
        printf("trts-check: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("trts-check: %d checks pass: snprintf against the host's, math within %" PRId64 "/%" PRId64 "/%" PRId64
           " ulps (exp/log/pow) of libm, SHA-256 (FIPS, openssl), string.h, malloc stress, range, RDRAND\n",
           checks, worst_exp, worst_log, worst_pow);
    return 0;
}
