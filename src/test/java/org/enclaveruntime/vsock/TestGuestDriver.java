package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeoutException;

/**
 * The tests' stand-in for the enclave's virtio-vsock driver: it sets the device up through the real virtio-mmio
 * registers (reset, features, rx/tx/event split rings in plain guest memory, DRIVER_OK), posts rx buffers, sends packets through tx and reads what the device put into rx, following
 * the notification handshake of docs/guest-abi.md (notify through the eventfd only when NO_NOTIFY is clear).
 * Used by one test thread. Deliberately splits headers across descriptors, as a real driver may.
 */
final class TestGuestDriver {
    static final long CID = 16;
    static final int QUEUE_SIZE = 256;
    static final int RX_BUFFER = 64 * 1024;
    static final int RX_BUFFERS = 64;
    static final int TX_SLOT = 64 * 1024 + 64;
    static final int TX_SLOTS = 32;
    /** Our receive buffer per connection as we advertise it. */
    static final int GUEST_BUF_ALLOC = 1 << 20;

    // Rings above the 1 MiB system area, as the transport demands.
    private static final long RX_RING = 0x100000;
    private static final long TX_RING = 0x110000;
    private static final long EVENT_RING = 0x120000;
    private static final int EVENT_QUEUE_SIZE = 4;
    private static final long RX_DATA = 0x200000;
    private static final long TX_DATA = RX_DATA + (long) RX_BUFFERS * RX_BUFFER;
    static final long MEMORY_SIZE = 16L << 20;

    private final GuestMemory memory;
    private final int notifyFd;
    private final Ring rx;
    private final Ring tx;
    private final Deque<Integer> freeTxSlots = new ArrayDeque<>();
    private final ByteBuffer header = ByteBuffer.allocate(VsockHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private long notifies;

    /** One split ring as the driver sees it. */
    private final class Ring {
        final long desc;
        final long avail;
        final long used;
        int availIdx;
        int usedSeen;

        Ring(long base) {
            desc = base;
            avail = base + 16L * QUEUE_SIZE;
            used = (avail + 6 + 2L * QUEUE_SIZE + 3) & ~3L;
        }

        void desc(int i, long addr, long len, int flags, int next) {
            long d = desc + 16L * i;
            memory.writeU64(d, addr);
            memory.writeU32(d + 8, len);
            memory.writeU16(d + 12, flags);
            memory.writeU16(d + 14, next);
        }

        void publish(int head) {
            memory.writeU16(avail + 4 + 2L * (availIdx % QUEUE_SIZE), head);
            availIdx = (availIdx + 1) & 0xffff;
            memory.writeU16Release(avail + 2, availIdx);
            GuestMemory.fullFence();
            if ((memory.readU16Acquire(used) & 1) == 0) {
                kick();
            }
        }

        boolean hasUsed() {
            return memory.readU16Acquire(used + 2) != usedSeen;
        }

        /** {id, len} of the next used entry, consumed. */
        long[] takeUsed() {
            long e = used + 4 + 8L * (usedSeen % QUEUE_SIZE);
            long[] r = {memory.readU32(e), memory.readU32(e + 4)};
            usedSeen = (usedSeen + 1) & 0xffff;
            return r;
        }
    }

    /** A packet the device sent. */
    record Packet(long srcCid, long dstCid, long srcPort, long dstPort, int op, int flags, long bufAlloc,
                  int fwdCnt, byte[] payload) {
        @Override
        public String toString() {
            return VsockHeader.opName(op) + " " + srcPort + "->" + dstPort + " len " + payload.length + " flags "
                    + flags + " buf_alloc " + bufAlloc + " fwd_cnt " + fwdCnt;
        }
    }

    TestGuestDriver(GuestMemory memory, int notifyFd) {
        this.memory = memory;
        this.notifyFd = notifyFd;
        rx = new Ring(RX_RING);
        tx = new Ring(TX_RING);
        for (int i = 0; i < TX_SLOTS; i++) {
            freeTxSlots.add(i);
        }
    }

    /**
     * The standard set-up sequence of docs/guest-abi.md, "Transport", register by register; DRIVER_OK makes the
     * transport activate the device. Fails when the transport refuses a step.
     */
    void setUp(VirtioMmio mmio) {
        mmio.write(0, 0x070, 4, 0); // reset
        if (mmio.read(0, 0x000, 4) != 0x74726976L || mmio.read(0, 0x008, 4) != 19) {
            throw new IllegalStateException("not a virtio-mmio vsock device");
        }
        mmio.write(0, 0x070, 4, 1); // ACKNOWLEDGE
        mmio.write(0, 0x070, 4, 3); // DRIVER
        mmio.write(0, 0x024, 4, 0);
        mmio.write(0, 0x020, 4, 1); // VIRTIO_VSOCK_F_STREAM
        mmio.write(0, 0x024, 4, 1);
        mmio.write(0, 0x020, 4, 1); // VIRTIO_F_VERSION_1 (bit 32)
        mmio.write(0, 0x070, 4, 11); // FEATURES_OK
        if ((mmio.read(0, 0x070, 4) & 8) == 0) {
            throw new IllegalStateException("FEATURES_OK refused");
        }
        queue(mmio, 0, QUEUE_SIZE, rx);
        queue(mmio, 1, QUEUE_SIZE, tx);
        Ring event = new Ring(EVENT_RING);
        queue(mmio, 2, EVENT_QUEUE_SIZE, event);
        mmio.write(0, 0x070, 4, 15); // DRIVER_OK
        if ((mmio.read(0, 0x070, 4) & 0x40) != 0) {
            throw new IllegalStateException("the device needs a reset right after set-up");
        }
    }

    private static void queue(VirtioMmio mmio, int index, int size, Ring ring) {
        mmio.write(0, 0x030, 4, index);
        mmio.write(0, 0x038, 4, size);
        mmio.write(0, 0x080, 4, ring.desc);
        mmio.write(0, 0x084, 4, 0);
        mmio.write(0, 0x090, 4, ring.avail);
        mmio.write(0, 0x094, 4, 0);
        mmio.write(0, 0x0a0, 4, ring.used);
        mmio.write(0, 0x0a4, 4, 0);
        mmio.write(0, 0x044, 4, 1);
    }

    /** Posts every rx buffer: two descriptors each (20 bytes, then the rest), so the header is split. */
    void postRxBuffers() {
        for (int b = 0; b < RX_BUFFERS; b++) {
            postRx(b);
        }
    }

    private void postRx(int b) {
        long addr = RX_DATA + (long) b * RX_BUFFER;
        rx.desc(2 * b, addr, 20, 2 /* WRITE */ | 1 /* NEXT */, 2 * b + 1);
        rx.desc(2 * b + 1, addr + 20, RX_BUFFER - 20, 2, 0);
        rx.publish(2 * b);
    }

    long notifies() {
        return notifies;
    }

    private void kick() {
        notifies++;
        ByteBuffer one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        one.putLong(0, 1);
        LibC.INSTANCE.write(notifyFd, com.kenai.jffi.MemoryIO.getInstance().getDirectBufferAddress(one), 8);
    }

    /** Sends a well-formed packet from this guest to the host. */
    void send(long guestPort, long hostPort, int op, int flags, int fwdCnt, byte[] payload) {
        sendRaw(CID, VsockHeader.HOST_CID, guestPort, hostPort, payload.length, VsockHeader.TYPE_STREAM, op, flags,
                GUEST_BUF_ALLOC, fwdCnt, payload);
    }

    /** Sends anything, as a hostile driver might: header fields as given, split into three descriptors. */
    void sendRaw(long srcCid, long dstCid, long srcPort, long dstPort, long len, int type, int op, int flags,
                 long bufAlloc, int fwdCnt, byte[] payload) {
        int slot = takeTxSlot();
        long addr = TX_DATA + (long) slot * TX_SLOT;
        header.clear();
        header.putLong(srcCid).putLong(dstCid).putInt((int) srcPort).putInt((int) dstPort).putInt((int) len)
                .putShort((short) type).putShort((short) op).putInt(flags).putInt((int) bufAlloc).putInt(fwdCnt);
        memory.write(addr, header.array(), 0, VsockHeader.SIZE);
        memory.write(addr + VsockHeader.SIZE, payload, 0, payload.length);
        long total = VsockHeader.SIZE + payload.length;
        int d = slot * 3;
        // 30 bytes, the rest of the header and half the payload, the other half.
        long first = Math.min(30, total);
        long second = (total - first) / 2;
        long third = total - first - second;
        tx.desc(d, addr, first, 1, d + 1);
        tx.desc(d + 1, addr + first, second, 1, d + 2);
        tx.desc(d + 2, addr + first + second, third, 0, 0);
        tx.publish(d);
    }

    /** A tx chain with a device-writable descriptor after the header: against the rules, the device must reset. */
    void sendChainWithWritableDescriptor() {
        int slot = takeTxSlot();
        long addr = TX_DATA + (long) slot * TX_SLOT;
        int d = slot * 3;
        tx.desc(d, addr, VsockHeader.SIZE, 1, d + 1);
        tx.desc(d + 1, addr + VsockHeader.SIZE, 16, 2 /* WRITE */, 0);
        tx.publish(d);
    }

    /** True while the device has VIRTQ_USED_F_NO_NOTIFY set on tx (it is awake and polling). */
    boolean txNotifySuppressed() {
        return (memory.readU16Acquire(tx.used) & 1) != 0;
    }

    /** After a device reset: zeroed rings and a fresh driver, as a driver sets them up again. */
    TestGuestDriver reinitialise() {
        memory.zero(RX_RING, 3 * 0x10000);
        return new TestGuestDriver(memory, notifyFd);
    }

    private int takeTxSlot() {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (freeTxSlots.isEmpty()) {
            while (tx.hasUsed()) {
                freeTxSlots.add((int) tx.takeUsed()[0] / 3);
            }
            if (freeTxSlots.isEmpty()) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("the device returned no tx buffer for 10 s");
                }
                Thread.onSpinWait();
            }
        }
        return freeTxSlots.poll();
    }

    /** The next packet the device sent, or null after {@code timeout}. */
    Packet poll(Duration timeout) {
        long until = System.nanoTime() + timeout.toNanos();
        while (!rx.hasUsed()) {
            if (System.nanoTime() - until > 0) {
                return null;
            }
            Thread.yield();
        }
        long[] used = rx.takeUsed();
        int b = (int) used[0] / 2;
        long addr = RX_DATA + (long) b * RX_BUFFER;
        byte[] hdr = new byte[VsockHeader.SIZE];
        memory.read(addr, hdr, 0, hdr.length);
        ByteBuffer h = ByteBuffer.wrap(hdr).order(ByteOrder.LITTLE_ENDIAN);
        long len = h.getInt(24) & 0xffffffffL;
        if (used[1] != VsockHeader.SIZE + len) {
            throw new AssertionError("used length " + used[1] + " but header len " + len);
        }
        byte[] payload = new byte[(int) len];
        memory.read(addr + VsockHeader.SIZE, payload, 0, payload.length);
        Packet p = new Packet(h.getLong(0), h.getLong(8), h.getInt(16) & 0xffffffffL, h.getInt(20) & 0xffffffffL,
                h.getShort(30), h.getInt(32), h.getInt(36) & 0xffffffffL, h.getInt(40), payload);
        postRx(b);
        return p;
    }

    Packet expect(Duration timeout) throws TimeoutException {
        Packet p = poll(timeout);
        if (p == null) {
            throw new TimeoutException("no packet from the device within " + timeout);
        }
        return p;
    }
}
