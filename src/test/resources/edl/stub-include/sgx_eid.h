/* Test stand-in for the SDK's sgx_eid.h. */
#ifndef SGX_EID_H_
#define SGX_EID_H_
#include <stdint.h>
typedef uint64_t sgx_enclave_id_t;
#endif
