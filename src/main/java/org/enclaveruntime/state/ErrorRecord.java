package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;

import java.time.Instant;

/** The last failure, kept in the state file so that `status` can say why the enclave is not running. */
public record ErrorRecord(String code, String message, String at) {
    public static ErrorRecord of(EnclaveException e) {
        return new ErrorRecord(e.code().id(), e.getMessage(), Instant.now().toString());
    }

    public static ErrorRecord of(String code, String message) {
        return new ErrorRecord(code, message, Instant.now().toString());
    }
}
