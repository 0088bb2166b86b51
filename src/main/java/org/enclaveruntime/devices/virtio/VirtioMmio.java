package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.devices.BusDevice;
import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.memory.GuestMemory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The virtio-mmio version 2 transport (virtio 1.2 §4.2.2) for one {@link VirtioDevice}, a {@link BusDevice} of
 * {@link #WINDOW} bytes on the MMIO bus; its registers are the table in docs/guest-abi.md, "Transport".
 *
 * <p>Everything the driver writes is checked: features it accepts must include VERSION_1 and nothing that was
 * not offered, or FEATURES_OK does not stick; a queue must pass the checks of {@link #checkQueue} when it is
 * made ready, or the device needs a reset. A device that finds a bad chain later calls {@link #needsReset}.
 * In DEVICE_NEEDS_RESET only a Status write of 0 changes anything, so a hostile driver breaks only its own
 * device and never the VMM.
 *
 * <p>Threads: register accesses come on any vCPU thread, {@link #needsReset} on the device's thread; all of
 * them take this object's lock, under which the device's {@link VirtioDevice#activate} and
 * {@link VirtioDevice#reset} are called. Those must therefore hand over to the device's thread without
 * waiting for it (it may be blocked in {@link #needsReset} on this lock).
 */
public final class VirtioMmio implements BusDevice {
    /** Bytes of MMIO space the transport occupies. */
    public static final int WINDOW = 0x1000;
    /** Offset of the QueueNotify register (where an MMIO ioeventfd goes). */
    public static final int QUEUE_NOTIFY = 0x050;

    static final int MAGIC_VALUE = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c,
            DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020,
            DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038,
            QUEUE_READY = 0x044, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070,
            QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094,
            QUEUE_DEVICE_LOW = 0x0a0, QUEUE_DEVICE_HIGH = 0x0a4, CONFIG_GENERATION = 0x0fc, CONFIG = 0x100;

    static final int MAGIC = 0x74726976;
    static final int VENDOR = 0x454E434C;
    public static final long VIRTIO_F_VERSION_1 = 1L << 32;

    static final int ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, DEVICE_NEEDS_RESET = 0x40,
            FAILED = 0x80;
    static final int INTERRUPT_USED_BUFFER = 1;
    static final int INTERRUPT_CONFIG_CHANGE = 2;
    /** Rings may not lie in the system area (page tables, GDT, TSS, boot info) below the image. */
    static final long LOWEST_RING_GPA = 1L << 20;

    private static final String ONLY_32_BIT_READ = "only 32-bit accesses, reads all ones";
    private static final String ONLY_32_BIT_WRITE = "only 32-bit accesses, dropped";
    private static final String BAD_CONFIG_READ = "config space takes aligned 1, 2 or 4-byte reads, reads all ones";
    private static final String NOT_WRITABLE = "not a writable register, dropped";

    private final String name;
    private final VirtioDevice device;
    private final GuestMemory memory;
    private final GuestLog log;
    private final long offered;
    private final AtomicInteger interruptStatus = new AtomicInteger();

    // Driver-visible state, guarded by this.
    private int status;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    private final int[] queueNum;
    private final long[] descGpa;
    private final long[] availGpa;
    private final long[] usedGpa;
    private final Virtqueue[] ready;

    /**
     * @param name   the device as log lines name it ("virtio-vsock")
     * @param memory guest RAM, where the rings must lie
     */
    public VirtioMmio(String name, VirtioDevice device, GuestMemory memory, GuestLog log) {
        this.name = name;
        this.device = device;
        this.memory = memory;
        this.log = log;
        this.offered = device.features() | VIRTIO_F_VERSION_1;
        int queues = device.queueCount();
        queueNum = new int[queues];
        descGpa = new long[queues];
        availGpa = new long[queues];
        usedGpa = new long[queues];
        ready = new Virtqueue[queues];
        device.attach(this);
    }

    static int withUsedBuffer(int status) {
        return status | INTERRUPT_USED_BUFFER;
    }

    @Override
    public long read(int vcpu, long offset, int size) {
        if (offset >= CONFIG) {
            int configOffset = (int) (offset - CONFIG);
            if ((size == 1 || size == 2 || size == 4) && (configOffset & (size - 1)) == 0) {
                return device.readConfig(configOffset, size);
            }
            log.deviceAccess(name, vcpu, offset, size, false, 0, BAD_CONFIG_READ);
            return allOnes(size);
        }
        if (size != 4) {
            log.deviceAccess(name, vcpu, offset, size, false, 0, ONLY_32_BIT_READ);
            return allOnes(size);
        }
        return register((int) offset) & 0xffffffffL;
    }

    private static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    private synchronized int register(int offset) {
        return switch (offset) {
            case MAGIC_VALUE -> MAGIC;
            case VERSION -> 2;
            case DEVICE_ID -> device.deviceId();
            case VENDOR_ID -> VENDOR;
            case DEVICE_FEATURES -> deviceFeaturesSel == 0 || deviceFeaturesSel == 1
                    ? (int) (offered >>> (32 * deviceFeaturesSel)) : 0;
            case QUEUE_NUM_MAX -> queueSel < ready.length ? maxQueueSize(queueSel) : 0;
            case QUEUE_READY -> queueSel < ready.length && ready[queueSel] != null ? 1 : 0;
            case INTERRUPT_STATUS -> interruptStatus.get();
            case STATUS -> status;
            case CONFIG_GENERATION -> 0;
            default -> 0; // write-only and reserved registers read as 0
        };
    }

    private int maxQueueSize(int queue) {
        return Math.min(device.maxQueueSize(queue), Virtqueue.MAX_SIZE);
    }

    @Override
    public void write(int vcpu, long offset, int size, long value) {
        if (size != 4) {
            log.deviceAccess(name, vcpu, offset, size, true, value, ONLY_32_BIT_WRITE);
            return;
        }
        if (offset == QUEUE_NOTIFY) {
            notified((int) value);
            return;
        }
        if (!writeRegister((int) offset, (int) value)) {
            log.deviceAccess(name, vcpu, offset, size, true, value, NOT_WRITABLE);
        }
    }

    /** A QueueNotify that exited (no ioeventfd on this address, as in tests). */
    private void notified(int queue) {
        synchronized (this) {
            if ((status & DRIVER_OK) == 0 || (status & DEVICE_NEEDS_RESET) != 0 || queue < 0
                    || queue >= ready.length || ready[queue] == null) {
                return;
            }
        }
        device.queueNotified(queue);
    }

    /** False when there is no writable register at offset. */
    private synchronized boolean writeRegister(int offset, int value) {
        if ((status & DEVICE_NEEDS_RESET) != 0 && offset != STATUS && offset != INTERRUPT_ACK) {
            return true; // only a reset helps now; the guest was told so by the status
        }
        switch (offset) {
            case DEVICE_FEATURES_SEL -> deviceFeaturesSel = value;
            case DRIVER_FEATURES -> {
                if ((status & FEATURES_OK) == 0 && (driverFeaturesSel == 0 || driverFeaturesSel == 1)) {
                    int shift = 32 * driverFeaturesSel;
                    driverFeatures = (driverFeatures & ~(0xffffffffL << shift)) | ((value & 0xffffffffL) << shift);
                }
            }
            case DRIVER_FEATURES_SEL -> driverFeaturesSel = value;
            case QUEUE_SEL -> queueSel = value;
            case QUEUE_NUM -> { if (settable()) queueNum[queueSel] = value; }
            case QUEUE_DESC_LOW -> { if (settable()) descGpa[queueSel] = low(descGpa[queueSel], value); }
            case QUEUE_DESC_HIGH -> { if (settable()) descGpa[queueSel] = high(descGpa[queueSel], value); }
            case QUEUE_DRIVER_LOW -> { if (settable()) availGpa[queueSel] = low(availGpa[queueSel], value); }
            case QUEUE_DRIVER_HIGH -> { if (settable()) availGpa[queueSel] = high(availGpa[queueSel], value); }
            case QUEUE_DEVICE_LOW -> { if (settable()) usedGpa[queueSel] = low(usedGpa[queueSel], value); }
            case QUEUE_DEVICE_HIGH -> { if (settable()) usedGpa[queueSel] = high(usedGpa[queueSel], value); }
            case QUEUE_READY -> queueReady(value);
            case INTERRUPT_ACK -> acknowledge(value);
            case STATUS -> status(value);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Clears the bits written, without a capturing lambda: an exit allocates nothing. */
    private void acknowledge(int bits) {
        int old;
        do {
            old = interruptStatus.get();
        } while (!interruptStatus.compareAndSet(old, old & ~bits));
    }

    /** The selected queue exists and is not live: its size and addresses may change. */
    private boolean settable() {
        return queueSel >= 0 && queueSel < ready.length && ready[queueSel] == null && (status & DRIVER_OK) == 0;
    }

    private static long low(long old, int value) {
        return (old & 0xffffffff00000000L) | (value & 0xffffffffL);
    }

    private static long high(long old, int value) {
        return (old & 0xffffffffL) | ((long) value << 32);
    }

    private void queueReady(int value) {
        if (queueSel < 0 || queueSel >= ready.length || (status & DRIVER_OK) != 0) {
            return; // no such queue, or a live device: taking a queue back needs RING_RESET, not offered
        }
        int q = queueSel;
        if (value == 0) {
            ready[q] = null;
            return;
        }
        if (ready[q] != null) {
            return;
        }
        String problem = checkQueue(q);
        if (problem != null) {
            needsReset("queue " + q + " " + problem);
            return;
        }
        ready[q] = new Virtqueue(memory, q, queueNum[q], descGpa[q], availGpa[q], usedGpa[q], interruptStatus);
    }

    /** Null when queue q may be made ready as the driver set it up, else what is wrong (docs/guest-abi.md). */
    private String checkQueue(int q) {
        if ((status & FEATURES_OK) == 0) {
            return "was made ready before FEATURES_OK";
        }
        int num = queueNum[q];
        int max = maxQueueSize(q);
        if (num < 1 || num > max || Integer.bitCount(num) != 1) {
            return "size " + num + " is not a power of two from 1 to " + max;
        }
        String ring = checkRing("descriptor table", descGpa[q], Virtqueue.descTableBytes(num), 16);
        if (ring == null) {
            ring = checkRing("available ring", availGpa[q], Virtqueue.availRingBytes(num), 2);
        }
        if (ring == null) {
            ring = checkRing("used ring", usedGpa[q], Virtqueue.usedRingBytes(num), 4);
        }
        return ring;
    }

    private String checkRing(String what, long gpa, long bytes, int alignment) {
        if ((gpa & (alignment - 1)) != 0) {
            return what + " at 0x" + Long.toHexString(gpa) + " is not " + alignment + "-byte aligned";
        }
        if (!memory.contains(gpa, bytes)) {
            return what + " [0x" + Long.toHexString(gpa) + ", +" + bytes + ") is not inside guest RAM of "
                    + memory.size() + " bytes";
        }
        if (gpa < LOWEST_RING_GPA) {
            return what + " at 0x" + Long.toHexString(gpa) + " is below 1 MiB (the VMM's system area)";
        }
        return null;
    }

    private void status(int value) {
        if (value == 0) {
            reset();
            return;
        }
        if ((status & DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        int added = value & ~status & 0xff;
        int next = status | added; // bits are only ever added; clearing them takes a reset
        if ((added & FEATURES_OK) != 0 && !featuresAcceptable()) {
            next &= ~FEATURES_OK; // the driver reads it back and sees the refusal
        }
        if ((added & DRIVER_OK) != 0 && (next & FEATURES_OK) == 0) {
            next &= ~DRIVER_OK;
        }
        status = next;
        if ((added & DRIVER_OK) != 0 && (next & DRIVER_OK) != 0) {
            device.activate(ready.clone(), driverFeatures);
        }
    }

    private boolean featuresAcceptable() {
        return (driverFeatures & VIRTIO_F_VERSION_1) != 0 && (driverFeatures & ~offered) == 0;
    }

    /** Status 0: everything back to the state after power-on. */
    private void reset() {
        device.reset();
        status = 0;
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        driverFeatures = 0;
        queueSel = 0;
        for (int q = 0; q < ready.length; q++) {
            queueNum[q] = 0;
            descGpa[q] = 0;
            availGpa[q] = 0;
            usedGpa[q] = 0;
            ready[q] = null;
        }
        interruptStatus.set(0);
    }

    /**
     * The guest broke the rules (a bad queue at set-up, a bad chain later): the device stops using its queues
     * ({@link VirtioDevice#reset}), Status gets DEVICE_NEEDS_RESET and InterruptStatus the configuration-change
     * bit (virtio 1.2 §2.1.2), and the reason is logged (rate-limited). Only a reset by the driver brings the
     * device back. Ignored while the device is reset or already needs a reset. Called on the device's thread
     * (or a vCPU's, from the checks here).
     *
     * <p>A call that races with the driver's reset and new set-up can hit the new set-up; the driver then has
     * to reset once more, which only a driver that sent a bad chain can suffer.
     */
    public synchronized void needsReset(String reason) {
        if (status == 0 || (status & DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        status |= DEVICE_NEEDS_RESET;
        device.reset();
        interruptStatus.getAndUpdate(s -> s | INTERRUPT_CONFIG_CHANGE);
        log.deviceError(name, reason);
    }

    /** The device status as the driver reads it (for tests and status reports). */
    public synchronized int status() {
        return status;
    }

    @Override
    public String toString() {
        return name + " (virtio-mmio)";
    }
}
