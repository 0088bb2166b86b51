/*
 * ECDSA verification on P-384 (SEC 1 4.1.4, FIPS 186-4 6.4.2) with a SHA-384 digest. Field elements live
 * in Montgomery form modulo p, points in Jacobian coordinates (x, y, z) ~ (x/z^2, y/z^3) with z = 0 the
 * point at infinity; u1*G + u2*Q is one double-and-add pass over both scalars (Shamir's trick).
 */
#include "bignum.h"
#include "der.h"
#include "mem.h"
#include "signature.h"

#define L 6u                 /* limbs in 384 bits */
#define BYTES 48u

/* FIPS 186-4 D.1.2.4 (secp384r1 in SEC 2): the field prime, the order, b (a is -3), the base point. */
static const uint8_t p384_p[BYTES] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
static const uint8_t p384_n[BYTES] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};
static const uint8_t p384_b[BYTES] = {
    0xb3, 0x31, 0x2f, 0xa7, 0xe2, 0x3e, 0xe7, 0xe4, 0x98, 0x8e, 0x05, 0x6b, 0xe3, 0xf8, 0x2d, 0x19,
    0x18, 0x1d, 0x9c, 0x6e, 0xfe, 0x81, 0x41, 0x12, 0x03, 0x14, 0x08, 0x8f, 0x50, 0x13, 0x87, 0x5a,
    0xc6, 0x56, 0x39, 0x8d, 0x8a, 0x2e, 0xd1, 0x9d, 0x2a, 0x85, 0xc8, 0xed, 0xd3, 0xec, 0x2a, 0xef};
static const uint8_t p384_gx[BYTES] = {
    0xaa, 0x87, 0xca, 0x22, 0xbe, 0x8b, 0x05, 0x37, 0x8e, 0xb1, 0xc7, 0x1e, 0xf3, 0x20, 0xad, 0x74,
    0x6e, 0x1d, 0x3b, 0x62, 0x8b, 0xa7, 0x9b, 0x98, 0x59, 0xf7, 0x41, 0xe0, 0x82, 0x54, 0x2a, 0x38,
    0x55, 0x02, 0xf2, 0x5d, 0xbf, 0x55, 0x29, 0x6c, 0x3a, 0x54, 0x5e, 0x38, 0x72, 0x76, 0x0a, 0xb7};
static const uint8_t p384_gy[BYTES] = {
    0x36, 0x17, 0xde, 0x4a, 0x96, 0x26, 0x2c, 0x6f, 0x5d, 0x9e, 0x98, 0xbf, 0x92, 0x92, 0xdc, 0x29,
    0xf8, 0xf4, 0x1d, 0xbd, 0x28, 0x9a, 0x14, 0x7c, 0xe9, 0xda, 0x31, 0x13, 0xb5, 0xf0, 0xb8, 0xc0,
    0x0a, 0x60, 0xb1, 0xce, 0x1d, 0x7e, 0x81, 0x9d, 0x7a, 0x43, 0x1d, 0x7c, 0x90, 0xea, 0x0e, 0x5f};

/* id-ecPublicKey 1.2.840.10045.2.1 and secp384r1 1.3.132.0.34 (RFC 5480 2.1.1). */
static const uint8_t ec_public_key_oid[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t secp384r1_oid[] = {0x2b, 0x81, 0x04, 0x00, 0x22};

/* The moduli and their Montgomery contexts (which point at p and n: keep the struct where it is). */
struct curve {
    uint64_t p[L], n[L];
    struct mont_ctx fp, fn;
    uint64_t b[L];           /* Montgomery form */
};

struct point {
    uint64_t x[L], y[L], z[L];
};

static void curve_init(struct curve *c)
{
    bn_from_be(c->p, L, p384_p, BYTES);
    bn_from_be(c->n, L, p384_n, BYTES);
    mont_init(&c->fp, c->p, L);
    mont_init(&c->fn, c->n, L);
    uint64_t b[L];
    bn_from_be(b, L, p384_b, BYTES);
    mont_to(c->b, b, &c->fp);
}

static void fmul(const struct curve *c, uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    mont_mul(r, a, b, &c->fp);
}

static void fadd(const struct curve *c, uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    bn_mod_add(r, a, b, c->p, L);
}

static void fsub(const struct curve *c, uint64_t *r, const uint64_t *a, const uint64_t *b)
{
    bn_mod_sub(r, a, b, c->p, L);
}

/* y^2 = x^3 - 3x + b, affine coordinates in Montgomery form. */
static int on_curve(const struct curve *c, const uint64_t *x, const uint64_t *y)
{
    uint64_t lhs[L], rhs[L], t[L];
    fmul(c, lhs, y, y);
    fmul(c, t, x, x);
    fmul(c, rhs, t, x);
    fsub(c, rhs, rhs, x);
    fsub(c, rhs, rhs, x);
    fsub(c, rhs, rhs, x);
    fadd(c, rhs, rhs, c->b);
    return bn_cmp(lhs, rhs, L) == 0;
}

static int is_infinity(const struct point *a)
{
    return bn_is_zero(a->z, L);
}

/* r = 2a, with a = -3 (the 2001 Bernstein doubling). r may alias a. */
static void point_double(const struct curve *c, struct point *r, const struct point *a)
{
    if (is_infinity(a) || bn_is_zero(a->y, L)) {
        /* No point of order 2 on a prime-order curve: a zero y only comes with infinity. */
        memset(r->z, 0, sizeof r->z);
        bn_copy(r->x, a->x, L);
        bn_copy(r->y, a->y, L);
        return;
    }
    uint64_t delta[L], gamma[L], beta[L], alpha[L], t1[L], t2[L], x3[L], y3[L], z3[L];
    fmul(c, delta, a->z, a->z);
    fmul(c, gamma, a->y, a->y);
    fmul(c, beta, a->x, gamma);
    fsub(c, t1, a->x, delta);
    fadd(c, t2, a->x, delta);
    fmul(c, alpha, t1, t2);
    fadd(c, t1, alpha, alpha);
    fadd(c, alpha, t1, alpha);                 /* alpha = 3 (x - delta)(x + delta) */
    fadd(c, beta, beta, beta);
    fadd(c, beta, beta, beta);                 /* beta = 4 x gamma */
    fmul(c, x3, alpha, alpha);
    fsub(c, x3, x3, beta);
    fsub(c, x3, x3, beta);                     /* x3 = alpha^2 - 8 x gamma */
    fadd(c, t1, a->y, a->z);
    fmul(c, z3, t1, t1);
    fsub(c, z3, z3, gamma);
    fsub(c, z3, z3, delta);                    /* z3 = (y + z)^2 - y^2 - z^2 = 2yz */
    fsub(c, t1, beta, x3);
    fmul(c, y3, alpha, t1);
    fmul(c, t2, gamma, gamma);
    fadd(c, t2, t2, t2);
    fadd(c, t2, t2, t2);
    fadd(c, t2, t2, t2);
    fsub(c, y3, y3, t2);                       /* y3 = alpha (4 x gamma - x3) - 8 gamma^2 */
    bn_copy(r->x, x3, L);
    bn_copy(r->y, y3, L);
    bn_copy(r->z, z3, L);
}

/* r = a + b for any a, b: equal points go to doubling, opposite ones give infinity. r may alias either. */
static void point_add(const struct curve *c, struct point *r, const struct point *a, const struct point *b)
{
    if (is_infinity(a)) {
        *r = *b;
        return;
    }
    if (is_infinity(b)) {
        *r = *a;
        return;
    }
    uint64_t z1z1[L], z2z2[L], u1[L], u2[L], s1[L], s2[L], h[L], rr[L], t[L];
    fmul(c, z1z1, a->z, a->z);
    fmul(c, z2z2, b->z, b->z);
    fmul(c, u1, a->x, z2z2);
    fmul(c, u2, b->x, z1z1);
    fmul(c, t, b->z, z2z2);
    fmul(c, s1, a->y, t);
    fmul(c, t, a->z, z1z1);
    fmul(c, s2, b->y, t);
    fsub(c, h, u2, u1);
    fsub(c, rr, s2, s1);
    if (bn_is_zero(h, L)) {
        if (bn_is_zero(rr, L)) {
            point_double(c, r, a);
        } else {
            memset(r, 0, sizeof *r);
        }
        return;
    }
    uint64_t hh[L], hhh[L], v[L], x3[L], y3[L], z3[L];
    fmul(c, hh, h, h);
    fmul(c, hhh, h, hh);
    fmul(c, v, u1, hh);
    fmul(c, x3, rr, rr);
    fsub(c, x3, x3, hhh);
    fsub(c, x3, x3, v);
    fsub(c, x3, x3, v);                        /* x3 = r^2 - h^3 - 2 u1 h^2 */
    fsub(c, t, v, x3);
    fmul(c, y3, rr, t);
    fmul(c, t, s1, hhh);
    fsub(c, y3, y3, t);                        /* y3 = r (u1 h^2 - x3) - s1 h^3 */
    fmul(c, t, a->z, b->z);
    fmul(c, z3, t, h);                         /* z3 = z1 z2 h */
    bn_copy(r->x, x3, L);
    bn_copy(r->y, y3, L);
    bn_copy(r->z, z3, L);
}

static int bit(const uint64_t *v, unsigned i)
{
    return (int)((v[i / 64] >> (i % 64)) & 1);
}

/* The key's point Q from the SubjectPublicKeyInfo (RFC 5480 2), affine, not yet in Montgomery form. */
static int parse_key(const uint8_t *spki, size_t spki_len, uint64_t qx[L], uint64_t qy[L])
{
    struct der all = {spki, spki_len}, info, alg, bits;
    if (der_take(&all, DER_SEQUENCE, &info) != 0 || all.len != 0)
        return -1;
    if (der_take(&info, DER_SEQUENCE, &alg) != 0 ||
        der_take_exact(&alg, DER_OID, ec_public_key_oid, sizeof ec_public_key_oid) != 0 ||
        der_take_exact(&alg, DER_OID, secp384r1_oid, sizeof secp384r1_oid) != 0 || alg.len != 0)
        return -1;
    /* No unused bits, then the uncompressed point 04 || X || Y (SEC 1 2.3.3). */
    if (der_take(&info, DER_BIT_STRING, &bits) != 0 || info.len != 0 || bits.len != 2 + 2 * BYTES ||
        bits.p[0] != 0 || bits.p[1] != 0x04)
        return -1;
    bn_from_be(qx, L, bits.p + 2, BYTES);
    bn_from_be(qy, L, bits.p + 2 + BYTES, BYTES);
    return 0;
}

int ecdsa_p384_verify(const uint8_t *spki, size_t spki_len, const uint8_t digest[SHA384_DIGEST_SIZE],
                      const uint8_t *sig, size_t sig_len)
{
    struct curve c;
    struct point g, q, gq, acc;
    uint64_t qx[L], qy[L];
    if (parse_key(spki, spki_len, qx, qy) != 0)
        return CRYPTO_BAD_KEY;
    curve_init(&c);
    /* SEC 1 3.2.2.1: coordinates in [0, p-1] and on the curve; with cofactor 1 that makes Q of order n. */
    if (bn_cmp(qx, c.p, L) >= 0 || bn_cmp(qy, c.p, L) >= 0)
        return CRYPTO_BAD_KEY;
    mont_to(q.x, qx, &c.fp);
    mont_to(q.y, qy, &c.fp);
    bn_copy(q.z, c.fp.one, L);
    if (!on_curve(&c, q.x, q.y))
        return CRYPTO_BAD_KEY;

    if (sig_len != 2 * BYTES)
        return CRYPTO_BAD_SIGNATURE;
    uint64_t r[L], s[L], e[L];
    bn_from_be(r, L, sig, BYTES);
    bn_from_be(s, L, sig + BYTES, BYTES);
    if (bn_is_zero(r, L) || bn_is_zero(s, L) || bn_cmp(r, c.n, L) >= 0 || bn_cmp(s, c.n, L) >= 0)
        return CRYPTO_BAD_SIGNATURE;

    /* e: the digest as an integer (its 384 bits are the order's length, so no truncation), below 2n. */
    bn_from_be(e, L, digest, SHA384_DIGEST_SIZE);
    if (bn_cmp(e, c.n, L) >= 0)
        bn_sub(e, e, c.n, L);

    /* w = s^-1 = s^(n-2) mod n (Fermat), kept in Montgomery form: multiplying it into e and r then gives
     * u1 = e w and u2 = r w in plain form. */
    uint64_t w[L], n_minus_2[L], two[L] = {2}, u1[L], u2[L];
    bn_sub(n_minus_2, c.n, two, L);
    mont_to(w, s, &c.fn);
    mont_pow(w, w, n_minus_2, L, &c.fn);
    mont_mul(u1, e, w, &c.fn);
    mont_mul(u2, r, w, &c.fn);

    uint64_t gx[L], gy[L];
    bn_from_be(gx, L, p384_gx, BYTES);
    bn_from_be(gy, L, p384_gy, BYTES);
    mont_to(g.x, gx, &c.fp);
    mont_to(g.y, gy, &c.fp);
    bn_copy(g.z, c.fp.one, L);
    point_add(&c, &gq, &g, &q);

    memset(&acc, 0, sizeof acc);
    for (unsigned i = 64 * L; i-- > 0;) {
        point_double(&c, &acc, &acc);
        int b1 = bit(u1, i), b2 = bit(u2, i);
        if (b1 && b2)
            point_add(&c, &acc, &acc, &gq);
        else if (b1)
            point_add(&c, &acc, &acc, &g);
        else if (b2)
            point_add(&c, &acc, &acc, &q);
    }
    if (is_infinity(&acc))
        return CRYPTO_BAD_SIGNATURE;

    /* The affine x = X / Z^2, with 1/Z = Z^(p-2) (Fermat), out of Montgomery form, then mod n. */
    uint64_t p_minus_2[L], zinv[L], x[L];
    bn_sub(p_minus_2, c.p, two, L);
    mont_pow(zinv, acc.z, p_minus_2, L, &c.fp);
    fmul(&c, zinv, zinv, zinv);
    fmul(&c, x, acc.x, zinv);
    mont_from(x, x, &c.fp);
    if (bn_cmp(x, c.n, L) >= 0)
        bn_sub(x, x, c.n, L);
    return bn_cmp(x, r, L) == 0 ? CRYPTO_OK : CRYPTO_BAD_SIGNATURE;
}
