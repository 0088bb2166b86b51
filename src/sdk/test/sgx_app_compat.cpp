// Compile check (C++): code shaped like the SGX samples' App.cpp, with its error table naming SGX statuses, builds
// unchanged against the kit's headers and links to libde_urts (make test-programs). Never run.
#include <cstdio>
#include <cstring>

#include "sgx_urts.h"
#include "sgx_edger8r.h"

sgx_enclave_id_t global_eid = 0;

typedef struct _sgx_errlist_t {
    sgx_status_t err;
    const char *msg;
    const char *sug;
} sgx_errlist_t;

static sgx_errlist_t sgx_errlist[] = {
    { SGX_ERROR_UNEXPECTED, "unexpected", NULL },
    { SGX_ERROR_INVALID_PARAMETER, "invalid parameter", NULL },
    { SGX_ERROR_OUT_OF_MEMORY, "out of memory", NULL },
    { SGX_ERROR_ENCLAVE_LOST, "enclave lost", NULL },
    { SGX_ERROR_INVALID_ENCLAVE, "invalid enclave", NULL },
    { SGX_ERROR_INVALID_ENCLAVE_ID, "invalid enclave id", NULL },
    { SGX_ERROR_INVALID_SIGNATURE, "invalid signature", NULL },
    { SGX_ERROR_OUT_OF_EPC, "out of EPC", NULL },
    { SGX_ERROR_NO_DEVICE, "no device", NULL },
    { SGX_ERROR_MEMORY_MAP_CONFLICT, "memory map conflict", NULL },
    { SGX_ERROR_INVALID_METADATA, "invalid metadata", NULL },
    { SGX_ERROR_DEVICE_BUSY, "device busy", NULL },
    { SGX_ERROR_INVALID_VERSION, "invalid version", NULL },
    { SGX_ERROR_INVALID_ATTRIBUTE, "invalid attribute", NULL },
    { SGX_ERROR_ENCLAVE_FILE_ACCESS, "enclave file access", NULL },
    { SGX_ERROR_NDEBUG_ENCLAVE, "debug enclave", NULL },
};

static void print_error_message(sgx_status_t ret)
{
    for (size_t i = 0; i < sizeof sgx_errlist / sizeof sgx_errlist[0]; i++) {
        if (ret == sgx_errlist[i].err) {
            std::printf("Error: %s\n", sgx_errlist[i].msg);
            return;
        }
    }
    std::printf("Error code is 0x%X (%s)\n", ret, sgx_status_name(ret));
}

static int initialize_enclave()
{
    sgx_launch_token_t token = { 0 };
    int updated = 0;
    sgx_misc_attribute_t misc;
    sgx_status_t ret = sgx_create_enclave("enclave.signed.so", SGX_DEBUG_FLAG, &token, &updated, &global_eid, &misc);
    if (ret != SGX_SUCCESS) {
        print_error_message(ret);
        return -1;
    }
    return 0;
}

int SGX_CDECL main(int argc, char *argv[])
{
    (void)argc;
    (void)argv;
    if (initialize_enclave() < 0)
        return -1;
    size_t out_len = 0;
    sgx_status_t ret = sgx_ecall(global_eid, 0, NULL, NULL, 0, NULL, 0, &out_len);
    if (ret != SGX_SUCCESS)
        print_error_message(ret);
    sgx_destroy_enclave(global_eid);
    return 0;
}
