/*
 * sgx_attributes.h: the SECS attribute types of SGX, kept so that application code that declares them compiles.
 * sgx_create_enclave fills an sgx_misc_attribute_t with zeros: a module has no SECS here (docs/sdk.md).
 */
#ifndef SGX_ATTRIBUTES_H_
#define SGX_ATTRIBUTES_H_

#include <stdint.h>

#define SGX_FLAGS_INITTED 0x0000000000000001ULL
#define SGX_FLAGS_DEBUG 0x0000000000000002ULL
#define SGX_FLAGS_MODE64BIT 0x0000000000000004ULL

typedef struct _attributes_t {
    uint64_t flags;
    uint64_t xfrm;
} sgx_attributes_t;

typedef uint32_t sgx_misc_select_t;

typedef struct _sgx_misc_attribute_t {
    sgx_attributes_t secs_attr;
    sgx_misc_select_t misc_select;
} sgx_misc_attribute_t;

#endif
