/*
 * SHA-384 and signature verification for the module loader (docs/module-format.md, "Keys" and "Signature
 * structure"). Freestanding; verification only (public data, so no constant-time requirement).
 */
#ifndef ENCLAVE_CRYPTO_H
#define ENCLAVE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA384_DIGEST_SIZE 48u
#define SHA384_BLOCK_SIZE  128u

struct sha384_ctx {
    uint64_t h[8];
    uint64_t total;                    /* bytes hashed so far (modules are far below 2^61 bytes) */
    uint32_t fill;                     /* bytes waiting in block */
    uint8_t block[SHA384_BLOCK_SIZE];
};

void sha384_init(struct sha384_ctx *ctx);
void sha384_update(struct sha384_ctx *ctx, const void *data, size_t len);
void sha384_final(struct sha384_ctx *ctx, uint8_t digest[SHA384_DIGEST_SIZE]);
void sha384(const void *data, size_t len, uint8_t digest[SHA384_DIGEST_SIZE]);

/* The signature structure's key_type. */
#define KEY_TYPE_RSA3072    1u   /* RSASSA-PKCS1-v1_5 with SHA-384, any public exponent, 384-byte signature */
#define KEY_TYPE_ECDSA_P384 2u   /* ECDSA on P-384 with SHA-384, signature r || s, 48 bytes each, big-endian */

#define CRYPTO_OK             0
#define CRYPTO_BAD_KEY      (-1)   /* not a DER SubjectPublicKeyInfo of key_type (size, curve, encoding) */
#define CRYPTO_BAD_SIGNATURE (-2)  /* well-formed key, but the signature does not verify */

/*
 * Verifies sig over a SHA-384 digest with the public key spki (DER SubjectPublicKeyInfo, as in the signature
 * structure). Returns CRYPTO_OK, CRYPTO_BAD_KEY or CRYPTO_BAD_SIGNATURE; never reads outside the buffers.
 */
int signature_verify(uint32_t key_type, const uint8_t *spki, size_t spki_len,
                     const uint8_t digest[SHA384_DIGEST_SIZE], const uint8_t *sig, size_t sig_len);

#endif
