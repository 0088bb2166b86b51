/* signature_verify (crypto.h): the key type picks the scheme; an unknown one has no key we could read. */
#include "signature.h"

int signature_verify(uint32_t key_type, const uint8_t *spki, size_t spki_len,
                     const uint8_t digest[SHA384_DIGEST_SIZE], const uint8_t *sig, size_t sig_len)
{
    switch (key_type) {
    case KEY_TYPE_RSA3072:
        return rsa3072_verify(spki, spki_len, digest, sig, sig_len);
    case KEY_TYPE_ECDSA_P384:
        return ecdsa_p384_verify(spki, spki_len, digest, sig, sig_len);
    default:
        return CRYPTO_BAD_KEY;
    }
}
