/* sgx_tcrypto.h: the subset of the SGX SDK's trusted crypto that libde_trts has (docs/sdk.md). */
#ifndef SGX_TCRYPTO_H_
#define SGX_TCRYPTO_H_

#include <stddef.h>
#include <stdint.h>
#include "sgx_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SGX_SHA256_HASH_SIZE 32

typedef uint8_t sgx_sha256_hash_t[SGX_SHA256_HASH_SIZE];

/*
 * SHA-256 (FIPS 180-4) of src_len bytes at p_src into *p_hash. SGX_ERROR_INVALID_PARAMETER if p_hash is NULL
 * or p_src is NULL with src_len > 0.
 */
sgx_status_t sgx_sha256_msg(const uint8_t *p_src, uint32_t src_len, sgx_sha256_hash_t *p_hash);

#ifdef __cplusplus
}
#endif

#endif
