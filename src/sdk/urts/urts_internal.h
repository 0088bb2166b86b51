/*
 * libde_urts internals: the wire of docs/module-runtime.md section 3 (urts_wire.c), finding the enclave's socket
 * (urts_config.c), the per-thread failure text (urts_status.c). The API is urts.c.
 */
#ifndef URTS_INTERNAL_H_
#define URTS_INTERNAL_H_

#include <stddef.h>
#include <stdint.h>
#include "sgx_error.h"

#define URTS_PORT 7000
#define URTS_MAGIC 0x4D434E45u
#define URTS_LOAD_LIMIT (64u << 20)
#define URTS_LIMIT (16u << 20)
/* The most bytes one ECALL sends or takes back: the payload limit less the out_capacity field. */
#define URTS_MAX_CALL_BYTES (URTS_LIMIT - 4)
#define URTS_LOADED_SIZE 120

enum urts_type {
    T_LOAD = 1, T_LOADED, T_ATTACH, T_ATTACHED, T_ECALL, T_ECALL_RETURN, T_OCALL, T_OCALL_RETURN, T_UNLOAD,
    T_UNLOADED, T_ERROR
};

/* How a wire operation ended, as the Java SDK's WireException kinds. */
enum wire_result { WIRE_OK = 0, WIRE_CLOSED, WIRE_TIMEOUT, WIRE_PROTOCOL };

struct frame_header {
    uint16_t type;
    uint32_t length;
    uint32_t arg;
};

/* Milliseconds; -1 waits as long as the connection lives. */
struct urts_timeouts {
    int stall_ms;
    int load_ms;
};

const struct urts_timeouts *urts_timeouts(void);

/*
 * A connection to port 7000 through the hybrid-vsock bridge at `socket_path`, after its "OK <port>" line: the fd
 * (non-blocking, close-on-exec) or -1 with the status (NO_DEVICE, SERVICE_UNAVAILABLE, SERVICE_TIMEOUT,
 * UNEXPECTED) in *status.
 */
int wire_connect(const char *socket_path, sgx_status_t *status);

enum wire_result wire_send(int fd, uint16_t type, uint32_t arg, const void *p1, size_t n1, const void *p2, size_t n2);

/* The next header, checked (magic, reserved, a type the enclave sends, length within its limit). */
enum wire_result wire_receive(int fd, int first_byte_ms, struct frame_header *h);

/* Exactly n payload bytes into dst (NULL: read and drop them). */
enum wire_result wire_read_payload(int fd, void *dst, size_t n);

/* The calling thread's failure text (urts_status.c): printf-style, kept until the next call. */
void urts_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void urts_clear_error(void);

/*
 * The enclave's socket: $ENCLAVE_SOCKET, else [vsock] socket of the configuration file ($ENCLAVE_CONF, else
 * /etc/enclave.conf if it exists), else the default. Writes a NUL-terminated path of at most cap - 1 bytes;
 * SGX_SUCCESS or NO_DEVICE (a named file missing or unreadable, a path too long).
 */
sgx_status_t urts_socket_path(char *out, size_t cap);

#endif
