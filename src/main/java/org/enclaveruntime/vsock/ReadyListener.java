package org.enclaveruntime.vsock;

/**
 * Told once, on the vsock event thread, when the enclave completed the ready handshake: it connected to host
 * port 9000, sent 0xB7, and the device has put its 0xB7 answer in the rx queue. Must not block.
 */
@FunctionalInterface
public interface ReadyListener {
    void enclaveReady();
}
