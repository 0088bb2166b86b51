package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.enclaveruntime.devices.virtio.VirtioMmio.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The virtio-mmio registers driven as a driver does, in the standard order and in wrong ones. */
class VirtioMmioTest {
    private static final long RAM = 4L << 20;
    /** Queue q's rings: descriptor table, available ring, used ring, 16 KiB apart from 2 MiB up. */
    private static final long RINGS = 2L << 20;

    private GuestMemory memory;
    private GuestLog log;
    private RecordingDevice device;
    private VirtioMmio mmio;

    @BeforeEach
    void create() {
        memory = GuestMemory.create(RAM, MemoryBacking.ORDINARY);
        log = new GuestLog();
        device = new RecordingDevice();
        mmio = new VirtioMmio("virtio-vsock", device, memory, log);
    }

    @AfterEach
    void close() {
        log.close();
        memory.close();
    }

    private long read(int offset) {
        return mmio.read(0, offset, 4);
    }

    private void write(int offset, long value) {
        mmio.write(0, offset, 4, value);
    }

    private static long desc(int q) {
        return RINGS + q * 0x4000L;
    }

    private static long avail(int q) {
        return desc(q) + 0x1000;
    }

    private static long used(int q) {
        return desc(q) + 0x2000;
    }

    private void negotiate(long features) {
        write(STATUS, 0);
        write(STATUS, ACKNOWLEDGE);
        write(STATUS, ACKNOWLEDGE | DRIVER);
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, features & 0xffffffffL);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, features >>> 32);
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    }

    private void setUpQueue(int q, int size, long desc, long avail, long used) {
        write(QUEUE_SEL, q);
        write(QUEUE_NUM, size);
        write(QUEUE_DESC_LOW, desc & 0xffffffffL);
        write(QUEUE_DESC_HIGH, desc >>> 32);
        write(QUEUE_DRIVER_LOW, avail & 0xffffffffL);
        write(QUEUE_DRIVER_HIGH, avail >>> 32);
        write(QUEUE_DEVICE_LOW, used & 0xffffffffL);
        write(QUEUE_DEVICE_HIGH, used >>> 32);
        write(QUEUE_READY, 1);
    }

    private void setUpAll() {
        negotiate(VIRTIO_F_VERSION_1 | RecordingDevice.FEATURES);
        for (int q = 0; q < 3; q++) {
            setUpQueue(q, 256, desc(q), avail(q), used(q));
        }
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    }

    @Test
    void theStandardOrderActivatesTheDeviceWithItsQueues() throws Exception {
        assertEquals(0x74726976L, read(MAGIC_VALUE));
        assertEquals(2, read(VERSION));
        assertEquals(19, read(DEVICE_ID));
        assertEquals(0x454E434CL, read(VENDOR_ID));
        write(DEVICE_FEATURES_SEL, 0);
        assertEquals(1, read(DEVICE_FEATURES), "VIRTIO_VSOCK_F_STREAM");
        write(DEVICE_FEATURES_SEL, 1);
        assertEquals(1, read(DEVICE_FEATURES), "VIRTIO_F_VERSION_1");
        write(DEVICE_FEATURES_SEL, 2);
        assertEquals(0, read(DEVICE_FEATURES));
        write(DEVICE_FEATURES_SEL, 0xFFFF_FFFFL);
        assertEquals(0, read(DEVICE_FEATURES));
        for (int q = 0; q < 3; q++) {
            write(QUEUE_SEL, q);
            assertEquals(256, read(QUEUE_NUM_MAX));
            assertEquals(0, read(QUEUE_READY));
        }
        write(QUEUE_SEL, 3);
        assertEquals(0, read(QUEUE_NUM_MAX), "no fourth queue");

        negotiate(VIRTIO_F_VERSION_1 | 1);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK, read(STATUS), "FEATURES_OK sticks");
        for (int q = 0; q < 3; q++) {
            setUpQueue(q, q == 2 ? 4 : 256, desc(q), avail(q), used(q));
            assertEquals(1, read(QUEUE_READY));
        }
        assertTrue(device.calls().stream().noneMatch("activate"::equals));
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, read(STATUS));
        assertEquals("activate", device.calls().get(device.calls().size() - 1));
        assertEquals(VIRTIO_F_VERSION_1 | 1, device.activatedFeatures);
        Virtqueue tx = device.activated[1];
        assertEquals(1, tx.index());
        assertEquals(256, tx.size());
        assertEquals(4, device.activated[2].size());
        assertEquals(desc(1), tx.descGpa());
        assertEquals(avail(1), tx.availGpa());
        assertEquals(used(1), tx.usedGpa());

        assertEquals(0x55667788L, read(CONFIG));
        assertEquals(0x11223344L, read(CONFIG + 4));
        assertEquals(0x7788, mmio.read(0, CONFIG, 2), "config space allows the width of its fields");
        assertEquals(0x77, mmio.read(0, CONFIG + 1, 1));
        assertEquals(0, read(CONFIG_GENERATION));

        // A chain through the tx queue: used buffers raise InterruptStatus bit 0 until acknowledged.
        TestRings rings = new TestRings(memory, 256, desc(1), avail(1), used(1));
        rings.desc(0, 0x30_0000, 44, 0, 0);
        rings.publish(0);
        DescriptorChain chain = new DescriptorChain(256);
        assertTrue(tx.pop(chain));
        assertEquals(0, read(INTERRUPT_STATUS));
        tx.pushUsed(chain.head(), 0);
        assertEquals(1, read(INTERRUPT_STATUS));
        write(INTERRUPT_ACK, 1);
        assertEquals(0, read(INTERRUPT_STATUS));

        write(QUEUE_NOTIFY, 1);
        write(QUEUE_NOTIFY, 7);
        assertEquals("notify 1", device.calls().get(device.calls().size() - 1), "no notify of a queue that is not there");

        write(STATUS, 0);
        assertEquals(0, read(STATUS));
        assertEquals("reset", device.calls().get(device.calls().size() - 1));
        write(QUEUE_SEL, 1);
        assertEquals(0, read(QUEUE_READY), "a reset forgets the queues");
    }

    @Test
    void featuresOkIsRefusedWithoutVersion1OrWithFeaturesNotOffered() {
        negotiate(1);
        assertEquals(ACKNOWLEDGE | DRIVER, read(STATUS), "no VERSION_1: FEATURES_OK does not stick");
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertEquals(ACKNOWLEDGE | DRIVER, read(STATUS), "nor does DRIVER_OK without FEATURES_OK");
        negotiate(VIRTIO_F_VERSION_1 | (1L << 28)); // INDIRECT_DESC, not offered
        assertEquals(ACKNOWLEDGE | DRIVER, read(STATUS));
        negotiate(VIRTIO_F_VERSION_1);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK, read(STATUS), "VERSION_1 alone is fine");
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, 1);
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        assertEquals(VIRTIO_F_VERSION_1, device.activatedFeatures, "features are fixed at FEATURES_OK");
        assertTrue(device.calls().stream().filter("activate"::equals).count() == 1);
    }

    /** Sets up queue 0 the wrong way and expects DEVICE_NEEDS_RESET with the reason logged. */
    private void refusedQueue(int size, long desc, long avail, long used, String why) {
        negotiate(VIRTIO_F_VERSION_1);
        long lines = log.total();
        int resets = (int) device.calls().stream().filter("reset"::equals).count();
        setUpQueue(0, size, desc, avail, used);
        assertEquals(0, read(QUEUE_READY), why);
        assertEquals(DEVICE_NEEDS_RESET, read(STATUS) & DEVICE_NEEDS_RESET, why);
        assertEquals(lines + 1, log.total(), why + ": logged");
        assertEquals(resets + 1, device.calls().stream().filter("reset"::equals).count(), why);
        assertEquals(INTERRUPT_CONFIG_CHANGE, read(INTERRUPT_STATUS) & INTERRUPT_CONFIG_CHANGE);
        // Stuck until the driver resets: nothing else is taken.
        setUpQueue(0, 256, desc(0), avail(0), used(0));
        write(STATUS, read(STATUS) | DRIVER_OK);
        assertEquals(0, read(QUEUE_READY), why);
        assertTrue(device.calls().stream().noneMatch("activate"::equals), why);
        write(STATUS, 0);
        assertEquals(0, read(STATUS));
    }

    @Test
    void queueReadyChecksEveryRing() {
        long d = desc(0);
        long a = avail(0);
        long u = used(0);
        refusedQueue(0, d, a, u, "size 0");
        refusedQueue(3, d, a, u, "size not a power of two");
        refusedQueue(512, d, a, u, "size above QueueNumMax");
        refusedQueue(256, d + 8, a, u, "descriptor table misaligned");
        refusedQueue(256, d, a + 1, u, "available ring misaligned");
        refusedQueue(256, d, a, u + 2, "used ring misaligned");
        refusedQueue(256, 0x8000, a, u, "descriptor table below 1 MiB");
        refusedQueue(256, d, 0xFFFF0, u, "available ring below 1 MiB");
        refusedQueue(256, d, a, 0, "used ring at 0");
        refusedQueue(256, RAM - 16 * 128, a, u, "descriptor table past the end of RAM");
        refusedQueue(256, d, RAM - 6 - 2 * 256 + 2, u, "available ring past the end of RAM");
        refusedQueue(256, d, a, RAM, "used ring at the end of RAM");
        refusedQueue(256, 0xFFFF_FFFF_FFFF_FF00L, a, u, "descriptor table near 2^64");
        refusedQueue(256, d, a, 0x8000_0000_0000_0000L, "used ring at 2^63");
        // And the tightest fits that are fine: each ring ends at the end of RAM (the used ring 2 bytes before,
        // as its 2054 bytes cannot end there 4-aligned), or starts at exactly 1 MiB.
        negotiate(VIRTIO_F_VERSION_1);
        setUpQueue(0, 256, RAM - 16 * 256, a, u);
        setUpQueue(1, 256, desc(1), RAM - 6 - 2 * 256, used(1));
        setUpQueue(2, 256, 1L << 20, avail(2), RAM - 2056);
        for (int q = 0; q < 3; q++) {
            write(QUEUE_SEL, q);
            assertEquals(1, read(QUEUE_READY), "queue " + q);
        }
        assertEquals(0, read(STATUS) & DEVICE_NEEDS_RESET);
    }

    @Test
    void aQueueMadeReadyBeforeFeaturesOkIsRefused() {
        write(STATUS, ACKNOWLEDGE | DRIVER);
        setUpQueue(0, 256, desc(0), avail(0), used(0));
        assertEquals(0, read(QUEUE_READY));
        assertEquals(DEVICE_NEEDS_RESET, read(STATUS) & DEVICE_NEEDS_RESET);
    }

    @Test
    void aLiveQueueCannotBeMovedAndALiveDeviceKeepsItsQueues() {
        setUpAll();
        Virtqueue rx = device.activated[0];
        write(QUEUE_SEL, 0);
        write(QUEUE_NUM, 2);
        write(QUEUE_DESC_LOW, 0x30_0000);
        write(QUEUE_READY, 0);
        assertEquals(1, read(QUEUE_READY));
        assertEquals(desc(0), rx.descGpa());
        write(STATUS, ACKNOWLEDGE);
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, read(STATUS), "bits are cleared only by a reset");
    }

    @Test
    void theDeviceReportsABadChainWithNeedsReset() {
        setUpAll();
        long lines = log.total();
        assertEquals(device.transport, mmio, "the device knows its transport");
        Thread deviceThread = new Thread(() -> mmio.needsReset("queue 1: descriptor 3 is INDIRECT"));
        deviceThread.start();
        assertTrue(join(deviceThread));
        assertEquals(DEVICE_NEEDS_RESET | ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, read(STATUS));
        assertNull(device.activated, "the device stopped");
        assertEquals(lines + 1, log.total());
        mmio.needsReset("again");
        assertEquals(lines + 1, log.total(), "once in DEVICE_NEEDS_RESET, further reports change nothing");
        write(QUEUE_NOTIFY, 0);
        assertTrue(device.calls().stream().noneMatch(c -> c.startsWith("notify")));
        write(STATUS, 0);
        mmio.needsReset("after the reset");
        assertEquals(0, read(STATUS), "a reset device has nothing to reset");
        setUpAll();
        assertNotNull(device.activated, "a fresh set-up works again");
    }

    private static boolean join(Thread t) {
        try {
            t.join(60_000);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return !t.isAlive();
    }

    @Test
    void onlyThirtyTwoBitAccessesReachTheRegisters() {
        long lines = log.total();
        assertEquals(0xFF, mmio.read(0, MAGIC_VALUE, 1));
        assertEquals(0xFFFF, mmio.read(0, MAGIC_VALUE, 2));
        assertEquals(-1L, mmio.read(0, MAGIC_VALUE, 8));
        assertEquals(0xFFFF_FFFFL, mmio.read(0, CONFIG + 2, 4), "unaligned config read");
        assertEquals(0xFFFF, mmio.read(0, CONFIG + 1, 2));
        mmio.write(0, STATUS, 1, ACKNOWLEDGE);
        mmio.write(0, STATUS, 2, ACKNOWLEDGE);
        mmio.write(0, STATUS, 8, ACKNOWLEDGE);
        assertEquals(0, read(STATUS));
        write(MAGIC_VALUE, 0);
        write(0x200, 0);
        assertEquals(lines + 10, log.total(), "each ignored access is logged (rate-limited)");
        assertEquals(0x74726976L, read(MAGIC_VALUE));
    }

    @Test
    void registerWritesAndDeviceReportsFromManyThreadsEndConsistent() throws Exception {
        int rounds = 2000;
        Thread driver = new Thread(() -> {
            for (int i = 0; i < rounds; i++) {
                setUpAll();
                write(QUEUE_NOTIFY, i % 3);
            }
        });
        Thread reporter = new Thread(() -> {
            for (int i = 0; i < rounds; i++) {
                mmio.needsReset("bad chain " + i);
            }
        });
        driver.start();
        reporter.start();
        assertTrue(join(driver) && join(reporter), "no deadlock");
        write(STATUS, 0);
        setUpAll();
        assertEquals(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, read(STATUS));
        List<String> calls = device.calls();
        assertEquals("activate", calls.get(calls.size() - 1));
    }
    @Test
    void theTestDriverSetsTheDeviceUp() throws Exception {
        VirtioTestDriver driver = new VirtioTestDriver(mmio, memory, RINGS);
        TestRings[] rings = driver.start(RecordingDevice.FEATURES, 256, 256, 4);
        assertEquals(3, device.activated.length);
        rings[1].desc(0, 0x30_0000, 44, 0, 0);
        rings[1].publish(0);
        DescriptorChain chain = new DescriptorChain(256);
        assertTrue(device.activated[1].pop(chain));
        assertEquals(44, chain.readableLength());
        mmio.needsReset("test");
        assertTrue(driver.needsReset());
        driver.reset();
        assertEquals(0, driver.read(STATUS));
    }
}
