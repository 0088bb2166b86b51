/*
 * Fixed-size unsigned integers for signature verification: little-endian arrays of k 64-bit limbs
 * (k <= BN_MAX_LIMBS), and Montgomery arithmetic modulo an odd m. Not constant-time: everything it
 * handles (keys, signatures, digests) is public.
 */
#ifndef ENCLAVE_BIGNUM_H
#define ENCLAVE_BIGNUM_H

#include <stddef.h>
#include <stdint.h>

#define BN_MAX_LIMBS 48u   /* 3072 bits, the RSA modulus */

/* Big-endian bytes into k limbs, zero-extended; -1 (r untouched) when the value needs more than k limbs. */
int bn_from_be(uint64_t *r, unsigned k, const uint8_t *be, size_t len);
/* The low len bytes of a (len <= 8k), big-endian. */
void bn_to_be(uint8_t *be, size_t len, const uint64_t *a, unsigned k);

int bn_cmp(const uint64_t *a, const uint64_t *b, unsigned k);
int bn_is_zero(const uint64_t *a, unsigned k);
void bn_copy(uint64_t *r, const uint64_t *a, unsigned k);
/* r = a + b, returns the carry out; r = a - b, returns the borrow out. r may alias a or b. */
uint64_t bn_add(uint64_t *r, const uint64_t *a, const uint64_t *b, unsigned k);
uint64_t bn_sub(uint64_t *r, const uint64_t *a, const uint64_t *b, unsigned k);
/* Modular addition and subtraction for a, b < m. r may alias a or b. */
void bn_mod_add(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m, unsigned k);
void bn_mod_sub(uint64_t *r, const uint64_t *a, const uint64_t *b, const uint64_t *m, unsigned k);

/* Montgomery arithmetic modulo m with R = 2^(64k). The context holds m by pointer: m must outlive it. */
struct mont_ctx {
    const uint64_t *m;
    unsigned k;
    uint64_t m_inv;                 /* -m^-1 mod 2^64 */
    uint64_t one[BN_MAX_LIMBS];     /* R mod m: 1 in Montgomery form */
    uint64_t rr[BN_MAX_LIMBS];      /* R^2 mod m: turns x into x*R */
};

/* m odd and greater than 1. */
void mont_init(struct mont_ctx *c, const uint64_t *m, unsigned k);
/* r = a*b/R mod m, for a, b < m. r may alias a or b. */
void mont_mul(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct mont_ctx *c);
/* Into Montgomery form (a < m) and out of it. */
void mont_to(uint64_t *r, const uint64_t *a, const struct mont_ctx *c);
void mont_from(uint64_t *r, const uint64_t *a, const struct mont_ctx *c);
/* r = base^exp, both in Montgomery form; exp has exp_limbs limbs. r may alias base. */
void mont_pow(uint64_t *r, const uint64_t *base, const uint64_t *exp, unsigned exp_limbs, const struct mont_ctx *c);

#endif
