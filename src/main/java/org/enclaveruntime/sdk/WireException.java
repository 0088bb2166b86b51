package org.enclaveruntime.sdk;

/**
 * What went wrong on one connection, before the caller turns it into a status (which depends on what the
 * connection was doing: a lost call connection means a crashed enclave, a closed module a refused call).
 */
final class WireException extends Exception {
    enum Kind {
        /** The enclave's side ended the stream (end of stream, reset, broken pipe). */
        CLOSED,
        /** The enclave sent nothing (or took nothing) for longer than the timeout. */
        TIMEOUT,
        /** The enclave sent something the protocol does not allow. */
        PROTOCOL,
        /** This process closed the connection (EnclaveModule.close) while it was in use. */
        CLOSED_HERE
    }

    final Kind kind;

    WireException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    static WireException protocol(String what) {
        return new WireException(Kind.PROTOCOL, "the enclave sent " + what, null);
    }
}
