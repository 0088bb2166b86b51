package org.enclaveruntime.sdk;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The statuses of module loads and calls, with the numbers and names of the SGX SDK's sgx_status_t
 * (sgx_error.h), so that code and habits written for SGX carry over: the enclave sends them on the wire
 * (docs/module-runtime.md section 4), an ECALL function returns one, and the host SDK uses a few for what only
 * the host can see (the socket missing, a timeout). Only the values that mean something here are listed; a
 * module may return any other number, which {@link EnclaveCallException#code()} keeps as it is.
 */
public enum EnclaveStatus {
    SUCCESS(0x0000, "success",
            "The load or call succeeded."),
    UNEXPECTED(0x0001, "unexpected error",
            "Something that should not happen did: the enclave sent a message the protocol does not allow (bad "
                    + "magic, unknown type, a payload over its limit or out of order), or a host OCALL handler threw "
                    + "an exception that carried no status. The connection is closed; the next call opens a new one."),
    INVALID_PARAMETER(0x0002, "invalid parameter",
            "An argument is out of range: a negative index or capacity, input over 16 MiB, a module over 64 MiB, "
                    + "or an OCALL handler's answer larger than the enclave's buffer for it."),
    OUT_OF_MEMORY(0x0003, "out of memory",
            "The enclave has no memory left for the module or the call's buffers: the module arena is full or "
                    + "absent, or the module's HeapMaxSize budget is used up."),
    ENCLAVE_LOST(0x0004, "the enclave is lost",
            "The enclave ended (crashed, stopped or restarted) after the module was loaded: every module in it is "
                    + "gone. Close the EnclaveModule and load the module again once the enclave runs."),
    INVALID_STATE(0x0005, "invalid state",
            "The request came in a state that does not allow it, for example a message out of order."),
    INVALID_FUNCTION(0x1001, "invalid ECALL or OCALL index",
            "The ECALL index is not in the module's ECALL table, or no host handler is registered for the OCALL "
                    + "index the module called."),
    OUT_OF_TCS(0x1003, "no free TCS",
            "Every one of the module's TCSNum call slots is busy. Calls normally wait for a slot instead."),
    ENCLAVE_CRASHED(0x1006, "the enclave crashed",
            "The enclave ended while this call was in flight: trusted code faulted (enclavectl status shows the "
                    + "module and the address), or the enclave was stopped. Later calls get ENCLAVE_LOST."),
    ECALL_NOT_ALLOWED(0x1007, "ECALL not allowed now",
            "An ECALL was made from inside an OCALL handler on the same thread and module (a nested ECALL): not "
                    + "supported. The host SDK refuses it before sending, the enclave refuses it too."),
    OCALL_NOT_ALLOWED(0x1008, "OCALL not allowed now",
            "Trusted code made an OCALL where none is allowed."),
    UNDEFINED_SYMBOL(0x2000, "undefined symbol",
            "The module imports a name the runtime's API table does not have (docs/module-runtime.md section 2 "
                    + "lists them). The loader's reason names the symbol."),
    INVALID_ENCLAVE(0x2001, "invalid module",
            "The module is not signed, its signature structure is damaged, or it breaks a rule of "
                    + "docs/module-format.md (ELF, segments, dynamic section, relocations), or it has no ECALL "
                    + "table; the reason names the rule. `enclavectl module verify` shows the same on the host."),
    INVALID_ENCLAVE_ID(0x2002, "invalid module id",
            "The module is not loaded (any more): the EnclaveModule was closed, or its module was unloaded."),
    INVALID_SIGNATURE(0x2003, "invalid signature",
            "The module's measurement does not match its signature structure (a byte of code or data changed "
                    + "after signing), or the signature does not verify with the key stored with it. Sign the "
                    + "module again."),
    NDEBUG_ENCLAVE(0x2004, "debug module in a production enclave",
            "The module is signed with DisableDebug = 0 (debug allowed) and the enclave is a production one "
                    + "(debug = false). Sign the module with DisableDebug = 1 for production."),
    OUT_OF_EPC(0x2005, "module too large",
            "The module does not fit: its file is over the 64 MiB a LOAD may carry, or its memory (image, stacks, "
                    + "heap) is larger than the enclave's module arena has free."),
    NO_DEVICE(0x2006, "no enclave at the socket",
            "Nothing listens on the enclave's vsock socket ([vsock] socket in enclave.conf): the enclave is not "
                    + "running, or this process may not open the socket (its group is [vsock] group)."),
    INVALID_METADATA(0x2009, "signed limits do not fit the module",
            "The signed limits do not fit the module: its memory is larger than the HeapMaxSize it was signed "
                    + "with (E806). Raise HeapMaxSize in Enclave.config.xml and sign again."),
    INVALID_VERSION(0x200d, "unsupported version",
            "The module or message uses a format version this enclave does not support."),
    ENCLAVE_FILE_ACCESS(0x200f, "cannot read the module file",
            "The signed module file does not exist, is not a regular file, or cannot be read."),
    SERVICE_UNAVAILABLE(0x4001, "the module service does not answer",
            "The enclave accepted no connection to its module service (vsock port 7000): the enclave is not READY "
                    + "yet, or runs an image without the service."),
    SERVICE_TIMEOUT(0x4002, "the enclave did not answer in time",
            "The enclave stopped sending in the middle of a message, or did not answer a load, attach, unload "
                    + "or (with a call timeout set) a call within its timeout. That connection is closed; the "
                    + "module stays loaded.");

    private static final Map<Integer, EnclaveStatus> BY_CODE = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EnclaveStatus::code, Function.identity()));

    private final int code;
    private final String title;
    private final String explanation;

    EnclaveStatus(int code, String title, String explanation) {
        this.code = code;
        this.title = title;
        this.explanation = explanation;
    }

    /** The sgx_status_t value. */
    public int code() {
        return code;
    }

    public String title() {
        return title;
    }

    /** What the status means here, and what to do: what `enclavectl explain` prints. */
    public String explanation() {
        return explanation;
    }

    /** The name in sgx_error.h: SGX_SUCCESS, SGX_ERROR_INVALID_SIGNATURE, ... */
    public String sgxName() {
        return this == SUCCESS ? "SGX_SUCCESS" : "SGX_ERROR_" + name();
    }

    /** 0x2003: how SGX documentation and our messages write a status. */
    public String hex() {
        return hex(code);
    }

    public static String hex(int code) {
        return String.format(Locale.ROOT, "0x%04x", code);
    }

    public static Optional<EnclaveStatus> of(int code) {
        return Optional.ofNullable(BY_CODE.get(code));
    }

    /** A known status's name with its value, or the bare value: "INVALID_SIGNATURE (0x2003)", "0x002a". */
    public static String describe(int code) {
        return of(code).map(s -> s.name() + " (" + s.hex() + ")").orElse(hex(code));
    }

    /**
     * The status that {@code text} names, as a user types it: a hex value ({@code 0x2003}), the sgx_error.h
     * name ({@code SGX_ERROR_INVALID_SIGNATURE}, {@code SGX_SUCCESS}) or the short name
     * ({@code INVALID_SIGNATURE}), in any case.
     */
    public static Optional<EnclaveStatus> parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.startsWith("0X") && t.length() > 2 && t.length() <= 10) {
            try {
                return of(Integer.parseUnsignedInt(t.substring(2), 16));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        String name = t.startsWith("SGX_ERROR_") ? t.substring("SGX_ERROR_".length())
                : t.startsWith("SGX_") ? t.substring("SGX_".length()) : t;
        return Arrays.stream(values()).filter(s -> s.name().equals(name)).findFirst();
    }
}
