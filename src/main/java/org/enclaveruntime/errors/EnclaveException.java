package org.enclaveruntime.errors;

import java.util.Objects;

/**
 * The one exception type that crosses the boundary to the user: a catalogued code, a message naming the
 * file, line, key or value at fault, and a remedy. Anything else reaching the CLI is reported as a bug.
 */
public class EnclaveException extends RuntimeException {
    private final ErrorCode code;
    private final String remedy;

    public EnclaveException(ErrorCode code, String message) {
        this(code, message, code.remedy(), null);
    }

    public EnclaveException(ErrorCode code, String message, Throwable cause) {
        this(code, message, code.remedy(), cause);
    }

    public EnclaveException(ErrorCode code, String message, String remedy, Throwable cause) {
        super(Objects.requireNonNull(message), cause);
        this.code = Objects.requireNonNull(code);
        this.remedy = remedy == null ? code.remedy() : remedy;
    }

    /**
     * A failure nobody catalogued (a bug) as E100. The message has the failure's own words but not its Java
     * class, which means nothing to a user; -v prints the stack trace, which has it.
     */
    public static EnclaveException unexpected(Throwable e) {
        String detail = e instanceof java.io.IOException io ? IoReason.of(io) : e.getMessage();
        return new EnclaveException(GeneralErrors.INTERNAL, "unexpected failure"
                + (detail == null || detail.isBlank() ? "" : ": " + detail), e);
    }

    public ErrorCode code() {
        return code;
    }

    public String remedy() {
        return remedy;
    }

    public ExitStatus exitStatus() {
        return code.exitStatus();
    }

    /** "E201: message" — what a log line or a one-line error shows. */
    @Override
    public String toString() {
        return code.id() + ": " + getMessage();
    }
}
