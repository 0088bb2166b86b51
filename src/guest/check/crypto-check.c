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

#include "../bignum.h"
#include "../crypto.h"
#include "../der.h"

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
static uint8_t *read_file(const char *file, size_t *len)
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

__attribute__((format(printf, 1, 2))) static void run(const char *fmt, ...)
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

/* Random data of random lengths (and every block edge), each hashed in random update() pieces and by
 * openssl dgst, which takes all the files in one run. */
static void sha384_against_openssl(int rounds)
{
    /* The block edges (111/112, 127/128/129, 239/240) are where padding goes wrong; hit them always. */
    static const size_t edges[] = {0, 1, 111, 112, 113, 127, 128, 129, 239, 240, 255, 256, 1000};
    static uint8_t data[1001];
    uint8_t (*ours)[SHA384_DIGEST_SIZE] = calloc((size_t)rounds, SHA384_DIGEST_SIZE);
    size_t *lens = calloc((size_t)rounds, sizeof *lens);
    char cmd[8192];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "openssl dgst -sha384 -r");
    for (int r = 0; r < rounds; r++) {
        size_t len = r < (int)(sizeof edges / sizeof edges[0]) ? edges[r] : (size_t)(rng() % 1001);
        lens[r] = len;
        random_bytes(data, len);
        char name[32];
        snprintf(name, sizeof name, "msg%d", r);
        write_file(path(name), data, len);
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " '%s'", path(name));
        if (used >= sizeof cmd)
            die("too many files for one openssl dgst command");

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
            sha384_update(&ctx, rng() & 2 ? NULL : data, 0);
        sha384_final(&ctx, ours[r]);
    }
    FILE *p = popen(cmd, "r");
    if (!p)
        die("cannot run openssl dgst");
    char line[512];
    int r = 0;
    while (r < rounds && fgets(line, sizeof line, p)) {
        if (strlen(line) < 2 * SHA384_DIGEST_SIZE)
            break;
        line[2 * SHA384_DIGEST_SIZE] = 0;
        char what[64];
        snprintf(what, sizeof what, "sha384 of %zu random bytes vs openssl", lens[r]);
        expect_digest(what, ours[r], line);
        r++;
    }
    int rc = pclose(p);
    if (rc != 0 || r != rounds)
        die("openssl dgst failed (%d) or gave %d of %d digests", rc, r, rounds);
    free(ours);
    free(lens);
}

/* ---- signatures ---- */

static const char *result_name(int rc)
{
    switch (rc) {
    case CRYPTO_OK:
        return "OK";
    case CRYPTO_BAD_KEY:
        return "BAD_KEY";
    case CRYPTO_BAD_SIGNATURE:
        return "BAD_SIGNATURE";
    default:
        return "(not a result code)";
    }
}

/* Runs signature_verify on exact-size heap copies, so ASan sees any read past a buffer. */
static int verify(uint32_t type, const uint8_t *spki, size_t spki_len, const uint8_t digest[SHA384_DIGEST_SIZE],
                  const uint8_t *sig, size_t sig_len)
{
    uint8_t *k = malloc(spki_len ? spki_len : 1), *d = malloc(SHA384_DIGEST_SIZE), *s = malloc(sig_len ? sig_len : 1);
    memcpy(k, spki, spki_len);
    memcpy(d, digest, SHA384_DIGEST_SIZE);
    memcpy(s, sig, sig_len);
    int rc = signature_verify(type, k, spki_len, d, s, sig_len);
    free(k);
    free(d);
    free(s);
    return rc;
}

static void expect_result(const char *what, int got, int want)
{
    checks++;
    if (got != want)
        fail("%s: got %s, want %s", what, result_name(got), result_name(want));
}

/* A refusal either way: some flips break the key's structure, others only make the signature wrong. */
static void expect_refused(const char *what, int got)
{
    checks++;
    if (got != CRYPTO_BAD_KEY && got != CRYPTO_BAD_SIGNATURE)
        fail("%s: got %s, want BAD_KEY or BAD_SIGNATURE", what, result_name(got));
}

struct key {
    const char *name;
    uint32_t type;
    uint8_t *spki;
    size_t spki_len;
    size_t sig_len;        /* what signature_verify takes: 384 for RSA-3072, 96 (r || s) for P-384 */
};

/* Makes a key with openssl genpkey and reads back its DER SubjectPublicKeyInfo. */
static struct key make_key(const char *name, uint32_t type, const char *genpkey_options)
{
    struct key k = {.name = name, .type = type};
    char pem[64], der[64];
    snprintf(pem, sizeof pem, "%s.pem", name);
    snprintf(der, sizeof der, "%s.spki", name);
    run("openssl genpkey %s -out '%s' 2>/dev/null", genpkey_options, path(pem));
    run("openssl pkey -in '%s' -pubout -outform DER -out '%s'", path(pem), path(der));
    k.spki = read_file(path(der), &k.spki_len);
    k.sig_len = type == KEY_TYPE_RSA3072 ? 384 : 96;
    return k;
}

/* Reads one DER INTEGER at *p (bounded by end) into out as a 48-byte big-endian number. */
static void der_integer_48(const uint8_t **p, const uint8_t *end, uint8_t out[48])
{
    const uint8_t *q = *p;
    if (end - q < 2 || q[0] != 0x02 || q[1] > end - q - 2)
        die("openssl's ECDSA signature: not an INTEGER where one belongs");
    size_t len = q[1];
    const uint8_t *v = q + 2;
    while (len > 0 && *v == 0) {
        v++;
        len--;
    }
    if (len > 48)
        die("openssl's ECDSA signature: an integer of %zu bytes", len);
    memset(out, 0, 48 - len);
    memcpy(out + 48 - len, v, len);
    *p = q + 2 + q[1];
}

/* Signs msg with openssl and gives the signature as signature_verify takes it. */
static size_t openssl_sign(const struct key *k, const uint8_t *msg, size_t msg_len, uint8_t *sig)
{
    char pem[64];
    snprintf(pem, sizeof pem, "%s.pem", k->name);
    write_file(path("msg"), msg, msg_len);
    run("openssl dgst -sha384 -sign '%s' -out '%s' '%s'", path(pem), path("sig"), path("msg"));
    size_t len;
    uint8_t *der = read_file(path("sig"), &len);
    if (k->type == KEY_TYPE_RSA3072) {
        if (len != 384)
            die("openssl's RSA signature has %zu bytes", len);
        memcpy(sig, der, len);
    } else {
        /* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 / SEC 1 C.8), to r || s. */
        const uint8_t *p = der, *end = der + len;
        if (len < 2 || p[0] != 0x30)
            die("openssl's ECDSA signature is not a SEQUENCE");
        p += p[1] == 0x81 ? 3 : 2;
        der_integer_48(&p, end, sig);
        der_integer_48(&p, end, sig + 48);
        len = 96;
    }
    free(der);
    return len;
}

/* Flips one random bit in a copy of buf. */
static uint8_t *flipped(const uint8_t *buf, size_t len, size_t *where)
{
    uint8_t *copy = malloc(len);
    memcpy(copy, buf, len);
    size_t bitpos = rng() % (8 * len);
    copy[bitpos / 8] ^= (uint8_t)(1u << (bitpos % 8));
    *where = bitpos;
    return copy;
}

/* Signs random messages with openssl: each must verify, and no single flipped bit may. */
static void signatures_from_openssl(const struct key *k, int messages)
{
    for (int m = 0; m < messages; m++) {
        uint8_t msg[300], sig[384], digest[SHA384_DIGEST_SIZE];
        size_t msg_len = rng() % sizeof msg;
        random_bytes(msg, msg_len);
        size_t sig_len = openssl_sign(k, msg, msg_len, sig);
        sha384(msg, msg_len, digest);
        char what[128];
        snprintf(what, sizeof what, "%s: openssl's signature over %zu random bytes", k->name, msg_len);
        expect_result(what, verify(k->type, k->spki, k->spki_len, digest, sig, sig_len), CRYPTO_OK);

        size_t at;
        uint8_t *bad = flipped(sig, sig_len, &at);
        snprintf(what, sizeof what, "%s: signature with bit %zu flipped", k->name, at);
        expect_result(what, verify(k->type, k->spki, k->spki_len, digest, bad, sig_len), CRYPTO_BAD_SIGNATURE);
        free(bad);

        bad = flipped(digest, sizeof digest, &at);
        snprintf(what, sizeof what, "%s: digest with bit %zu flipped", k->name, at);
        expect_result(what, verify(k->type, k->spki, k->spki_len, bad, sig, sig_len), CRYPTO_BAD_SIGNATURE);
        free(bad);

        bad = flipped(k->spki, k->spki_len, &at);
        snprintf(what, sizeof what, "%s: key with bit %zu flipped", k->name, at);
        expect_refused(what, verify(k->type, bad, k->spki_len, digest, sig, sig_len));
        free(bad);

        if (k->type == KEY_TYPE_ECDSA_P384) {
            /* (r, n - s) is the same signature to ECDSA: it must verify too, which checks the s^-1 path. */
            static const uint8_t n[48] = {
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
                0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};
            uint8_t neg[96];
            memcpy(neg, sig, 48);
            int borrow = 0;
            for (int i = 47; i >= 0; i--) {
                int d = n[i] - sig[48 + i] - borrow;
                borrow = d < 0;
                neg[48 + i] = (uint8_t)(d + (borrow ? 256 : 0));
            }
            snprintf(what, sizeof what, "%s: the signature with s replaced by n - s", k->name);
            expect_result(what, verify(k->type, k->spki, k->spki_len, digest, neg, 96), CRYPTO_OK);
        }
    }
}

/* A P-384 key with the private scalar given in hex (96 digits), built with openssl asn1parse -genconf:
 * d = 1 gives Q = G and d = n - 1 gives Q = -G, the cases where G + Q is a doubling or infinity. */
static struct key make_p384_key_with_secret(const char *name, const char *d_hex)
{
    struct key k = {.name = name, .type = KEY_TYPE_ECDSA_P384, .sig_len = 96};
    char cnf[64], der[64], pem[64], spki[64];
    snprintf(cnf, sizeof cnf, "%s.cnf", name);
    snprintf(der, sizeof der, "%s.der", name);
    snprintf(pem, sizeof pem, "%s.pem", name);
    snprintf(spki, sizeof spki, "%s.spki", name);
    FILE *f = fopen(path(cnf), "w");
    if (!f)
        die("cannot write %s", path(cnf));
    fprintf(f, "asn1=SEQUENCE:ec\n[ec]\nversion=INTEGER:1\nkey=FORMAT:HEX,OCTETSTRING:%s\n"
               "params=EXPLICIT:0,OID:secp384r1\n", d_hex);
    fclose(f);
    run("openssl asn1parse -genconf '%s' -out '%s' -noout", path(cnf), path(der));
    run("openssl pkey -inform DER -in '%s' -out '%s'", path(der), path(pem));
    run("openssl pkey -in '%s' -pubout -outform DER -out '%s'", path(pem), path(spki));
    k.spki = read_file(path(spki), &k.spki_len);
    return k;
}

/* ---- building keys by hand, for the encodings openssl would not make ---- */

struct buf {
    uint8_t b[2048];
    size_t len;
};

static void put(struct buf *o, const void *p, size_t n)
{
    if (o->len + n > sizeof o->b)
        die("test key too large");
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

static void put_tlv(struct buf *o, uint8_t tag, const void *contents, size_t n)
{
    uint8_t head[4] = {tag};
    size_t h;
    if (n < 0x80) {
        head[1] = (uint8_t)n;
        h = 2;
    } else if (n < 0x100) {
        head[1] = 0x81;
        head[2] = (uint8_t)n;
        h = 3;
    } else {
        head[1] = 0x82;
        head[2] = (uint8_t)(n >> 8);
        head[3] = (uint8_t)n;
        h = 4;
    }
    put(o, head, h);
    put(o, contents, n);
}

/* An INTEGER from a big-endian magnitude, with the 00 sign byte DER wants when the top bit is set. */
static void put_unsigned(struct buf *o, const uint8_t *mag, size_t n)
{
    uint8_t tmp[600];
    size_t len = 0;
    if (n == 0 || (mag[0] & 0x80))
        tmp[len++] = 0;
    memcpy(tmp + len, mag, n);
    put_tlv(o, 0x02, tmp, len + n);
}

static const uint8_t rsa_algorithm[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

/* SubjectPublicKeyInfo for RSA from its parts; raw_n/raw_e, when set, are whole INTEGER elements. */
static void rsa_spki(struct buf *o, const uint8_t *alg, size_t alg_len, const uint8_t *n, size_t n_len,
                     const uint8_t *e, size_t e_len)
{
    struct buf key = {.len = 0}, bits = {.len = 0}, info = {.len = 0};
    put_unsigned(&key, n, n_len);
    put_unsigned(&key, e, e_len);
    uint8_t zero = 0;
    put(&bits, &zero, 1);
    put_tlv(&bits, 0x30, key.b, key.len);
    put_tlv(&info, 0x30, alg, alg_len);
    put_tlv(&info, 0x03, bits.b, bits.len);
    o->len = 0;
    put_tlv(o, 0x30, info.b, info.len);
}

/* A DER element at *p: its tag, contents and the position after it (test input from openssl, trusted). */
static const uint8_t *tlv(const uint8_t *p, uint8_t *tag, const uint8_t **contents, size_t *len)
{
    *tag = p[0];
    size_t n = p[1], h = 2;
    if (n == 0x81) {
        n = p[2];
        h = 3;
    } else if (n == 0x82) {
        n = (size_t)p[2] << 8 | p[3];
        h = 4;
    }
    *contents = p + h;
    *len = n;
    return p + h + n;
}

/* The modulus and exponent magnitudes of openssl's RSA SubjectPublicKeyInfo. */
static void rsa_parts(const struct key *k, const uint8_t **n, size_t *n_len, const uint8_t **e, size_t *e_len)
{
    uint8_t tag;
    const uint8_t *c, *info, *bits, *key;
    size_t len;
    tlv(k->spki, &tag, &info, &len);
    const uint8_t *after_alg = tlv(info, &tag, &c, &len);
    tlv(after_alg, &tag, &bits, &len);
    tlv(bits + 1, &tag, &key, &len);
    const uint8_t *after_n = tlv(key, &tag, n, n_len);
    tlv(after_n, &tag, e, e_len);
    while (*n_len > 0 && **n == 0) {
        (*n)++;
        (*n_len)--;
    }
}

/* Every proper prefix of a valid key, and the key with a byte after it, is a bad key. */
static void truncations(const struct key *k, const uint8_t *digest, const uint8_t *sig)
{
    char what[128];
    for (size_t len = 0; len < k->spki_len; len++) {
        snprintf(what, sizeof what, "%s: key cut to %zu of %zu bytes", k->name, len, k->spki_len);
        expect_result(what, verify(k->type, k->spki, len, digest, sig, k->sig_len), CRYPTO_BAD_KEY);
    }
    uint8_t *longer = malloc(k->spki_len + 1);
    memcpy(longer, k->spki, k->spki_len);
    longer[k->spki_len] = 0;
    snprintf(what, sizeof what, "%s: key with a byte after it", k->name);
    expect_result(what, verify(k->type, longer, k->spki_len + 1, digest, sig, k->sig_len), CRYPTO_BAD_KEY);
    free(longer);
}

static void rsa_rules(const struct key *k)
{
    uint8_t msg[] = "rsa rules", sig[384], digest[SHA384_DIGEST_SIZE];
    openssl_sign(k, msg, sizeof msg, sig);
    sha384(msg, sizeof msg, digest);
    const uint8_t *n, *e;
    size_t n_len, e_len;
    rsa_parts(k, &n, &n_len, &e, &e_len);
    struct buf o;
    char what[160];

    /* The hand-built key must equal openssl's, or the variants below test the builder, not the parser. */
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, n, n_len, e, e_len);
    checks++;
    if (o.len != k->spki_len || memcmp(o.b, k->spki, o.len) != 0)
        fail("%s: the hand-built SubjectPublicKeyInfo differs from openssl's", k->name);
    expect_result("hand-built RSA key", verify(k->type, o.b, o.len, digest, sig, 384), CRYPTO_OK);

    static const struct {
        const char *what;
        uint8_t e[40];
        size_t len;
        int want;
    } exponents[] = {
        {"e = 0", {0}, 0, CRYPTO_BAD_KEY},
        {"e = 1", {1}, 1, CRYPTO_BAD_KEY},
        {"e = 2", {2}, 1, CRYPTO_BAD_KEY},
        {"e = 65536", {1, 0, 0}, 3, CRYPTO_BAD_KEY},
        {"e = 2^256 + 1", {1, [32] = 1}, 33, CRYPTO_BAD_KEY},
        {"e = 2^256 - 1 (allowed, but not this key's)", {[0 ... 31] = 0xff}, 32, CRYPTO_BAD_SIGNATURE},
        {"e = 5 (not this key's)", {5}, 1, CRYPTO_BAD_SIGNATURE},
    };
    for (size_t i = 0; i < sizeof exponents / sizeof exponents[0]; i++) {
        rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, n, n_len, exponents[i].e, exponents[i].len);
        snprintf(what, sizeof what, "%s with %s", k->name, exponents[i].what);
        expect_result(what, verify(k->type, o.b, o.len, digest, sig, 384), exponents[i].want);
    }

    uint8_t m[400];
    memcpy(m, n, n_len);
    m[n_len - 1] ^= 1;
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, m, n_len, e, e_len);
    expect_result("RSA key with an even modulus", verify(k->type, o.b, o.len, digest, sig, 384), CRYPTO_BAD_KEY);
    memcpy(m, n, n_len);
    m[0] &= 0x7f;
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, m, n_len, e, e_len);
    expect_result("RSA key with a 3071-bit modulus", verify(k->type, o.b, o.len, digest, sig, 384), CRYPTO_BAD_KEY);
    m[0] = 1;
    memcpy(m + 1, n, n_len);
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, m, n_len + 1, e, e_len);
    expect_result("RSA key with a 3080-bit modulus", verify(k->type, o.b, o.len, digest, sig, 384), CRYPTO_BAD_KEY);
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm - 2, n, n_len, e, e_len);
    expect_result("RSA key without the NULL parameters", verify(k->type, o.b, o.len, digest, sig, 384),
                  CRYPTO_BAD_KEY);

    /* Non-minimal and negative exponents: patch the INTEGER's bytes in place. */
    uint8_t padded_e[8] = {0};
    memcpy(padded_e + 1, e, e_len);
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, n, n_len, padded_e, e_len + 1);
    expect_result("RSA key with a non-minimal exponent", verify(k->type, o.b, o.len, digest, sig, 384),
                  CRYPTO_BAD_KEY);
    rsa_spki(&o, rsa_algorithm, sizeof rsa_algorithm, n, n_len, e, e_len);
    o.b[o.len - e_len] |= 0x80;   /* top bit of the exponent's first byte: negative in DER */
    expect_result("RSA key with a negative exponent", verify(k->type, o.b, o.len, digest, sig, 384),
                  CRYPTO_BAD_KEY);

    /* Signatures that are not representatives of anything below n, or the wrong size. */
    uint8_t s[385];
    memset(s, 0, sizeof s);
    memcpy(s + 384 - n_len, n, n_len);
    expect_result("RSA signature s = n", verify(k->type, k->spki, k->spki_len, digest, s, 384), CRYPTO_BAD_SIGNATURE);
    memset(s, 0xff, sizeof s);
    expect_result("RSA signature s = 2^3072 - 1", verify(k->type, k->spki, k->spki_len, digest, s, 384),
                  CRYPTO_BAD_SIGNATURE);
    memset(s, 0, sizeof s);
    expect_result("RSA signature s = 0", verify(k->type, k->spki, k->spki_len, digest, s, 384), CRYPTO_BAD_SIGNATURE);
    s[383] = 1;
    expect_result("RSA signature s = 1", verify(k->type, k->spki, k->spki_len, digest, s, 384), CRYPTO_BAD_SIGNATURE);
    expect_result("RSA signature of 383 bytes", verify(k->type, k->spki, k->spki_len, digest, sig + 1, 383),
                  CRYPTO_BAD_SIGNATURE);
    memcpy(s + 1, sig, 384);
    s[0] = 0;
    expect_result("RSA signature of 385 bytes (leading zero)", verify(k->type, k->spki, k->spki_len, digest, s, 385),
                  CRYPTO_BAD_SIGNATURE);
    expect_result("RSA signature of 0 bytes", verify(k->type, k->spki, k->spki_len, digest, sig, 0),
                  CRYPTO_BAD_SIGNATURE);
    expect_result("RSA key as key_type ECDSA_P384", verify(KEY_TYPE_ECDSA_P384, k->spki, k->spki_len, digest, sig, 96),
                  CRYPTO_BAD_KEY);
    truncations(k, digest, sig);
}

static const uint8_t p384_p[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
static const uint8_t p384_n[48] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};

static void ecdsa_rules(const struct key *k)
{
    uint8_t msg[] = "ecdsa rules", sig[96], digest[SHA384_DIGEST_SIZE], bad[96];
    openssl_sign(k, msg, sizeof msg, sig);
    sha384(msg, sizeof msg, digest);
    expect_result("P-384 rules: the signature itself", verify(k->type, k->spki, k->spki_len, digest, sig, 96),
                  CRYPTO_OK);

    /* r and s outside [1, n-1]. */
    static const struct {
        const char *what;
        int half;          /* 0: r, 1: s */
        int value;         /* 0: zero, 1: n, 2: all ones */
    } scalars[] = {{"r = 0", 0, 0}, {"s = 0", 1, 0}, {"r = n", 0, 1}, {"s = n", 1, 1},
                   {"r = 2^384 - 1", 0, 2}, {"s = 2^384 - 1", 1, 2}};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        memcpy(bad, sig, 96);
        uint8_t *half = bad + 48 * scalars[i].half;
        if (scalars[i].value == 0)
            memset(half, 0, 48);
        else if (scalars[i].value == 1)
            memcpy(half, p384_n, 48);
        else
            memset(half, 0xff, 48);
        expect_result(scalars[i].what, verify(k->type, k->spki, k->spki_len, digest, bad, 96), CRYPTO_BAD_SIGNATURE);
    }
    expect_result("P-384 signature of 95 bytes", verify(k->type, k->spki, k->spki_len, digest, sig, 95),
                  CRYPTO_BAD_SIGNATURE);
    uint8_t longer[97] = {0};
    memcpy(longer + 1, sig, 96);
    expect_result("P-384 signature of 97 bytes", verify(k->type, k->spki, k->spki_len, digest, longer, 97),
                  CRYPTO_BAD_SIGNATURE);

    /* The point: openssl's SubjectPublicKeyInfo ends with 04 || X || Y. */
    uint8_t *key = malloc(k->spki_len);
    uint8_t *x = key + k->spki_len - 96, *y = key + k->spki_len - 48;
    memcpy(key, k->spki, k->spki_len);
    y[47] ^= 1;
    expect_result("P-384 key with a point off the curve (y +- 1)",
                  verify(k->type, key, k->spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    memcpy(key, k->spki, k->spki_len);
    memcpy(x, p384_p, 48);
    expect_result("P-384 key with x = p", verify(k->type, key, k->spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    memcpy(key, k->spki, k->spki_len);
    memcpy(y, p384_p, 48);
    expect_result("P-384 key with y = p", verify(k->type, key, k->spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    memcpy(key, k->spki, k->spki_len);
    memset(x, 0, 96);
    expect_result("P-384 key with the point (0, 0)", verify(k->type, key, k->spki_len, digest, sig, 96),
                  CRYPTO_BAD_KEY);
    memcpy(key, k->spki, k->spki_len);
    key[k->spki_len - 97] = 0x02;   /* a compressed point's marker in front of an uncompressed point's bytes */
    expect_result("P-384 key with a compressed-point marker", verify(k->type, key, k->spki_len, digest, sig, 96),
                  CRYPTO_BAD_KEY);
    free(key);
    expect_result("P-384 key as key_type RSA3072", verify(KEY_TYPE_RSA3072, k->spki, k->spki_len, digest, sig, 96),
                  CRYPTO_BAD_KEY);
    expect_result("P-384 key as key_type 0", verify(0, k->spki, k->spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    expect_result("P-384 key as key_type 3", verify(3, k->spki, k->spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    truncations(k, digest, sig);
}

/* Keys of other sizes and curves are refused as keys, whatever the signature. */
static void foreign_keys(void)
{
    static uint8_t digest[SHA384_DIGEST_SIZE], sig[384];
    struct key p256 = make_key("p256", KEY_TYPE_ECDSA_P384, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    struct key p521 = make_key("p521", KEY_TYPE_ECDSA_P384, "-algorithm EC -pkeyopt ec_paramgen_curve:P-521");
    struct key rsa2048 = make_key("rsa2048", KEY_TYPE_RSA3072, "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
    struct key ed25519 = make_key("ed25519", KEY_TYPE_ECDSA_P384, "-algorithm ED25519");
    expect_result("P-256 key", verify(KEY_TYPE_ECDSA_P384, p256.spki, p256.spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    expect_result("P-521 key", verify(KEY_TYPE_ECDSA_P384, p521.spki, p521.spki_len, digest, sig, 96), CRYPTO_BAD_KEY);
    expect_result("RSA-2048 key", verify(KEY_TYPE_RSA3072, rsa2048.spki, rsa2048.spki_len, digest, sig, 256),
                  CRYPTO_BAD_KEY);
    expect_result("RSA-2048 key with a 384-byte signature",
                  verify(KEY_TYPE_RSA3072, rsa2048.spki, rsa2048.spki_len, digest, sig, 384), CRYPTO_BAD_KEY);
    expect_result("Ed25519 key as ECDSA_P384", verify(KEY_TYPE_ECDSA_P384, ed25519.spki, ed25519.spki_len, digest, sig,
                  96), CRYPTO_BAD_KEY);
    expect_result("Ed25519 key as RSA3072", verify(KEY_TYPE_RSA3072, ed25519.spki, ed25519.spki_len, digest, sig, 384),
                  CRYPTO_BAD_KEY);
    expect_result("empty key", verify(KEY_TYPE_RSA3072, sig, 0, digest, sig, 384), CRYPTO_BAD_KEY);
    free(p256.spki);
    free(p521.spki);
    free(rsa2048.spki);
    free(ed25519.spki);
}

/* ECDSA over digests chosen to be awkward, signed by openssl pkeyutl (which signs a given digest): e >= n
 * (all ones, n + 1) must be reduced, e = n makes u1 zero, e = 0 and e = 1 are the smallest. */
static void ecdsa_special_digests(const struct key *k)
{
    static const uint8_t n[48] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
        0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};
    struct {
        const char *what;
        uint8_t d[SHA384_DIGEST_SIZE];
    } cases[5] = {{"digest 2^384 - 1", {0}}, {"digest n", {0}}, {"digest n + 1", {0}}, {"digest 0", {0}},
                  {"digest 1", {0}}};
    memset(cases[0].d, 0xff, 48);
    memcpy(cases[1].d, n, 48);
    memcpy(cases[2].d, n, 48);
    cases[2].d[47]++;   /* n ends in 0x73: no carry */
    cases[4].d[47] = 1;
    char pem[64];
    snprintf(pem, sizeof pem, "%s.pem", k->name);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path("digest"), cases[i].d, 48);
        run("openssl pkeyutl -sign -inkey '%s' -in '%s' -out '%s'", path(pem), path("digest"), path("sig"));
        size_t len;
        uint8_t *der = read_file(path("sig"), &len), sig[96];
        const uint8_t *p = der + 2;
        der_integer_48(&p, der + len, sig);
        der_integer_48(&p, der + len, sig + 48);
        free(der);
        char what[96];
        snprintf(what, sizeof what, "%s: openssl's signature of %s", k->name, cases[i].what);
        expect_result(what, verify(k->type, k->spki, k->spki_len, cases[i].d, sig, 96), CRYPTO_OK);
        sig[95] ^= 1;
        snprintf(what, sizeof what, "%s: openssl's signature of %s, s changed", k->name, cases[i].what);
        expect_result(what, verify(k->type, k->spki, k->spki_len, cases[i].d, sig, 96), CRYPTO_BAD_SIGNATURE);
    }
}

/* Random byte changes anywhere in a key (lengths and tags included), under ASan: never accepted, never a
 * read outside the buffers. */
static void mangled_keys(const struct key *k, int rounds)
{
    uint8_t msg[] = "mangled", sig[384], digest[SHA384_DIGEST_SIZE];
    openssl_sign(k, msg, sizeof msg, sig);
    sha384(msg, sizeof msg, digest);
    uint8_t *key = malloc(k->spki_len);
    for (int r = 0; r < rounds; r++) {
        memcpy(key, k->spki, k->spki_len);
        int changes = 1 + (int)(rng() % 3);
        for (int c = 0; c < changes; c++) {
            /* Half the changes go to the first 32 bytes, where the tags and lengths are. */
            size_t at = rng() % (rng() & 1 ? 32 : k->spki_len);
            key[at] = (uint8_t)(key[at] + 1 + rng() % 255);
        }
        char what[96];
        snprintf(what, sizeof what, "%s: key with %d bytes changed (round %d)", k->name, changes, r);
        expect_refused(what, verify(k->type, key, k->spki_len, digest, sig, k->sig_len));
    }
    free(key);
}

/* der.c on its own: lengths past the end, non-minimal and indefinite forms, INTEGER signs. */
static void der_rules(void)
{
    static const struct {
        const char *what;
        uint8_t b[8];
        size_t len;
        int ok;
        size_t contents;
    } cases[] = {
        {"empty", {0}, 0, 0, 0},
        {"tag only", {0x30}, 1, 0, 0},
        {"short form", {0x30, 0x02, 1, 2}, 4, 1, 2},
        {"short form past the end", {0x30, 0x03, 1, 2}, 4, 0, 0},
        {"0x81 form below 128", {0x30, 0x81, 0x02, 1, 2}, 5, 0, 0},
        {"0x81 form past the end", {0x30, 0x81, 0x80, 1, 2}, 5, 0, 0},
        {"0x81 without its length byte", {0x30, 0x81}, 2, 0, 0},
        {"0x82 form below 256", {0x30, 0x82, 0x00, 0x02, 1, 2}, 6, 0, 0},
        {"0x82 form past the end", {0x30, 0x82, 0x01, 0x00, 1, 2}, 6, 0, 0},
        {"0x82 with one length byte", {0x30, 0x82, 0x01}, 3, 0, 0},
        {"indefinite length", {0x30, 0x80, 0, 0}, 4, 0, 0},
        {"0x83 form", {0x30, 0x83, 0, 0, 1}, 5, 0, 0},
        {"wrong tag", {0x31, 0x00}, 2, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Exact-size copy: ASan catches a read past the end. */
        uint8_t *b = malloc(cases[i].len ? cases[i].len : 1);
        memcpy(b, cases[i].b, cases[i].len);
        struct der d = {b, cases[i].len}, c;
        int rc = der_take(&d, DER_SEQUENCE, &c);
        checks++;
        if ((rc == 0) != cases[i].ok || (rc == 0 && (c.len != cases[i].contents || d.len != 0)))
            fail("der_take, %s: got %d (contents %zu, left %zu)", cases[i].what, rc, rc == 0 ? c.len : 0,
                 d.len);
        free(b);
    }
    static const struct {
        const char *what;
        uint8_t b[4];
        size_t len;
        int ok;
        size_t magnitude;
    } ints[] = {
        {"no bytes", {0}, 0, 0, 0},     {"zero", {0}, 1, 1, 0},
        {"0x7f", {0x7f}, 1, 1, 1},      {"0x80 (negative)", {0x80}, 1, 0, 0},
        {"00 80", {0, 0x80}, 2, 1, 1},  {"00 7f (not minimal)", {0, 0x7f}, 2, 0, 0},
        {"00 00 (not minimal)", {0, 0}, 2, 0, 0}, {"ff ff (negative)", {0xff, 0xff}, 2, 0, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        struct der in = {ints[i].b, ints[i].len}, mag;
        int rc = der_unsigned(&in, &mag);
        checks++;
        if ((rc == 0) != ints[i].ok || (rc == 0 && mag.len != ints[i].magnitude))
            fail("der_unsigned, %s: got %d (magnitude %zu)", ints[i].what, rc, rc == 0 ? mag.len : 0);
    }
}

/* ---- bignum.c against a plain reference: schoolbook product, remainder by shift and subtract ---- */

/* r = a * b mod m, all k limbs, by the slowest obvious method. */
static void ref_mulmod(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m, unsigned k)
{
    uint64_t prod[2 * BN_MAX_LIMBS + 1] = {0};
    for (unsigned i = 0; i < k; i++) {
        unsigned __int128 carry = 0;
        for (unsigned j = 0; j < k; j++) {
            unsigned __int128 t = (unsigned __int128)a[j] * b[i] + prod[i + j] + carry;
            prod[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
        prod[i + k] = (uint64_t)carry;
    }
    /* Bit by bit from the top: rem = 2 rem + bit, minus m whenever it reaches m (rem < m keeps it in k+1). */
    uint64_t rem[BN_MAX_LIMBS + 1] = {0}, mm[BN_MAX_LIMBS + 1] = {0};
    memcpy(mm, m, 8 * k);
    for (int bitpos = 128 * (int)k - 1; bitpos >= 0; bitpos--) {
        for (int i = (int)k; i > 0; i--)
            rem[i] = rem[i] << 1 | rem[i - 1] >> 63;
        rem[0] = rem[0] << 1 | ((prod[bitpos / 64] >> (bitpos % 64)) & 1);
        int ge = 1;
        for (int i = (int)k; i >= 0; i--) {
            if (rem[i] != mm[i]) {
                ge = rem[i] > mm[i];
                break;
            }
        }
        if (ge) {
            uint64_t borrow = 0;
            for (unsigned i = 0; i <= k; i++) {
                uint64_t d = rem[i] - mm[i] - borrow;
                borrow = rem[i] < mm[i] || (rem[i] == mm[i] && borrow);
                rem[i] = d;
            }
        }
    }
    memcpy(r, rem, 8 * k);
}

/* A random value below m (m's top limb is nonzero). */
static void random_below(uint64_t *a, const uint64_t *m, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        a[i] = rng();
    a[k - 1] %= m[k - 1];
    if (rng() % 8 == 0)
        a[k - 1] = m[k - 1] - 1;   /* near the top, where the final subtraction matters */
}

static void bignum_against_reference(int rounds)
{
    static const unsigned sizes[] = {1, 2, 3, 6, 7, 48};
    for (int r = 0; r < rounds; r++) {
        unsigned k = sizes[r % (sizeof sizes / sizeof sizes[0])];
        uint64_t m[BN_MAX_LIMBS], a[BN_MAX_LIMBS], b[BN_MAX_LIMBS], want[BN_MAX_LIMBS], got[BN_MAX_LIMBS];
        uint64_t am[BN_MAX_LIMBS], bm[BN_MAX_LIMBS];
        for (unsigned i = 0; i < k; i++)
            m[i] = rng();
        /* Full-size moduli (as every real one is), and short ones, down to a few bits in the top limb. */
        if (r % 3 == 1)
            m[k - 1] >>= rng() % 64;
        else if (r % 3 == 2)
            m[k - 1] = 1 + rng() % 15;
        m[0] |= 1;
        if (k == 1 && m[0] == 1)
            m[0] = 3;
        if (m[k - 1] == 0)
            m[k - 1] = 1;
        struct mont_ctx c;
        mont_init(&c, m, k);
        random_below(a, m, k);
        random_below(b, m, k);

        ref_mulmod(want, a, b, m, k);
        mont_to(am, a, &c);
        mont_to(bm, b, &c);
        mont_mul(got, am, bm, &c);
        mont_from(got, got, &c);
        checks++;
        if (memcmp(got, want, 8 * k) != 0)
            fail("bignum: a*b mod m with %u limbs (round %d) differs from the reference", k, r);

        /* a^e for a small random e, against repeated reference products. */
        uint64_t e = rng() % (k > 8 ? 5 : 200), acc[BN_MAX_LIMBS] = {1};
        if (m[0] == 1 && k == 1)
            acc[0] = 0;
        for (uint64_t i = 0; i < e; i++)
            ref_mulmod(acc, acc, a, m, k);
        mont_pow(got, am, &e, 1, &c);
        mont_from(got, got, &c);
        checks++;
        if (memcmp(got, acc, 8 * k) != 0)
            fail("bignum: a^%llu mod m with %u limbs (round %d) differs from the reference", (unsigned long long)e,
                 k, r);

        /* Modular addition and subtraction undo each other and stay below m. */
        bn_mod_add(got, a, b, m, k);
        int below = bn_cmp(got, m, k) < 0;
        bn_mod_sub(got, got, b, m, k);
        checks++;
        if (!below || memcmp(got, a, 8 * k) != 0)
            fail("bignum: (a + b) - b mod m with %u limbs (round %d) is not a", k, r);
    }
}

/* ---- timing, for the record (meaningful in the unsanitized -O2 build, crypto-bench) ---- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The best of several batches: on a shared machine the minimum is the steadiest figure. */
static double ms_per_verify(const struct key *k)
{
    uint8_t msg[] = "bench", sig[384], digest[SHA384_DIGEST_SIZE];
    size_t sig_len = openssl_sign(k, msg, sizeof msg, sig);
    sha384(msg, sizeof msg, digest);
    double best = 1e9;
    for (int batch = 0; batch < 10; batch++) {
        double start = now_ms();
        for (int i = 0; i < 10; i++) {
            if (signature_verify(k->type, k->spki, k->spki_len, digest, sig, sig_len) != CRYPTO_OK)
                die("%s: the bench signature does not verify", k->name);
        }
        double each = (now_ms() - start) / 10;
        if (each < best)
            best = each;
    }
    return best;
}

static double sha384_mb_per_s(void)
{
    static uint8_t data[1 << 20];
    uint8_t d[SHA384_DIGEST_SIZE];
    double best = 1e9;
    for (int round = 0; round < 10; round++) {
        double start = now_ms();
        sha384(data, sizeof data, d);
        double ms = now_ms() - start;
        if (ms < best)
            best = ms;
    }
    return 1e3 / best * (sizeof data / 1e6);
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
    int bench_only = argc > 1 && strcmp(argv[1], "bench") == 0;
    const char *seed_env = getenv("CRYPTO_CHECK_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    if (rng_state == 0)
        rng_state = 1;
    if (!mkdtemp(workdir))
        die("mkdtemp: %s", strerror(errno));
    atexit(cleanup);

    struct key rsa3 = make_key("rsa3072-e3", KEY_TYPE_RSA3072,
                               "-algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3");
    struct key rsa65537 = make_key("rsa3072-e65537", KEY_TYPE_RSA3072,
                                   "-algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:65537");
    struct key p384 = make_key("p384", KEY_TYPE_ECDSA_P384, "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");

    if (bench_only) {
        printf("bench (host, %s): verify RSA-3072 e=3 %.3f ms, e=65537 %.3f ms, ECDSA P-384 %.3f ms; SHA-384 %.0f MB/s\n",
#ifdef __OPTIMIZE__
               "gcc -O2, no sanitizers",
#else
               "unoptimized",
#endif
               ms_per_verify(&rsa3), ms_per_verify(&rsa65537), ms_per_verify(&p384), sha384_mb_per_s());
        return 0;
    }

    printf("crypto-check: seed %llu (CRYPTO_CHECK_SEED repeats a run)\n", (unsigned long long)rng_state);
    sha384_fips_vectors();
    sha384_against_openssl(60);
    der_rules();
    bignum_against_reference(300);

    signatures_from_openssl(&rsa3, 20);
    signatures_from_openssl(&rsa65537, 20);
    signatures_from_openssl(&p384, 20);
    rsa_rules(&rsa3);
    rsa_rules(&rsa65537);
    ecdsa_rules(&p384);
    ecdsa_special_digests(&p384);
    mangled_keys(&rsa65537, 300);
    mangled_keys(&p384, 300);

    /* Q = G and Q = -G: G + Q is a doubling or the point at infinity. */
    struct key q_is_g = make_p384_key_with_secret(
        "p384-d1", "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001");
    struct key q_is_minus_g = make_p384_key_with_secret(
        "p384-dn-1", "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52972");
    signatures_from_openssl(&q_is_g, 5);
    signatures_from_openssl(&q_is_minus_g, 5);

    foreign_keys();

    free(rsa3.spki);
    free(rsa65537.spki);
    free(p384.spki);
    free(q_is_g.spki);
    free(q_is_minus_g.spki);
    if (failures) {
        printf("crypto-check: %d of %d checks FAILED (seed %llu)\n", failures, checks, (unsigned long long)rng_state);
        return 1;
    }
    printf("crypto-check: %d checks passed\n", checks);
    return 0;
}
