/* sgx_eid.h: the enclave id sgx_create_enclave hands out; here one loaded module (docs/sdk.md). */
#ifndef SGX_EID_H_
#define SGX_EID_H_

#include <stdint.h>

typedef uint64_t sgx_enclave_id_t;

#endif
