package org.enclaveruntime.sdk;

/**
 * The host's side of one OCALL: runs on the thread whose ECALL the module called out of, while that ECALL
 * waits. Its answer goes back as the OCALL's out bytes with status SUCCESS; an {@link EnclaveCallException}
 * sends its status instead, any other exception UNEXPECTED. An ECALL into the same module from inside a handler,
 * on the handler's thread, is refused with ECALL_NOT_ALLOWED (nested ECALLs are not supported).
 */
@FunctionalInterface
public interface OcallHandler {
    /**
     * @param in          the bytes the module passed
     * @param outCapacity the most bytes the module takes back; a longer answer fails the OCALL with
     *                    INVALID_PARAMETER
     * @return the out bytes (an empty array for none)
     */
    byte[] handle(byte[] in, int outCapacity) throws Exception;
}
