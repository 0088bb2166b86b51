package org.enclaveruntime.sdk;

import java.util.Optional;

/** The message types of the module protocol (docs/module-runtime.md section 3), with who sends each. */
enum MessageType {
    LOAD(1, false),
    LOADED(2, true),
    ATTACH(3, false),
    ATTACHED(4, true),
    ECALL(5, false),
    ECALL_RETURN(6, true),
    OCALL(7, true),
    OCALL_RETURN(8, false),
    UNLOAD(9, false),
    UNLOADED(10, true),
    ERROR(11, true);

    /** The payload limit of LOAD (a signed module file). */
    static final int LOAD_LIMIT = 64 << 20;
    /** The payload limit of every other message. */
    static final int LIMIT = 16 << 20;

    private static final MessageType[] BY_CODE = new MessageType[12];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    final int code;
    /** True for the types the enclave sends, the only ones the host accepts. */
    final boolean fromEnclave;

    MessageType(int code, boolean fromEnclave) {
        this.code = code;
        this.fromEnclave = fromEnclave;
    }

    int payloadLimit() {
        return this == LOAD ? LOAD_LIMIT : LIMIT;
    }

    static Optional<MessageType> of(int code) {
        return code > 0 && code < BY_CODE.length ? Optional.ofNullable(BY_CODE[code]) : Optional.empty();
    }
}
