package org.enclaveruntime.vsock;

/**
 * Makes "work pending" true for the VM and wakes every vCPU blocked in WAIT (docs/guest-abi.md,
 * "Notifications"). Called by the vsock event thread after it published used buffers of a queue whose driver
 * wants wake-ups; must not block.
 */
@FunctionalInterface
public interface GuestWaker {
    void workPending();
}
