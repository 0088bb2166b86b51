/*
 * RSASSA-PKCS1-v1_5 verification with SHA-384 and a 3072-bit modulus (RFC 8017 8.2.2): s^e mod n, then the
 * whole encoded message compared with the one we build from the digest (EMSA-PKCS1-v1_5, 9.2), so nothing
 * in the decrypted block is ever parsed.
 */
#include "bignum.h"
#include "der.h"
#include "mem.h"
#include "signature.h"

#define RSA_BYTES 384u                 /* 3072 bits */
#define RSA_LIMBS (RSA_BYTES / 8)
#define RSA_MAX_EXPONENT_BYTES 32u     /* FIPS 186-4 B.3.1: e < 2^256; bounds the cost of s^e */

/* rsaEncryption, 1.2.840.113549.1.1.1 */
static const uint8_t rsa_encryption_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

/* RFC 8017 9.2 note 1: the DER DigestInfo for SHA-384 up to the digest itself. */
static const uint8_t sha384_digest_info[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};

/* SubjectPublicKeyInfo (RFC 5280 4.1) with an RSAPublicKey (RFC 8017 A.1.1) in its BIT STRING. */
static int parse_key(const uint8_t *spki, size_t spki_len, struct der *modulus, struct der *exponent)
{
    struct der all = {spki, spki_len}, info, alg, bits, key, n, e;
    if (der_take(&all, DER_SEQUENCE, &info) != 0 || all.len != 0)
        return -1;
    if (der_take(&info, DER_SEQUENCE, &alg) != 0 ||
        der_take_exact(&alg, DER_OID, rsa_encryption_oid, sizeof rsa_encryption_oid) != 0 ||
        der_take_exact(&alg, DER_NULL, NULL, 0) != 0 || alg.len != 0)
        return -1;
    /* The BIT STRING's first byte counts unused bits: a DER key has none. */
    if (der_take(&info, DER_BIT_STRING, &bits) != 0 || info.len != 0 || bits.len < 1 || bits.p[0] != 0)
        return -1;
    bits.p++;
    bits.len--;
    if (der_take(&bits, DER_SEQUENCE, &key) != 0 || bits.len != 0)
        return -1;
    if (der_take(&key, DER_INTEGER, &n) != 0 || der_take(&key, DER_INTEGER, &e) != 0 || key.len != 0)
        return -1;
    if (der_unsigned(&n, modulus) != 0 || der_unsigned(&e, exponent) != 0)
        return -1;
    /* Exactly 3072 bits, and odd (an even modulus is no RSA key, and Montgomery needs it odd). */
    if (modulus->len != RSA_BYTES || !(modulus->p[0] & 0x80) || !(modulus->p[RSA_BYTES - 1] & 1))
        return -1;
    /* Odd, at least 3, below 2^256. */
    if (exponent->len == 0 || exponent->len > RSA_MAX_EXPONENT_BYTES || !(exponent->p[exponent->len - 1] & 1) ||
        (exponent->len == 1 && exponent->p[0] == 1))
        return -1;
    return 0;
}

int rsa3072_verify(const uint8_t *spki, size_t spki_len, const uint8_t digest[SHA384_DIGEST_SIZE],
                   const uint8_t *sig, size_t sig_len)
{
    struct der modulus, exponent;
    if (parse_key(spki, spki_len, &modulus, &exponent) != 0)
        return CRYPTO_BAD_KEY;
    if (sig_len != RSA_BYTES)
        return CRYPTO_BAD_SIGNATURE;

    uint64_t n[RSA_LIMBS], e[RSA_MAX_EXPONENT_BYTES / 8], s[RSA_LIMBS];
    bn_from_be(n, RSA_LIMBS, modulus.p, modulus.len);
    bn_from_be(e, RSA_MAX_EXPONENT_BYTES / 8, exponent.p, exponent.len);
    bn_from_be(s, RSA_LIMBS, sig, sig_len);
    if (bn_cmp(s, n, RSA_LIMBS) >= 0)   /* RFC 8017 5.2.2: the representative must be below n */
        return CRYPTO_BAD_SIGNATURE;

    struct mont_ctx ctx;
    mont_init(&ctx, n, RSA_LIMBS);
    mont_to(s, s, &ctx);
    mont_pow(s, s, e, RSA_MAX_EXPONENT_BYTES / 8, &ctx);
    mont_from(s, s, &ctx);
    uint8_t em[RSA_BYTES];
    bn_to_be(em, RSA_BYTES, s, RSA_LIMBS);

    /* EM = 0x00 || 0x01 || PS (0xff bytes) || 0x00 || DigestInfo prefix || digest */
    uint8_t want[RSA_BYTES];
    size_t ps_len = RSA_BYTES - 3 - sizeof sha384_digest_info - SHA384_DIGEST_SIZE;
    want[0] = 0x00;
    want[1] = 0x01;
    memset(want + 2, 0xff, ps_len);
    want[2 + ps_len] = 0x00;
    memcpy(want + 3 + ps_len, sha384_digest_info, sizeof sha384_digest_info);
    memcpy(want + 3 + ps_len + sizeof sha384_digest_info, digest, SHA384_DIGEST_SIZE);
    return memcmp(em, want, RSA_BYTES) == 0 ? CRYPTO_OK : CRYPTO_BAD_SIGNATURE;
}
