package org.enclaveruntime.sdk.edl;

/**
 * What a generated Java proxy needs from a loaded module: exactly the two calls of the SDK's EnclaveModule,
 * so a module plugs in with `module::call` and `(i, h) -> module.onOcall(i, h::handle)`. Bytes are laid out as
 * docs/sdk-edl.md "Marshalling" says; a failing status is the transport's to throw.
 */
public interface EdlTransport {
    /** Runs ECALL {@code index} with {@code in}; returns at most {@code outCapacity} bytes. */
    byte[] call(int index, byte[] in, int outCapacity);

    /** Answers OCALL {@code index} with {@code handler} from now on. */
    void onOcall(int index, OcallHandler handler);

    @FunctionalInterface
    interface OcallHandler {
        /** Returns at most {@code outCapacity} bytes. */
        byte[] handle(byte[] in, int outCapacity);
    }
}
