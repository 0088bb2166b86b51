/*
 * sgx_error.h: sgx_status_t with the names and values of the Intel SGX SDK's sgx_error.h, the subset that means
 * something here (docs/module-runtime.md section 4; the same list as org.enclaveruntime.sdk.EnclaveStatus, a
 * test checks that they agree). An ECALL function may return any other value: it reaches the caller unchanged.
 */
#ifndef SGX_ERROR_H_
#define SGX_ERROR_H_

#define SGX_MK_ERROR(x) (0x00000000 | (x))

typedef enum _status_t {
    SGX_SUCCESS = SGX_MK_ERROR(0x0000),

    SGX_ERROR_UNEXPECTED = SGX_MK_ERROR(0x0001),
    SGX_ERROR_INVALID_PARAMETER = SGX_MK_ERROR(0x0002),
    SGX_ERROR_OUT_OF_MEMORY = SGX_MK_ERROR(0x0003),
    SGX_ERROR_ENCLAVE_LOST = SGX_MK_ERROR(0x0004),
    SGX_ERROR_INVALID_STATE = SGX_MK_ERROR(0x0005),

    SGX_ERROR_INVALID_FUNCTION = SGX_MK_ERROR(0x1001),
    SGX_ERROR_OUT_OF_TCS = SGX_MK_ERROR(0x1003),
    SGX_ERROR_ENCLAVE_CRASHED = SGX_MK_ERROR(0x1006),
    SGX_ERROR_ECALL_NOT_ALLOWED = SGX_MK_ERROR(0x1007),
    SGX_ERROR_OCALL_NOT_ALLOWED = SGX_MK_ERROR(0x1008),

    SGX_ERROR_UNDEFINED_SYMBOL = SGX_MK_ERROR(0x2000),
    SGX_ERROR_INVALID_ENCLAVE = SGX_MK_ERROR(0x2001),
    SGX_ERROR_INVALID_ENCLAVE_ID = SGX_MK_ERROR(0x2002),
    SGX_ERROR_INVALID_SIGNATURE = SGX_MK_ERROR(0x2003),
    SGX_ERROR_NDEBUG_ENCLAVE = SGX_MK_ERROR(0x2004),
    SGX_ERROR_OUT_OF_EPC = SGX_MK_ERROR(0x2005),
    SGX_ERROR_NO_DEVICE = SGX_MK_ERROR(0x2006),
    SGX_ERROR_INVALID_METADATA = SGX_MK_ERROR(0x2009),
    SGX_ERROR_INVALID_VERSION = SGX_MK_ERROR(0x200d),
    SGX_ERROR_ENCLAVE_FILE_ACCESS = SGX_MK_ERROR(0x200f),

    SGX_ERROR_SERVICE_UNAVAILABLE = SGX_MK_ERROR(0x4001),
    SGX_ERROR_SERVICE_TIMEOUT = SGX_MK_ERROR(0x4002),

    /*
     * SGX_COMPAT: values of SGX's sgx_error.h that nothing here returns (no SGX driver, no launch token), defined
     * so that SGX application code naming them, such as the error table of the SGX samples' App.cpp, compiles.
     */
    SGX_ERROR_MEMORY_MAP_CONFLICT = SGX_MK_ERROR(0x2007),
    SGX_ERROR_DEVICE_BUSY = SGX_MK_ERROR(0x200c),
    SGX_ERROR_MODE_INCOMPATIBLE = SGX_MK_ERROR(0x200e),
    SGX_ERROR_INVALID_MISC = SGX_MK_ERROR(0x2010),
    SGX_ERROR_INVALID_LAUNCH_TOKEN = SGX_MK_ERROR(0x2011),
    SGX_ERROR_MAC_MISMATCH = SGX_MK_ERROR(0x3001),
    SGX_ERROR_INVALID_ATTRIBUTE = SGX_MK_ERROR(0x3002)
} sgx_status_t;

#endif
