package org.enclaveruntime.vsock;

import org.enclaveruntime.devices.virtio.VirtioMmio;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * An echo service on guest port 5000 written as a hostile-but-legal driver, for the vsock stress test: every
 * choice the contract leaves to a driver is random (seeded): rx buffer sizes (45 bytes to 64 KiB), how chains
 * are split into descriptors (zero-length ones included, headers split anywhere), which descriptor ids are
 * used (a shuffled free list, so ids are reused in every order), tx packet sizes, whether to kick, delays, a
 * small receive buffer (credit at its limit) and a reader that lets it fill. It checks every byte it receives
 * against the client's stream (so a corruption names its direction) and never trusts the device beyond the
 * contract: credit overruns, bad used lengths and unknown ids fail the run.
 *
 * <p>Runs on its own thread; between polls it "WAITs" like the runtime: parks until the device's work-pending
 * waker fires, and a wait that needed its timeout while work was published counts as a lost wake-up.
 */
final class EchoStressGuest implements Runnable {
    static final long CID = 16;
    static final int PORT = 5000;
    static final long MEMORY_SIZE = 16L << 20;
    private static final int QUEUE_SIZE = 256;
    private static final int SLOT = 64 * 1024 + 64;
    private static final int RX_SLOTS = 48;
    private static final int TX_SLOTS = 48;
    private static final int MAX_SPLIT = 4;
    private static final long RX_RING = 0x100000;
    private static final long TX_RING = 0x110000;
    private static final long EVENT_RING = 0x120000;
    private static final long RX_DATA = 0x200000;
    private static final long TX_DATA = RX_DATA + (long) RX_SLOTS * SLOT;
    private static final int HDR = VsockHeader.SIZE;

    /** A byte of the client's stream: the same function on both sides, so any chunking compares. */
    static byte streamByte(long seed, long offset, byte[] block, long[] blockNo) {
        long b = offset >>> 16;
        if (blockNo[0] != b) {
            new Random(seed * 0x9E3779B97F4A7C15L + b).nextBytes(block);
            blockNo[0] = b;
        }
        return block[(int) (offset & 0xffff)];
    }

    private final GuestMemory memory;
    private final int notifyFd;
    private final Random random;
    private final long streamSeed;
    private final int bufAlloc;
    /** Small rx buffers and packets only: enough packets that the 16-bit ring indexes wrap within a round. */
    private final boolean tiny;
    private final AtomicBoolean workPending = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile Thread thread;
    private volatile Throwable failure;

    private final Ring rx = new Ring(RX_RING);
    private final Ring tx = new Ring(TX_RING);
    /** Per rx head: the slot and descriptor ids of the chain (null when not posted). */
    private final int[][] rxChains = new int[QUEUE_SIZE][];
    private final int[] rxSlotOfHead = new int[QUEUE_SIZE];
    private final int[][] txChains = new int[QUEUE_SIZE][];
    private final int[] txSlotOfHead = new int[QUEUE_SIZE];
    private final ArrayDeque<Integer> freeTxSlots = new ArrayDeque<>();

    // The one connection (the test's client).
    private long hostPort = -1;
    private final byte[] ring;
    private int rxCnt;
    private int fwdCnt;
    private int fwdCntTold;
    private int txCnt;
    private long peerBufAlloc;
    private int peerFwdCnt;
    private int peerShutdown;
    private boolean shutdownSent;
    private boolean creditRequested;
    private final byte[] checkBlock = new byte[65536];
    private final long[] checkBlockNo = {-1};

    // Counters for the report.
    volatile long bytesIn;
    volatile long bytesOut;
    volatile long packetsIn;
    volatile long packetsOut;
    volatile long kicks;
    volatile long waits;
    volatile long lostWakeups;
    volatile long zeroCreditStalls;

    EchoStressGuest(GuestMemory memory, int notifyFd, long seed, long streamSeed, boolean tiny) {
        this.tiny = tiny;
        this.memory = memory;
        this.notifyFd = notifyFd;
        this.random = new Random(seed);
        this.streamSeed = streamSeed;
        int[] sizes = {4096, 7777, 65536, 256 * 1024, 1 << 20};
        this.bufAlloc = sizes[random.nextInt(sizes.length)];
        this.ring = new byte[bufAlloc];
        for (int i = 0; i < TX_SLOTS; i++) {
            freeTxSlots.add(i);
        }
    }

    int bufAlloc() {
        return bufAlloc;
    }

    /** The device's work-pending waker. */
    void workPending() {
        workPending.set(true);
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    Throwable failure() {
        return failure;
    }

    void stop() {
        stop.set(true);
        workPending();
    }

    /** True once the guest answered the client's close: nothing more will move. */
    boolean closed() {
        return shutdownSent;
    }

    /** One split ring with a shuffled free list of descriptor ids. */
    private final class Ring {
        final long desc;
        final long avail;
        final long used;
        final List<Integer> freeIds = new ArrayList<>();
        int availIdx;
        int usedSeen;

        Ring(long base) {
            desc = base;
            avail = base + 16L * QUEUE_SIZE;
            used = (avail + 6 + 2L * QUEUE_SIZE + 3) & ~3L;
            for (int i = 0; i < QUEUE_SIZE; i++) {
                freeIds.add(i);
            }
        }

        int takeId() {
            return freeIds.remove(random.nextInt(freeIds.size()));
        }

        /** Writes a chain over [addr, addr + len) cut at random points into descriptors; returns their ids. */
        int[] chain(long addr, long len, int flags) {
            int parts = 1 + random.nextInt(MAX_SPLIT);
            long[] cuts = new long[parts + 1];
            cuts[parts] = len;
            for (int i = 1; i < parts; i++) {
                cuts[i] = random.nextInt(8) == 0 ? cuts[i - 1] : cuts[i - 1] + (long) (random.nextDouble() * (len - cuts[i - 1]));
            }
            int[] ids = new int[parts];
            for (int i = 0; i < parts; i++) {
                ids[i] = takeId();
            }
            for (int i = 0; i < parts; i++) {
                long d = desc + 16L * ids[i];
                boolean last = i == parts - 1;
                memory.writeU64(d, addr + cuts[i]);
                memory.writeU32(d + 8, cuts[i + 1] - cuts[i]);
                memory.writeU16(d + 12, flags | (last ? 0 : 1));
                memory.writeU16(d + 14, last ? 0 : ids[i + 1]);
            }
            return ids;
        }

        void add(int head) {
            memory.writeU16(avail + 4 + 2L * (availIdx % QUEUE_SIZE), head);
            availIdx = (availIdx + 1) & 0xffff;
        }

        /** avail.idx (release), full fence, then the device's NO_NOTIFY; sometimes kicks anyway, as a driver may. */
        void publish() {
            memory.writeU16Release(avail + 2, availIdx);
            GuestMemory.fullFence();
            if ((memory.readU16Acquire(used) & 1) == 0 || random.nextInt(64) == 0) {
                kick();
            }
        }

        boolean hasUsed() {
            return memory.readU16Acquire(used + 2) != usedSeen;
        }

        long[] takeUsed() {
            long e = used + 4 + 8L * (usedSeen % QUEUE_SIZE);
            long[] r = {memory.readU32(e), memory.readU32(e + 4)};
            usedSeen = (usedSeen + 1) & 0xffff;
            return r;
        }
    }

    private void kick() {
        kicks++;
        ByteBuffer one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        one.putLong(0, 1);
        LibC.INSTANCE.write(notifyFd, com.kenai.jffi.MemoryIO.getInstance().getDirectBufferAddress(one), 8);
    }

    /** Register set-up as {@link TestGuestDriver#setUp}, then every rx slot posted. On the test's thread. */
    void setUp(VirtioMmio mmio) {
        mmio.write(0, 0x070, 4, 0);
        mmio.write(0, 0x070, 4, 1);
        mmio.write(0, 0x070, 4, 3);
        mmio.write(0, 0x024, 4, 0);
        mmio.write(0, 0x020, 4, 1);
        mmio.write(0, 0x024, 4, 1);
        mmio.write(0, 0x020, 4, 1);
        mmio.write(0, 0x070, 4, 11);
        queue(mmio, 0, QUEUE_SIZE, rx.desc, rx.avail, rx.used);
        queue(mmio, 1, QUEUE_SIZE, tx.desc, tx.avail, tx.used);
        queue(mmio, 2, 4, EVENT_RING, EVENT_RING + 64, EVENT_RING + 128);
        mmio.write(0, 0x070, 4, 15);
        if ((mmio.read(0, 0x070, 4) & 0x44) != 0x04) {
            throw new IllegalStateException("the device did not come up: status 0x" + Long.toHexString(mmio.read(0, 0x070, 4)));
        }
        for (int s = 0; s < RX_SLOTS; s++) {
            postRx(s);
        }
        rx.publish();
    }

    private static void queue(VirtioMmio mmio, int index, int size, long desc, long avail, long used) {
        mmio.write(0, 0x030, 4, index);
        mmio.write(0, 0x038, 4, size);
        mmio.write(0, 0x080, 4, desc);
        mmio.write(0, 0x084, 4, 0);
        mmio.write(0, 0x090, 4, avail);
        mmio.write(0, 0x094, 4, 0);
        mmio.write(0, 0x0a0, 4, used);
        mmio.write(0, 0x0a4, 4, 0);
        mmio.write(0, 0x044, 4, 1);
    }

    /** An rx buffer of random size (tiny ones often: one payload byte is the least the device takes). */
    private void postRx(int slot) {
        int len = switch (tiny ? 0 : random.nextInt(4)) {
            case 0 -> HDR + 1 + random.nextInt(200);
            case 1 -> HDR + 1 + random.nextInt(SLOT - HDR - 64);
            default -> 64 * 1024;
        };
        int[] ids = rx.chain(RX_DATA + (long) slot * SLOT, len, 2 /* WRITE */);
        rxChains[ids[0]] = ids;
        rxSlotOfHead[ids[0]] = slot;
        rx.add(ids[0]);
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (!stop.get()) {
                boolean work = pollRx();
                work |= reclaimTxUsed();
                work |= echo();
                if (random.nextInt(2000) == 0) {
                    LockSupport.parkNanos(random.nextInt(2_000_000)); // a descheduled vCPU
                }
                if (!work) {
                    idle();
                }
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** The runtime's WAIT: returns at once while work is pending, else sleeps until the waker fires. */
    private void idle() {
        if (random.nextBoolean()) {
            Thread.onSpinWait();
            return;
        }
        waits++;
        long until = System.nanoTime() + 50_000_000;
        while (!workPending.getAndSet(false)) {
            if (stop.get()) {
                return;
            }
            long left = until - System.nanoTime();
            if (left <= 0) {
                // Timed out: fine if nothing was published; if something was, the waker must still come (it
                // runs right after the device publishes), or the wake-up is lost.
                if (rx.hasUsed() || tx.hasUsed()) {
                    long grace = System.nanoTime() + 1_000_000_000L;
                    while (!workPending.getAndSet(false)) {
                        if (System.nanoTime() - grace > 0) {
                            lostWakeups++;
                            return;
                        }
                        Thread.yield();
                    }
                }
                return;
            }
            LockSupport.parkNanos(left);
        }
    }

    private boolean pollRx() {
        boolean any = false;
        boolean repost = false;
        while (rx.hasUsed()) {
            long[] used = rx.takeUsed();
            int head = (int) used[0];
            long written = used[1];
            if (head >= QUEUE_SIZE || rxChains[head] == null) {
                throw new AssertionError("rx used id " + head + " was not posted");
            }
            int[] ids = rxChains[head];
            rxChains[head] = null;
            int slot = rxSlotOfHead[head];
            byte[] packet = gather(ids, written);
            for (int id : ids) {
                rx.freeIds.add(id);
            }
            handle(packet);
            postRx(slot);
            repost = true;
            any = true;
            packetsIn++;
        }
        if (repost) {
            maybeDelay();
            rx.publish();
        }
        return any;
    }

    /** Copies the first {@code written} bytes of a posted chain out of guest RAM, checking the length. */
    private byte[] gather(int[] ids, long written) {
        long total = 0;
        for (int id : ids) {
            total += memory.readU32(rx.desc + 16L * id + 8);
        }
        if (written < HDR || written > total) {
            throw new AssertionError("rx used length " + written + " for a chain of " + total + " bytes");
        }
        byte[] out = new byte[(int) written];
        int at = 0;
        for (int id : ids) {
            long d = rx.desc + 16L * id;
            int n = (int) Math.min(memory.readU32(d + 8), written - at);
            memory.read(memory.readU64(d), out, at, n);
            at += n;
        }
        return out;
    }

    private void handle(byte[] packet) {
        ByteBuffer h = ByteBuffer.wrap(packet).order(ByteOrder.LITTLE_ENDIAN);
        long len = h.getInt(24) & 0xffffffffL;
        int op = h.getShort(30);
        if (len != packet.length - HDR) {
            throw new AssertionError("header len " + len + " but used length " + packet.length);
        }
        if (h.getLong(0) != VsockHeader.HOST_CID || h.getLong(8) != CID || (h.getInt(20) & 0xffffffffL) != PORT) {
            throw new AssertionError("a packet not from the host to port " + PORT + ": op " + op);
        }
        long src = h.getInt(16) & 0xffffffffL;
        if (op == VsockHeader.OP_REQUEST) {
            if (hostPort != -1) {
                throw new AssertionError("a second REQUEST, from host port " + src);
            }
            hostPort = src;
            peerCredit(h);
            control(VsockHeader.OP_RESPONSE, 0);
            return;
        }
        if (src != hostPort) {
            throw new AssertionError("op " + op + " from unknown host port " + src);
        }
        peerCredit(h);
        switch (op) {
            case VsockHeader.OP_RW -> receive(packet, (int) len);
            case VsockHeader.OP_SHUTDOWN -> peerShutdown |= h.getInt(32);
            case VsockHeader.OP_CREDIT_UPDATE -> { }
            case VsockHeader.OP_CREDIT_REQUEST -> control(VsockHeader.OP_CREDIT_UPDATE, 0);
            case VsockHeader.OP_RST -> {
                if (!shutdownSent) {
                    throw new AssertionError("the device reset the connection after " + rxCnt + " bytes in");
                }
            }
            default -> throw new AssertionError("unexpected op " + op);
        }
    }

    private void peerCredit(ByteBuffer h) {
        long alloc = h.getInt(36) & 0xffffffffL;
        int fwd = h.getInt(40);
        if (alloc != peerBufAlloc || fwd != peerFwdCnt) {
            creditRequested = false;
        }
        peerBufAlloc = alloc;
        peerFwdCnt = fwd;
    }

    private void receive(byte[] packet, int len) {
        if ((peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
            throw new AssertionError("RW after the device's SHUTDOWN(send)");
        }
        int held = rxCnt - fwdCnt;
        if ((long) held + len > bufAlloc) {
            throw new AssertionError("the device sent " + len + " bytes with " + held + " of our " + bufAlloc
                    + " held: past the credit");
        }
        long offset = rxCnt & 0xffffffffL;
        for (int i = 0; i < len; i++) {
            byte want = streamByte(streamSeed, bytesIn + i, checkBlock, checkBlockNo);
            if (packet[HDR + i] != want) {
                throw new AssertionError("host -> guest: stream byte " + (bytesIn + i) + " arrived as "
                        + packet[HDR + i] + ", sent " + want + " (packet of " + len + " at its byte " + i + ")");
            }
        }
        for (int i = 0; i < len; i++) {
            ring[(int) ((offset + i) % bufAlloc)] = packet[HDR + i];
        }
        rxCnt += len;
        bytesIn += len;
    }

    private boolean reclaimTxUsed() {
        boolean any = false;
        while (tx.hasUsed()) {
            long[] used = tx.takeUsed();
            int head = (int) used[0];
            if (head >= QUEUE_SIZE || txChains[head] == null) {
                throw new AssertionError("tx used id " + head + " was not in flight");
            }
            for (int id : txChains[head]) {
                tx.freeIds.add(id);
            }
            txChains[head] = null;
            freeTxSlots.add(txSlotOfHead[head]);
            any = true;
        }
        return any;
    }

    /** Echoes what is held, within the device's credit, in random packet sizes; the reader is sometimes slow. */
    private boolean echo() {
        if (hostPort == -1 || shutdownSent) {
            return false;
        }
        int held = rxCnt - fwdCnt;
        long credit = peerBufAlloc - ((txCnt - peerFwdCnt) & 0xffffffffL);
        boolean sent = false;
        int packets = 1 + random.nextInt(8);
        while (held > 0 && credit > 0 && !freeTxSlots.isEmpty() && packets-- > 0) {
            if (random.nextInt(16) == 0) {
                break; // a reader that lets the buffer fill: the device meets our credit limit
            }
            int max = (int) Math.min(Math.min(held, credit), tiny ? 256 : 64 * 1024 - HDR);
            int n = random.nextInt(3) == 0 ? 1 + random.nextInt(max) : max;
            int slot = freeTxSlots.poll();
            long addr = TX_DATA + (long) slot * SLOT;
            byte[] payload = new byte[n];
            long from = fwdCnt & 0xffffffffL;
            for (int i = 0; i < n; i++) {
                payload[i] = ring[(int) ((from + i) % bufAlloc)];
            }
            fwdCnt += n;
            txCnt += n;
            sendPacket(slot, addr, VsockHeader.OP_RW, 0, payload);
            held -= n;
            credit -= n;
            bytesOut += n;
            sent = true;
        }
        if (held > 0 && credit <= 0) {
            zeroCreditStalls++;
            if (!creditRequested && random.nextBoolean()) {
                creditRequested = true;
                control(VsockHeader.OP_CREDIT_REQUEST, 0);
            }
        }
        if (fwdCnt - fwdCntTold >= bufAlloc / 2 || fwdCnt != fwdCntTold && random.nextInt(32) == 0) {
            control(VsockHeader.OP_CREDIT_UPDATE, 0);
            sent = true;
        }
        if (held == 0 && (peerShutdown & VsockHeader.SHUTDOWN_SEND) != 0) {
            control(VsockHeader.OP_SHUTDOWN, VsockHeader.SHUTDOWN_BOTH);
            shutdownSent = true;
            sent = true;
        }
        if (sent) {
            maybeDelay();
            tx.publish();
        }
        return sent;
    }

    private void control(int op, int flags) {
        while (freeTxSlots.isEmpty()) {
            if (!reclaimTxUsed()) {
                Thread.onSpinWait();
            }
            if (stop.get()) {
                return;
            }
        }
        int slot = freeTxSlots.poll();
        sendPacket(slot, TX_DATA + (long) slot * SLOT, op, flags, new byte[0]);
        tx.publish();
    }

    private void sendPacket(int slot, long addr, int op, int flags, byte[] payload) {
        ByteBuffer h = ByteBuffer.allocate(HDR).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(CID).putLong(VsockHeader.HOST_CID).putInt(PORT).putInt((int) hostPort).putInt(payload.length)
                .putShort((short) VsockHeader.TYPE_STREAM).putShort((short) op).putInt(flags).putInt(bufAlloc)
                .putInt(fwdCnt);
        fwdCntTold = fwdCnt;
        memory.write(addr, h.array(), 0, HDR);
        memory.write(addr + HDR, payload, 0, payload.length);
        int[] ids = tx.chain(addr, HDR + payload.length, 0);
        txChains[ids[0]] = ids;
        txSlotOfHead[ids[0]] = slot;
        tx.add(ids[0]);
        packetsOut++;
    }

    private void maybeDelay() {
        int r = random.nextInt(256);
        if (r == 0) {
            LockSupport.parkNanos(random.nextInt(500_000));
        } else if (r < 8) {
            Thread.yield();
        }
    }

    String stats() {
        return "guest buf_alloc " + bufAlloc + (tiny ? ", tiny packets, " : ", ") + bytesIn + " bytes in / " + bytesOut + " out, " + packetsIn
                + " packets in / " + packetsOut + " out, " + kicks + " kicks, " + waits + " waits, " + zeroCreditStalls
                + " zero-credit stalls, " + lostWakeups + " lost wake-ups";
    }
}
