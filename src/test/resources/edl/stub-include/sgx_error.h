/* Test stand-in for the SDK's sgx_error.h: the values of docs/module-runtime.md section 4. */
#ifndef SGX_ERROR_H_
#define SGX_ERROR_H_
typedef enum _status_t {
    SGX_SUCCESS = 0,
    SGX_ERROR_UNEXPECTED = 0x1,
    SGX_ERROR_INVALID_PARAMETER = 0x2,
    SGX_ERROR_OUT_OF_MEMORY = 0x3,
    SGX_ERROR_ENCLAVE_LOST = 0x4,
    SGX_ERROR_INVALID_STATE = 0x5,
    SGX_ERROR_INVALID_FUNCTION = 0x1001,
    SGX_ERROR_OUT_OF_TCS = 0x1003,
    SGX_ERROR_ENCLAVE_CRASHED = 0x1006,
    SGX_ERROR_ECALL_NOT_ALLOWED = 0x1007,
    SGX_ERROR_OCALL_NOT_ALLOWED = 0x1008,
    SGX_ERROR_INVALID_ENCLAVE_ID = 0x2002
} sgx_status_t;
#endif
