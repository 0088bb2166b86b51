/*
 * The little DER that a SubjectPublicKeyInfo needs (ITU-T X.690): definite lengths in their shortest form,
 * up to 65535 bytes, and positive INTEGERs. Every read is bounded by the enclosing element.
 */
#ifndef ENCLAVE_DER_H
#define ENCLAVE_DER_H

#include <stddef.h>
#include <stdint.h>

#define DER_INTEGER    0x02u
#define DER_BIT_STRING 0x03u
#define DER_NULL       0x05u
#define DER_OID        0x06u
#define DER_SEQUENCE   0x30u

/* A span of DER being read: the bytes not yet taken. */
struct der {
    const uint8_t *p;
    size_t len;
};

/* Takes the next element, which must carry tag, and gives its contents; -1 on any other tag or a bad length. */
int der_take(struct der *d, uint8_t tag, struct der *contents);
/* Takes the next element, which must be exactly tag + contents as given (an OID, a NULL); -1 otherwise. */
int der_take_exact(struct der *d, uint8_t tag, const uint8_t *contents, size_t len);
/* The magnitude of a non-negative INTEGER in minimal encoding, without its sign byte; -1 if negative or
 * not minimal. Zero comes back as length 0. */
int der_unsigned(const struct der *integer, struct der *magnitude);

#endif
