package org.enclaveruntime.config;

import org.enclaveruntime.errors.ErrorCode;

/**
 * A value rejected by its {@link ValueType}. Checked and without a location: the loader knows the file,
 * line and key and turns it into an {@link org.enclaveruntime.errors.EnclaveException}.
 */
public final class InvalidValueException extends Exception {
    private final transient ErrorCode code;

    /** @param reason starts with the quoted value: "'two' is not a whole number (1..256)" */
    InvalidValueException(ErrorCode code, String reason) {
        super(reason, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    static String quote(String text) {
        return "'" + text + "'";
    }
}
