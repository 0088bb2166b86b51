/*
 * Multi-limb arithmetic for the signature checks (bignum.h). 64x64->128 products come from unsigned
 * __int128 multiplication, a single `mul`; nothing here divides a 128-bit value (that would need libgcc).
 */
#include "bignum.h"

typedef unsigned __int128 u128;

int bn_from_be(uint64_t *r, unsigned k, const uint8_t *be, size_t len)
{
    /* Leading zero bytes beyond the limbs' room are allowed: they do not change the value. */
    while (len > 8u * k) {
        if (*be != 0)
            return -1;
        be++;
        len--;
    }
    for (unsigned i = 0; i < k; i++)
        r[i] = 0;
    for (size_t i = 0; i < len; i++) {
        size_t bit = 8 * (len - 1 - i);
        r[bit / 64] |= (uint64_t)be[i] << (bit % 64);
    }
    return 0;
}

void bn_to_be(uint8_t *be, size_t len, const uint64_t *a, unsigned k)
{
    (void)k;
    for (size_t i = 0; i < len; i++) {
        size_t bit = 8 * (len - 1 - i);
        be[i] = (uint8_t)(a[bit / 64] >> (bit % 64));
    }
}

int bn_cmp(const uint64_t *a, const uint64_t *b, unsigned k)
{
    for (unsigned i = k; i-- > 0;) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

int bn_is_zero(const uint64_t *a, unsigned k)
{
    uint64_t any = 0;
    for (unsigned i = 0; i < k; i++)
        any |= a[i];
    return any == 0;
}

void bn_copy(uint64_t *r, const uint64_t *a, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        r[i] = a[i];
}

uint64_t bn_add(uint64_t *r, const uint64_t *a, const uint64_t *b, unsigned k)
{
    uint64_t carry = 0;
    for (unsigned i = 0; i < k; i++) {
        u128 s = (u128)a[i] + b[i] + carry;
        r[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    return carry;
}

uint64_t bn_sub(uint64_t *r, const uint64_t *a, const uint64_t *b, unsigned k)
{
    uint64_t borrow = 0;
    for (unsigned i = 0; i < k; i++) {
        uint64_t ai = a[i], bi = b[i];
        uint64_t d = ai - bi - borrow;
        borrow = (ai < bi) || (ai == bi && borrow);
        r[i] = d;
    }
    return borrow;
}

void bn_mod_add(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m, unsigned k)
{
    uint64_t sum[BN_MAX_LIMBS], diff[BN_MAX_LIMBS];
    uint64_t carry = bn_add(sum, a, b, k);
    uint64_t borrow = bn_sub(diff, sum, m, k);
    /* a + b < 2m: subtract m once when the sum reached m (a carry out means it did). */
    bn_copy(r, carry || !borrow ? diff : sum, k);
}

void bn_mod_sub(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m, unsigned k)
{
    if (bn_sub(r, a, b, k))
        bn_add(r, r, m, k);
}

/* v = 2v mod m, for v < m. */
static void double_mod(uint64_t *v, const uint64_t *m, unsigned k)
{
    uint64_t d[BN_MAX_LIMBS];
    uint64_t carry = bn_add(v, v, v, k);
    uint64_t borrow = bn_sub(d, v, m, k);
    if (carry || !borrow)
        bn_copy(v, d, k);
}

void mont_init(struct mont_ctx *c, const uint64_t *m, unsigned k)
{
    c->m = m;
    c->k = k;
    /* Newton's iteration for m^-1 mod 2^64: x = m is right to 3 bits (odd m squared is 1 mod 8), and each
     * step x *= 2 - m*x doubles the correct bits: 6, 12, 24, 48, 96. */
    uint64_t x = m[0];
    for (int i = 0; i < 5; i++)
        x *= 2 - m[0] * x;
    c->m_inv = (uint64_t)0 - x;

    /* R mod m: the top power of two below m, doubled (and reduced) up to 2^(64k); for a full-size m that
     * is a single step. */
    unsigned top = 64 * k;
    while (top > 0 && !((m[(top - 1) / 64] >> ((top - 1) % 64)) & 1))
        top--;
    uint64_t v[BN_MAX_LIMBS];
    for (unsigned i = 0; i < k; i++)
        v[i] = 0;
    v[(top - 1) / 64] = (uint64_t)1 << ((top - 1) % 64);
    for (unsigned step = top - 1; step < 64 * k; step++)
        double_mod(v, m, k);
    bn_copy(c->one, v, k);

    /* R^2 mod m: 2R mod m is 2 in Montgomery form; raised to the power 64k it is 2^(64k) R = R^2. */
    double_mod(v, m, k);
    uint64_t exp = 64 * (uint64_t)k;
    mont_pow(c->rr, v, &exp, 1, c);
}

static inline __attribute__((always_inline)) void mont_mul_k(uint64_t *r, const uint64_t *a, const uint64_t *b,
                                                            const struct mont_ctx *c, const unsigned k)
{
    /* CIOS (coarsely integrated operand scanning): after round i, t = (a*b[0..i] + q*m) / 2^(64(i+1))
     * with t < 2m throughout, held in k+2 limbs. */
    const uint64_t *m = c->m;
    uint64_t t[BN_MAX_LIMBS + 2];
    for (unsigned j = 0; j < k + 2; j++)
        t[j] = 0;

    for (unsigned i = 0; i < k; i++) {
        uint64_t carry = 0;
        u128 acc;
        for (unsigned j = 0; j < k; j++) {
            acc = (u128)a[j] * b[i] + t[j] + carry;
            t[j] = (uint64_t)acc;
            carry = (uint64_t)(acc >> 64);
        }
        acc = (u128)t[k] + carry;
        t[k] = (uint64_t)acc;
        t[k + 1] = (uint64_t)(acc >> 64);

        uint64_t q = t[0] * c->m_inv;   /* makes t + q*m divisible by 2^64 */
        acc = (u128)q * m[0] + t[0];
        carry = (uint64_t)(acc >> 64);
        for (unsigned j = 1; j < k; j++) {
            acc = (u128)q * m[j] + t[j] + carry;
            t[j - 1] = (uint64_t)acc;
            carry = (uint64_t)(acc >> 64);
        }
        acc = (u128)t[k] + carry;
        t[k - 1] = (uint64_t)acc;
        t[k] = t[k + 1] + (uint64_t)(acc >> 64);
    }

    uint64_t d[BN_MAX_LIMBS];
    uint64_t borrow = bn_sub(d, t, m, k);
    bn_copy(r, t[k] || !borrow ? d : t, k);
}

void mont_mul(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct mont_ctx *c)
{
    /* P-384's field and order take nearly all the calls in an ECDSA check: with k a constant the compiler
     * unrolls the 6-limb loops, about twice as fast. */
    if (c->k == 6)
        mont_mul_k(r, a, b, c, 6);
    else
        mont_mul_k(r, a, b, c, c->k);
}

void mont_to(uint64_t *r, const uint64_t *a, const struct mont_ctx *c)
{
    mont_mul(r, a, c->rr, c);
}

void mont_from(uint64_t *r, const uint64_t *a, const struct mont_ctx *c)
{
    uint64_t unit[BN_MAX_LIMBS];
    for (unsigned i = 0; i < c->k; i++)
        unit[i] = 0;
    unit[0] = 1;
    mont_mul(r, a, unit, c);
}

void mont_pow(uint64_t *r, const uint64_t *base, const uint64_t *exp, unsigned exp_limbs, const struct mont_ctx *c)
{
    /* Left to right, square and multiply. */
    uint64_t b[BN_MAX_LIMBS], acc[BN_MAX_LIMBS];
    bn_copy(b, base, c->k);
    bn_copy(acc, c->one, c->k);
    int started = 0;
    for (unsigned i = exp_limbs; i-- > 0;) {
        for (int bit = 63; bit >= 0; bit--) {
            if (started)
                mont_mul(acc, acc, acc, c);
            if ((exp[i] >> bit) & 1) {
                mont_mul(acc, acc, b, c);
                started = 1;
            }
        }
    }
    bn_copy(r, acc, c->k);
}
