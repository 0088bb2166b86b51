/*
 * sgx_urts.h: the untrusted runtime, libde_urts (docs/sdk.md, "The untrusted runtime (libde_urts)"). An "enclave"
 * of SGX is here one signed module loaded into the running enclave VM over its module service (vsock port 7000,
 * docs/module-runtime.md section 3); its sgx_enclave_id_t names the loaded module in this process.
 */
#ifndef SGX_URTS_H_
#define SGX_URTS_H_

#include <stddef.h>
#include <stdint.h>
#include "sgx_defs.h"
#include "sgx_error.h"
#include "sgx_eid.h"
#include "sgx_attributes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kept for SGX source compatibility: no launch token exists here; it is neither read nor written. */
typedef uint8_t sgx_launch_token_t[1024];

#ifndef SGX_DEBUG_FLAG
#ifdef NDEBUG
#define SGX_DEBUG_FLAG 0
#else
#define SGX_DEBUG_FLAG 1
#endif
#endif

/*
 * Loads the signed module `file_name` into the enclave (the socket comes from $ENCLAVE_SOCKET, else [vsock] socket
 * of $ENCLAVE_CONF or /etc/enclave.conf, else /run/enclave/vsock.sock) and sets *enclave_id. `debug` is accepted
 * and ignored (the enclave's mode and the module's DisableDebug decide); `launch_token` is ignored, *launch_token_updated
 * set to 0, *misc_attr filled with zeros (each may be NULL).
 */
sgx_status_t SGX_CDECL sgx_create_enclave(const char *file_name, const int debug, sgx_launch_token_t *launch_token,
                                          int *launch_token_updated, sgx_enclave_id_t *enclave_id,
                                          sgx_misc_attribute_t *misc_attr);

/* Unloads the module: calls in flight on other threads end with SGX_ERROR_INVALID_ENCLAVE_ID. */
sgx_status_t SGX_CDECL sgx_destroy_enclave(const sgx_enclave_id_t enclave_id);

/* "SGX_SUCCESS", "SGX_ERROR_INVALID_SIGNATURE", ...; NULL for a value this runtime does not know. */
const char *sgx_status_name(sgx_status_t status);

/*
 * Why the calling thread's last failed sgx_create_enclave, sgx_destroy_enclave or sgx_ecall failed, in words
 * ("" when it gave no reason): not part of SGX, for logs. Valid until this thread's next call into libde_urts.
 */
const char *de_urts_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
