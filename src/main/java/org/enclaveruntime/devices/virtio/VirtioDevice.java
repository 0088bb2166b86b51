package org.enclaveruntime.devices.virtio;

/**
 * A virtio device behind the {@link VirtioMmio} transport (docs/guest-abi.md, "virtio-vsock"). The transport
 * owns the registers, feature negotiation and queue set-up; the device owns what travels in the queues.
 * Calls come on the vCPU thread that wrote the register, so an implementation whose queues are served by
 * another thread must hand over safely. {@link #activate} and {@link #reset} are called under the transport's
 * lock, which {@link VirtioMmio#needsReset} also takes: they must not wait for the device's thread.
 */
public interface VirtioDevice {
    /** The virtio device ID (19 for vsock). */
    int deviceId();

    /** Device-specific feature bits offered; the transport adds VIRTIO_F_VERSION_1 itself. */
    long features();

    int queueCount();

    /** QueueNumMax of this queue: a power of two. */
    int maxQueueSize(int queue);

    /** A read of the device configuration space (offset from 0x100), 1, 2 or 4 bytes, little-endian. */
    long readConfig(int offset, int size);

    /**
     * DRIVER_OK: every queue the driver made ready has passed the transport's checks. Queues the driver
     * did not set up are null. {@code features} are those both sides accepted.
     */
    void activate(Virtqueue[] queues, long features);

    /**
     * The driver reset the device (Status 0), or the device entered DEVICE_NEEDS_RESET: stop using the queues.
     * Also called when nothing was activated (a driver resets first); must then do nothing.
     */
    void reset();

    /** A QueueNotify that arrived as a register write (an MMIO exit) rather than through the ioeventfd. */
    void queueNotified(int queue);

    /**
     * The transport this device sits behind, given once by its constructor: where the device reports a bad
     * chain ({@link VirtioMmio#needsReset}). The default ignores it.
     */
    default void attach(VirtioMmio transport) {
    }
}
