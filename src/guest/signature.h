/* The two schemes behind signature_verify (crypto.h), each parsing its own SubjectPublicKeyInfo. */
#ifndef ENCLAVE_SIGNATURE_H
#define ENCLAVE_SIGNATURE_H

#include "crypto.h"

int rsa3072_verify(const uint8_t *spki, size_t spki_len, const uint8_t digest[SHA384_DIGEST_SIZE],
                   const uint8_t *sig, size_t sig_len);
int ecdsa_p384_verify(const uint8_t *spki, size_t spki_len, const uint8_t digest[SHA384_DIGEST_SIZE],
                      const uint8_t *sig, size_t sig_len);

#endif
