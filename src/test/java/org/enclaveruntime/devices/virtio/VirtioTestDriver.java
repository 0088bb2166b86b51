package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

/**
 * A driver that sets a {@link VirtioMmio} device up through its registers the standard way (reset,
 * ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK) with rings in real guest memory, for device
 * tests in any package. Rings: queue q's descriptor table at {@code ringBase + q * 64 KiB}, its available ring
 * 16 KiB above that, its used ring 32 KiB above (room for queues of up to 1024 entries).
 */
public final class VirtioTestDriver {
    private static final long QUEUE_STRIDE = 0x1_0000;

    private final VirtioMmio mmio;
    private final GuestMemory memory;
    private final long ringBase;

    /** {@code ringBase}: at least 1 MiB, 16-byte aligned, with 64 KiB per queue inside guest RAM. */
    public VirtioTestDriver(VirtioMmio mmio, GuestMemory memory, long ringBase) {
        this.mmio = mmio;
        this.memory = memory;
        this.ringBase = ringBase;
    }

    public long read(int offset) {
        return mmio.read(0, offset, 4);
    }

    public void write(int offset, long value) {
        mmio.write(0, offset, 4, value);
    }

    /**
     * Negotiates VERSION_1 plus {@code deviceFeatures}, makes queues 0..sizes.length-1 ready with the given
     * sizes and sets DRIVER_OK; returns the driver's side of each queue. Throws if the device refuses.
     */
    public TestRings[] start(long deviceFeatures, int... sizes) {
        long features = VirtioMmio.VIRTIO_F_VERSION_1 | deviceFeatures;
        write(VirtioMmio.STATUS, 0);
        write(VirtioMmio.STATUS, VirtioMmio.ACKNOWLEDGE);
        write(VirtioMmio.STATUS, VirtioMmio.ACKNOWLEDGE | VirtioMmio.DRIVER);
        write(VirtioMmio.DRIVER_FEATURES_SEL, 0);
        write(VirtioMmio.DRIVER_FEATURES, features & 0xffffffffL);
        write(VirtioMmio.DRIVER_FEATURES_SEL, 1);
        write(VirtioMmio.DRIVER_FEATURES, features >>> 32);
        int status = VirtioMmio.ACKNOWLEDGE | VirtioMmio.DRIVER | VirtioMmio.FEATURES_OK;
        write(VirtioMmio.STATUS, status);
        if (read(VirtioMmio.STATUS) != status) {
            throw new IllegalStateException("FEATURES_OK refused for features 0x" + Long.toHexString(features));
        }
        TestRings[] rings = new TestRings[sizes.length];
        for (int q = 0; q < sizes.length; q++) {
            long desc = ringBase + q * QUEUE_STRIDE;
            rings[q] = new TestRings(memory, sizes[q], desc, desc + 0x4000, desc + 0x8000);
            write(VirtioMmio.QUEUE_SEL, q);
            write(VirtioMmio.QUEUE_NUM, sizes[q]);
            address(VirtioMmio.QUEUE_DESC_LOW, rings[q].desc);
            address(VirtioMmio.QUEUE_DRIVER_LOW, rings[q].avail);
            address(VirtioMmio.QUEUE_DEVICE_LOW, rings[q].used);
            write(VirtioMmio.QUEUE_READY, 1);
            if (read(VirtioMmio.QUEUE_READY) != 1) {
                throw new IllegalStateException("queue " + q + " refused: status 0x"
                        + Long.toHexString(read(VirtioMmio.STATUS)));
            }
        }
        write(VirtioMmio.STATUS, status | VirtioMmio.DRIVER_OK);
        return rings;
    }

    private void address(int lowRegister, long gpa) {
        write(lowRegister, gpa & 0xffffffffL);
        write(lowRegister + 4, gpa >>> 32);
    }

    /** Status & DEVICE_NEEDS_RESET. */
    public boolean needsReset() {
        return (read(VirtioMmio.STATUS) & VirtioMmio.DEVICE_NEEDS_RESET) != 0;
    }

    /** Status 0. */
    public void reset() {
        write(VirtioMmio.STATUS, 0);
    }
}
