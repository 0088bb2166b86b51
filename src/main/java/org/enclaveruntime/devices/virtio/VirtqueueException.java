package org.enclaveruntime.devices.virtio;

/**
 * The guest broke the virtqueue rules (docs/guest-abi.md, "What the device checks"). Not a VMM error: the
 * device logs it rate-limited, enters DEVICE_NEEDS_RESET and stops using its queues; the VMM goes on.
 */
public final class VirtqueueException extends Exception {
    public VirtqueueException(String message) {
        super(message, null, false, false); // no stack trace: a hostile guest can cause these in a loop
    }
}
