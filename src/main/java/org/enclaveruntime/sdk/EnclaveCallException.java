package org.enclaveruntime.sdk;

import java.util.Optional;

/**
 * A load, call or OCALL that did not succeed, with its sgx_status_t value: the enclave's answer (the loader's
 * refusal, an ECALL's own non-zero return, an ERROR message) or what the host saw (socket missing, connection
 * lost, timeout, a message that breaks the protocol). The message says what failed and why; for a refused
 * module it carries the loader's reason (`E805: relocation 3: ...`).
 */
public class EnclaveCallException extends RuntimeException {
    private final int code;

    public EnclaveCallException(EnclaveStatus status, String message) {
        this(status.code(), message, null);
    }

    public EnclaveCallException(EnclaveStatus status, String message, Throwable cause) {
        this(status.code(), message, cause);
    }

    /** {@code code} any status value, known to {@link EnclaveStatus} or not (an ECALL may return any number). */
    public EnclaveCallException(int code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The sgx_status_t value, as sent by the enclave or chosen by the host. */
    public int code() {
        return code;
    }

    /** The status, when it is one {@link EnclaveStatus} knows. */
    public Optional<EnclaveStatus> status() {
        return EnclaveStatus.of(code);
    }

    public boolean is(EnclaveStatus status) {
        return code == status.code();
    }

    /** "INVALID_SIGNATURE (0x2003): message". */
    @Override
    public String toString() {
        return EnclaveStatus.describe(code) + ": " + getMessage();
    }
}
