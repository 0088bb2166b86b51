/*
 * The module wire protocol on vsock port 7000 (docs/module-runtime.md, section 3) and the sgx_status_t
 * values it carries (section 4). Shared by the runtime (modsvc.c) and the host-side simulation.
 */
#ifndef ENCLAVE_MODPROTO_H
#define ENCLAVE_MODPROTO_H

#include <stdint.h>

#define MODSVC_PORT 7000u

#define MODPROTO_MAGIC    0x4D434E45u   /* "ENCM" in memory */
#define MODPROTO_HDR_SIZE 16u
#define MODPROTO_LOAD_MAX (64u << 20)   /* payload limit of LOAD */
#define MODPROTO_MSG_MAX  (16u << 20)   /* payload limit of every other message */

#define MSG_LOAD         1u
#define MSG_LOADED       2u
#define MSG_ATTACH       3u
#define MSG_ATTACHED     4u
#define MSG_ECALL        5u
#define MSG_ECALL_RETURN 6u
#define MSG_OCALL        7u
#define MSG_OCALL_RETURN 8u
#define MSG_UNLOAD       9u
#define MSG_UNLOADED     10u
#define MSG_ERROR        11u

/* LOADED on success: u32 module_id, u32 tcs_num, 48 mrenclave, 48 mrsigner, u16 prod_id, u16 isv_svn,
 * u32 attributes, u64 base. */
#define LOADED_SUCCESS_SIZE 120u

#define SGX_SUCCESS                   0x0000u
#define SGX_ERROR_UNEXPECTED          0x0001u
#define SGX_ERROR_INVALID_PARAMETER   0x0002u
#define SGX_ERROR_OUT_OF_MEMORY       0x0003u
#define SGX_ERROR_ENCLAVE_LOST        0x0004u
#define SGX_ERROR_INVALID_STATE       0x0005u
#define SGX_ERROR_INVALID_FUNCTION    0x1001u
#define SGX_ERROR_OUT_OF_TCS          0x1003u
#define SGX_ERROR_ENCLAVE_CRASHED     0x1006u
#define SGX_ERROR_ECALL_NOT_ALLOWED   0x1007u
#define SGX_ERROR_OCALL_NOT_ALLOWED   0x1008u
#define SGX_ERROR_UNDEFINED_SYMBOL    0x2000u
#define SGX_ERROR_INVALID_ENCLAVE     0x2001u
#define SGX_ERROR_INVALID_ENCLAVE_ID  0x2002u
#define SGX_ERROR_INVALID_SIGNATURE   0x2003u
#define SGX_ERROR_NDEBUG_ENCLAVE      0x2004u
#define SGX_ERROR_OUT_OF_EPC          0x2005u
#define SGX_ERROR_INVALID_METADATA    0x2009u
#define SGX_ERROR_INVALID_VERSION     0x200du

/* The ECALL table a module defines (section 2, step 5). */
#define MODULE_ECALLS_SYMBOL   "enclave_ecalls"
#define MODULE_ECALLS_MAX      4096u

#endif
