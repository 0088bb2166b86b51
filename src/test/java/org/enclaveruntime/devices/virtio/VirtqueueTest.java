package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.enclaveruntime.devices.virtio.Virtqueue.VIRTQ_DESC_F_INDIRECT;
import static org.enclaveruntime.devices.virtio.Virtqueue.VIRTQ_DESC_F_NEXT;
import static org.enclaveruntime.devices.virtio.Virtqueue.VIRTQ_DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtqueueTest {
    private static final long RAM = 4L << 20;
    private static final long DESC = 0x10_0000;
    private static final long AVAIL = 0x11_0000;
    private static final long USED = 0x12_0000;
    private static final long DATA = 0x20_0000;

    private GuestMemory memory;
    /** Where the allocation control puts its boxes, out of reach of escape analysis. */
    private static volatile Object sink;

    @BeforeEach
    void create() {
        memory = GuestMemory.create(RAM, MemoryBacking.ORDINARY);
    }

    @AfterEach
    void close() {
        memory.close();
    }

    private TestRings rings(int size) {
        return new TestRings(memory, size, DESC, AVAIL, USED);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void popsAChainSplitAnyWayAndWritesIntoItsWritablePart() throws Exception {
        TestRings r = rings(8);
        memory.write(DATA, bytes("hello "), 0, 6);
        memory.write(DATA + 0x100, bytes("world"), 0, 5);
        r.desc(3, DATA, 6, VIRTQ_DESC_F_NEXT, 5);
        r.desc(5, DATA + 0x100, 5, VIRTQ_DESC_F_NEXT, 0);
        r.desc(0, DATA + 0x200, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
        r.desc(7, DATA + 0x300, 10, VIRTQ_DESC_F_WRITE, 0);
        Virtqueue q = r.queue(1);
        DescriptorChain chain = new DescriptorChain(8);
        assertFalse(q.hasAvailable());
        assertFalse(q.pop(chain));
        r.publish(3);
        assertTrue(q.hasAvailable());
        assertTrue(q.pop(chain));
        assertFalse(q.hasAvailable());
        assertEquals(3, chain.head());
        assertEquals(11, chain.readableLength());
        assertEquals(14, chain.writableLength());
        assertEquals(4, chain.segmentCount());

        ByteBuffer all = ByteBuffer.allocate(11);
        chain.read(0, all);
        assertArrayEquals(bytes("hello world"), all.array());
        ByteBuffer across = ByteBuffer.allocateDirect(4);
        chain.read(4, across);
        across.flip();
        byte[] got = new byte[4];
        across.get(got);
        assertArrayEquals(bytes("o wo"), got);
        assertThrows(IndexOutOfBoundsException.class, () -> chain.read(8, ByteBuffer.allocate(4)));

        chain.write(2, ByteBuffer.wrap(bytes("abcdefgh")));
        byte[] first = new byte[4];
        memory.read(DATA + 0x200, first, 0, 4);
        assertArrayEquals(new byte[] {0, 0, 'a', 'b'}, first);
        byte[] second = new byte[6];
        memory.read(DATA + 0x300, second, 0, 6);
        assertArrayEquals(bytes("cdefgh"), second);
        assertThrows(IndexOutOfBoundsException.class, () -> chain.write(12, ByteBuffer.allocate(3)));

        ByteBuffer[] views = new ByteBuffer[4];
        assertEquals(2, chain.readableViews(3, 5, views));
        assertEquals(3, views[0].remaining());
        assertEquals(2, views[1].remaining());
        assertEquals('l', views[0].get(0));
        assertEquals('w', views[1].get(0));
        assertEquals(2, chain.writableViews(0, 14, views));
        views[1].put(9, (byte) 'Z');
        assertEquals('Z', memory.readU8(DATA + 0x300 + 9));
        assertThrows(IllegalArgumentException.class, () -> chain.readableViews(0, 11, new ByteBuffer[1]));

        q.pushUsed(chain.head(), 8);
        assertEquals(1, r.usedIdx());
        assertEquals(3, r.usedId(0));
        assertEquals(8, r.usedLen(0));
    }

    @Test
    void indexesWrapAroundSixteenBits() throws Exception {
        TestRings r = rings(4);
        Virtqueue q = r.queue(0);
        DescriptorChain chain = new DescriptorChain(4);
        for (int i = 0; i < 4; i++) {
            r.desc(i, DATA + i, 1 + i, 0, 0);
        }
        int rounds = 0x10000 + 7;
        for (int n = 0; n < rounds; n++) {
            int head = (n * 3) & 3;
            r.publish(head);
            assertTrue(q.pop(chain), "chain " + n);
            assertEquals(head, chain.head());
            assertEquals(1 + head, chain.readableLength());
            q.pushUsed(head, n);
            assertEquals((n + 1) & 0xffff, r.usedIdx());
            assertEquals(head, r.usedId(n & 3));
            assertEquals(n, r.usedLen(n & 3));
            assertFalse(q.pop(chain));
        }
    }

    @Test
    void takesUpToAFullQueueAtOnceButNotMore() throws Exception {
        TestRings r = rings(4);
        Virtqueue q = r.queue(0);
        DescriptorChain chain = new DescriptorChain(4);
        for (int i = 0; i < 4; i++) {
            r.desc(i, DATA, 8, 0, 0);
            r.publish(i);
        }
        for (int i = 0; i < 4; i++) {
            assertTrue(q.pop(chain));
            assertEquals(i, chain.head());
        }
        assertFalse(q.pop(chain));
        r.availIdx(4 + 5);
        VirtqueueException e = assertThrows(VirtqueueException.class, q::hasAvailable);
        assertTrue(e.getMessage().contains("avail.idx 9"), e.getMessage());
        assertThrows(VirtqueueException.class, () -> q.pop(chain));
    }

    @Test
    void availIdxFarAheadOfAFreshQueueIsRefused() {
        TestRings r = rings(256);
        r.availIdx(0xFFFF);
        assertThrows(VirtqueueException.class, () -> r.queue(0).pop(new DescriptorChain(256)));
    }

    private String refused(TestRings r, int head) {
        Virtqueue q = r.queue(0);
        DescriptorChain chain = new DescriptorChain(r.size);
        r.publish(head);
        VirtqueueException e = assertThrows(VirtqueueException.class, () -> q.pop(chain));
        assertEquals(-1, chain.head(), "a refused chain is empty");
        assertEquals(0, chain.readableLength());
        return e.getMessage();
    }

    @Test
    void headOutOfRange() {
        TestRings r = rings(8);
        assertTrue(refused(r, 8).contains("head 8"));
    }

    @Test
    void nextOutOfRange() {
        TestRings r = rings(8);
        r.desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 0xFFFF);
        assertTrue(refused(r, 0).contains("next 65535"));
    }

    @Test
    void loopsEndAtTheQueueSize() {
        TestRings r = rings(8);
        r.desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 1);
        r.desc(1, DATA, 1, VIRTQ_DESC_F_NEXT, 0);
        assertTrue(refused(r, 0).contains("more than 8 descriptors"));
        TestRings self = rings(1);
        self.desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 0);
        assertTrue(refused(self, 0).contains("more than 1 descriptors"));
    }

    @Test
    void aChainOfExactlyQueueSizeDescriptorsIsFine() throws Exception {
        TestRings r = rings(16);
        for (int i = 0; i < 16; i++) {
            r.desc(i, DATA + i, 1, i < 15 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
        }
        r.publish(0);
        DescriptorChain chain = new DescriptorChain(16);
        assertTrue(r.queue(0).pop(chain));
        assertEquals(16, chain.readableLength());
    }

    @Test
    void indirectIsRefused() {
        TestRings r = rings(8);
        r.desc(2, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
        assertTrue(refused(r, 2).contains("INDIRECT"));
    }

    @Test
    void buffersOutsideRamAreRefused() {
        long[][] bad = {{RAM, 1}, {RAM - 1, 2}, {-1L, 1}, {-16L, 32}, {Long.MAX_VALUE, 1},
                {0x8000_0000_0000_0000L, 0}, {RAM - 0xFFFF_FFFFL + 1, 0xFFFF_FFFFL}, {1, 0xFFFF_FFFFL}};
        for (long[] b : bad) {
            TestRings r = rings(8);
            r.desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 1);
            r.desc(1, b[0], b[1], 0, 0);
            assertTrue(refused(r, 0).contains("not inside guest RAM"), Long.toHexString(b[0]));
        }
    }

    @Test
    void emptyBuffersAtTheEndOfRamAreInside() throws Exception {
        TestRings r = rings(8);
        r.desc(0, RAM, 0, 0, 0);
        r.publish(0);
        DescriptorChain chain = new DescriptorChain(8);
        assertTrue(r.queue(0).pop(chain));
        assertEquals(0, chain.readableLength());
    }

    @Test
    void readableAfterWritableIsRefused() {
        TestRings r = rings(8);
        r.desc(0, DATA, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        r.desc(1, DATA, 1, 0, 0);
        assertTrue(refused(r, 0).contains("readable after"));
    }

    @Test
    void chainsLongerThan32BitsAreRefused() {
        TestRings r = rings(2048);
        for (int i = 0; i < 2048; i++) {
            r.desc(i, 0, RAM, VIRTQ_DESC_F_NEXT, i + 1);
        }
        assertTrue(refused(r, 0).contains("2^32"));
    }

    @Test
    void aRefusedChainIsNotConsumedAndTheQueueStaysRefusing() {
        TestRings r = rings(8);
        r.desc(0, RAM, 1, 0, 0);
        r.publish(0);
        Virtqueue q = r.queue(0);
        DescriptorChain chain = new DescriptorChain(8);
        assertThrows(VirtqueueException.class, () -> q.pop(chain));
        assertThrows(VirtqueueException.class, () -> q.pop(chain));
    }

    @Test
    void notificationFlags() throws Exception {
        TestRings r = rings(8);
        Virtqueue q = r.queue(0);
        q.suppressNotifications(true);
        assertEquals(1, memory.readU16(USED));
        q.suppressNotifications(false);
        assertEquals(0, memory.readU16(USED));
        assertTrue(q.driverWantsWakeups());
        memory.writeU16(AVAIL, 1);
        assertFalse(q.driverWantsWakeups());
    }

    @Test
    void queuesAreCheckedWhenCreated() {
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 3, DESC, AVAIL, USED));
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 0, DESC, AVAIL, USED));
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 65536, DESC, AVAIL, USED));
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 256, RAM - 16, AVAIL, USED));
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 256, DESC, -2, USED));
        assertThrows(IllegalArgumentException.class, () -> new Virtqueue(memory, 0, 256, DESC, AVAIL, RAM - 6));
        Virtqueue q = new Virtqueue(memory, 2, 256, DESC, AVAIL, USED);
        assertEquals(2, q.index());
        assertEquals(256, q.size());
        assertThrows(IllegalArgumentException.class, () -> q.pop(new DescriptorChain(128)));
        assertThrows(IllegalArgumentException.class, () -> q.pushUsed(256, 0));
    }
    /** pop and pushUsed allocate nothing per chain, measured with the JVM's per-thread allocation counter. */
    @Test
    void popAndPushUsedAllocateNothing() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "this JVM cannot count a thread's allocations");
        threads.setThreadAllocatedMemoryEnabled(true);
        TestRings r = rings(8);
        r.desc(0, DATA, 100, VIRTQ_DESC_F_NEXT, 1);
        r.desc(1, DATA + 100, 200, VIRTQ_DESC_F_WRITE, 0);
        Virtqueue q = r.queue(0);
        DescriptorChain chain = new DescriptorChain(8);
        int chains = 200_000;
        roundTrips(r, q, chain, chains / 10); // warm-up: class loading and the JIT
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        long sum = roundTrips(r, q, chain, chains);
        long growth = threads.getThreadAllocatedBytes(tid) - before;
        assertEquals(300L * chains, sum);
        assertTrue(growth <= 16 * 1024, growth + " bytes allocated for " + chains + " chains");
        // The counter can see a per-chain allocation: the same loop boxing one value per chain.
        before = threads.getThreadAllocatedBytes(tid);
        for (int n = 0; n < chains; n++) {
            sink = (long) n + 1000;
        }
        assertTrue(threads.getThreadAllocatedBytes(tid) - before > 16 * 1024, "boxing was not counted");
    }

    private static long roundTrips(TestRings r, Virtqueue q, DescriptorChain chain, int n) throws Exception {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            r.publish(0);
            q.suppressNotifications(true);
            if (!q.hasAvailable() || !q.pop(chain)) {
                throw new AssertionError("no chain " + i);
            }
            sum += chain.readableLength() + chain.writableLength();
            q.pushUsed(chain.head(), 0);
            q.suppressNotifications(false);
            sum += q.driverWantsWakeups() ? 0 : 1;
        }
        return sum;
    }
}
