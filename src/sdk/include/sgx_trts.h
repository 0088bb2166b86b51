/*
 * sgx_trts.h: the trusted runtime calls of the SGX SDK that a module may use (libde_trts; docs/sdk.md, "The
 * trusted library").
 */
#ifndef SGX_TRTS_H_
#define SGX_TRTS_H_

#include <stddef.h>
#include "sgx_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * 1 if [addr, addr + size) lies wholly inside the calling module's own memory (its image, stacks and heap:
 * the range the loader reserved for it), else 0. size 0 checks addr alone. Outside an ECALL: 0.
 * "The enclave" is the module here: the runtime's memory and other modules' count as outside.
 */
int sgx_is_within_enclave(const void *addr, size_t size);

/* 1 if [addr, addr + size) lies wholly outside the calling module's memory, else 0 (also outside an ECALL). */
int sgx_is_outside_enclave(const void *addr, size_t size);

/*
 * Fills rand with length random bytes from the CPU's RDRAND (each 64-bit draw retried up to 10 times).
 * SGX_ERROR_INVALID_PARAMETER for a NULL buffer or length 0; SGX_ERROR_UNEXPECTED if the CPU has no RDRAND
 * or it keeps failing (nothing else is a source of randomness here).
 */
sgx_status_t sgx_read_rand(unsigned char *rand, size_t length);

#ifdef __cplusplus
}
#endif

#endif
