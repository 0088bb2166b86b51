package org.enclaveruntime.sdk;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/**
 * E9xx: enclavectl commands that load modules into the running enclave and call them (`bench ecall`). The SDK
 * itself reports {@link EnclaveCallException}s with an sgx_status_t; {@link #of} turns one into the error a
 * command ends with, the status named in the message (`enclavectl explain 0x2003` has its long form).
 */
public final class SdkErrors {
    private SdkErrors() {
    }

    public static final ErrorCode NO_ENCLAVE = new ErrorCode("E901", ExitStatus.CONFLICT,
            "no enclave answers on the vsock socket",
            "Start the enclave (`enclavectl start`) and wait until `enclavectl status` says READY, or point "
                    + "--config at the configuration of the enclave that runs.",
            "The command connects to the running enclave through [vsock] socket of the configuration and asks for "
                    + "its module service, vsock port 7000. The socket does not exist or nobody listens on it "
                    + "(NO_DEVICE, 0x2006: no enclave runs, or this user may not open the socket, whose group is "
                    + "[vsock] group), or the enclave accepted no connection to port 7000 (SERVICE_UNAVAILABLE, "
                    + "0x4001: not READY yet, or its image has no module service).");

    public static final ErrorCode MODULE_REFUSED = new ErrorCode("E902", ExitStatus.IMAGE,
            "the enclave refused the module",
            "Check the module with `enclavectl module verify MODULE` and sign it again; for NDEBUG_ENCLAVE sign it "
                    + "with DisableDebug = 1.",
            "The enclave's loader checked the module and refused it; the message carries its status and reason. "
                    + "INVALID_ENCLAVE (0x2001): the ELF breaks a rule of docs/module-format.md or has no ECALL "
                    + "table. INVALID_SIGNATURE (0x2003): the measurement or the signature does not match. "
                    + "UNDEFINED_SYMBOL (0x2000): the module imports a name the runtime does not offer. "
                    + "NDEBUG_ENCLAVE (0x2004): a debug module in a production enclave. OUT_OF_EPC (0x2005) or "
                    + "OUT_OF_MEMORY (0x0003): it does not fit the enclave's module memory. The enclave keeps "
                    + "running and serving other modules.");

    public static final ErrorCode CALL_FAILED = new ErrorCode("E903", ExitStatus.FAILURE,
            "an enclave call failed",
            "Check that the module is the one the command expects (for `bench ecall`: ECALL 0 empty, ECALL 1 "
                    + "echo), and run `enclavectl explain` with the status from the message.",
            "An ECALL returned a status other than SUCCESS, or the enclave broke the module protocol or stopped "
                    + "answering (UNEXPECTED 0x0001, SERVICE_TIMEOUT 0x4002). The message names the call and the "
                    + "status.");

    public static final ErrorCode ENCLAVE_LOST = new ErrorCode("E904", ExitStatus.ENCLAVE,
            "the enclave ended during a module call",
            "Run `enclavectl status` to see why the enclave ended (a crash names the module and the address), "
                    + "then start it again.",
            "The connection to the enclave broke while a module was loaded or called (ENCLAVE_CRASHED 0x1006, "
                    + "ENCLAVE_LOST 0x0004): the enclave crashed (a fault in trusted code ends the whole enclave, "
                    + "docs/module-runtime.md section 5) or was stopped.");

    public static final List<ErrorCode> ALL = List.of(NO_ENCLAVE, MODULE_REFUSED, CALL_FAILED, ENCLAVE_LOST);

    /**
     * The error a command ends with for {@code e}: the host's own check of the module keeps its E8xx code,
     * the rest are chosen by status.
     *
     * @param loading whether {@code e} came from loading the module (a refusal) rather than from a call
     */
    public static EnclaveException of(EnclaveCallException e, boolean loading) {
        if (e.getCause() instanceof EnclaveException local) {
            return local;
        }
        String message = e.getMessage() + " [" + EnclaveStatus.describe(e.code()) + "]";
        ErrorCode code;
        if (e.is(EnclaveStatus.NO_DEVICE) || e.is(EnclaveStatus.SERVICE_UNAVAILABLE)) {
            code = NO_ENCLAVE;
        } else if (e.is(EnclaveStatus.ENCLAVE_CRASHED) || e.is(EnclaveStatus.ENCLAVE_LOST)) {
            code = ENCLAVE_LOST;
        } else if (loading && !e.is(EnclaveStatus.UNEXPECTED) && !e.is(EnclaveStatus.SERVICE_TIMEOUT)) {
            code = MODULE_REFUSED;
        } else {
            code = CALL_FAILED;
        }
        return new EnclaveException(code, message, e);
    }
}
