package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Walks generated rings, random and hostile, through {@link Virtqueue#pop} and compares every outcome with an
 * oracle written independently here: a chain is either returned with exactly the segments the oracle finds,
 * each inside guest RAM, or refused with a {@link VirtqueueException}; nothing else may come out. Stops by
 * count ({@value #CHAINS} pops); the timeout only catches a hang. {@code -Dfuzz.seed=N} replays a run.
 */
class DescriptorChainFuzzTest {
    private static final int CHAINS = 1_000_000;
    private static final long RAM = 2L << 20;
    private static final long DESC = 0;
    private static final long AVAIL = 0x4000;
    private static final long USED = 0x5000;
    private static final int[] SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024};
    private static final int NEXT = Virtqueue.VIRTQ_DESC_F_NEXT;
    private static final int WRITE = Virtqueue.VIRTQ_DESC_F_WRITE;
    private static final int INDIRECT = Virtqueue.VIRTQ_DESC_F_INDIRECT;

    private SplittableRandom random;
    private GuestMemory memory;
    private int size;
    private Virtqueue queue;
    /** avail.idx as this driver last published it, and the number of chains the device took. */
    private int availIdx;
    private int taken;

    // The oracle's result for the chain in flight.
    private final int[] visited = new int[1024];
    private int stamp;
    private final long[] expAddr = new long[1024];
    private final long[] expLen = new long[1024];
    private final boolean[] expWritable = new boolean[1024];
    private int expCount;
    private long expReadable;
    private long expWritableLength;

    private long valid;
    private long refused;
    private long empty;
    private long longest;

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void popReturnsACheckedChainOrRefusesItNothingElse() {
        long seed = Long.getLong("fuzz.seed", 0x5EED_10_2026L);
        random = new SplittableRandom(seed);
        DescriptorChain chain = new DescriptorChain(1024);
        try (GuestMemory m = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            memory = m;
            newQueue();
            long start = System.nanoTime();
            for (int n = 0; n < CHAINS; n++) {
                if (random.nextInt(256) == 0) {
                    newQueue();
                }
                int head = generate();
                Expect expect = oracle();
                boolean popped;
                try {
                    popped = queue.pop(chain);
                } catch (VirtqueueException e) {
                    if (expect != Expect.REFUSED) {
                        fail(where(seed, n, head) + ": refused (" + e.getMessage() + ") but the oracle says " + expect);
                    }
                    refused++;
                    resetQueue(); // a refused queue is not used again (DEVICE_NEEDS_RESET)
                    continue;
                } catch (Throwable t) {
                    throw new AssertionError(where(seed, n, head) + ": pop threw " + t, t);
                }
                if (expect == Expect.REFUSED) {
                    fail(where(seed, n, head) + ": pop accepted a chain the oracle refuses");
                }
                if (popped != (expect == Expect.CHAIN)) {
                    fail(where(seed, n, head) + ": pop returned " + popped + " but the oracle says " + expect);
                }
                if (popped) {
                    String wrong = compare(chain);
                    if (wrong != null) {
                        fail(where(seed, n, head) + ": " + wrong);
                    }
                    taken = (taken + 1) & 0xffff;
                    int written = random.nextInt();
                    queue.pushUsed(chain.head(), written);
                    long entry = USED + 4 + 8L * ((taken - 1) & (size - 1));
                    if (memory.readU16(USED + 2) != taken || memory.readU32(entry) != chain.head()
                            || memory.readU32(entry + 4) != (written & 0xffffffffL)) {
                        fail(where(seed, n, head) + ": used ring idx " + memory.readU16(USED + 2) + " entry {"
                                + memory.readU32(entry) + ", " + memory.readU32(entry + 4) + "}, expected " + taken
                                + " {" + chain.head() + ", " + (written & 0xffffffffL) + "}");
                    }
                    valid++;
                } else {
                    empty++;
                }
            }
            long nanos = System.nanoTime() - start;
            System.out.printf("DescriptorChainFuzzTest: %d chains (%d valid, %d refused, %d empty, longest %d) "
                    + "in %.2f s: %.0f chains/s%n", CHAINS, valid, refused, empty, longest, nanos / 1e9,
                    CHAINS / (nanos / 1e9));
        }
        // The generator must exercise both outcomes, or the comparison above proves little.
        assertTrue(valid > CHAINS / 10, "valid chains: " + valid);
        assertTrue(refused > CHAINS / 10, "refused chains: " + refused);
        assertTrue(longest >= 256, "longest valid chain: " + longest);
    }

    private static String where(long seed, int n, int head) {
        return "seed " + seed + ", chain " + n + " (head published " + head + ")";
    }

    /** A fresh queue of a random size over a freshly generated table. */
    private void newQueue() {
        size = SIZES[random.nextInt(SIZES.length)];
        for (int i = 0; i < size; i++) {
            descriptor(i);
        }
        resetQueue();
    }

    /** What a driver does after a device reset: the same table, both indexes back to 0. */
    private void resetQueue() {
        memory.writeU16(AVAIL, 0);
        memory.writeU16(AVAIL + 2, 0);
        memory.writeU16(USED + 2, 0);
        availIdx = 0;
        taken = 0;
        queue = new Virtqueue(memory, 0, size, DESC, AVAIL, USED);
    }

    /** Changes the ring a little or a lot and publishes one head (or does something worse); returns the head. */
    private int generate() {
        int shape = random.nextInt(100);
        if (shape < 3) {
            return longChain(false);
        }
        if (shape < 5) {
            return longChain(true);
        }
        for (int k = random.nextInt(1, 5); k > 0; k--) {
            descriptor(random.nextInt(size));
        }
        int head = random.nextInt(100) < 97 ? random.nextInt(size) : random.nextInt(size, 0x10000);
        if (shape < 7) {
            // nothing published: pop must say so
            return head;
        }
        publish(head);
        if (shape < 9) {
            // a hostile avail.idx: anywhere, usually far ahead
            availIdx = random.nextInt(0x10000);
            memory.writeU16(AVAIL + 2, availIdx);
        }
        return head;
    }

    /** A chain through every descriptor once (valid unless the lengths add up past 2^32), or with a loop. */
    private int longChain(boolean loop) {
        int start = random.nextInt(size);
        for (int k = 0; k < size; k++) {
            int i = (start + k) & (size - 1);
            long addr = random.nextLong(RAM);
            long len = random.nextLong(RAM - addr + 1);
            boolean last = k == size - 1;
            int next = last ? (loop ? (start + random.nextInt(size)) & (size - 1) : 0) : (i + 1) & (size - 1);
            int flags = (last && !loop ? 0 : NEXT) | (k > size / 2 ? WRITE : 0);
            write(i, addr, len, flags, next);
        }
        publish(start);
        return start;
    }

    private void publish(int head) {
        memory.writeU16(AVAIL + 4 + 2L * (availIdx & (size - 1)), head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeU16(AVAIL + 2, availIdx);
    }

    private void descriptor(int i) {
        write(i, address(), length(), flags(), nextIndex(i));
    }

    private void write(int i, long addr, long len, int flags, int next) {
        long d = DESC + 16L * i;
        memory.writeU64(d, addr);
        memory.writeU32(d + 8, len);
        memory.writeU16(d + 12, flags);
        memory.writeU16(d + 14, next);
    }

    private long address() {
        return switch (random.nextInt(24)) {
            case 0 -> -random.nextLong(1, 1 << 16);          // just below 2^64
            case 1 -> Long.MAX_VALUE - random.nextLong(1 << 16);
            case 2 -> random.nextLong();                      // anywhere
            case 3 -> RAM - random.nextLong(128);             // at the end of RAM
            case 4 -> RAM + random.nextLong(1 << 20);         // the device window and beyond
            default -> random.nextLong(RAM);
        };
    }

    private long length() {
        return switch (random.nextInt(24)) {
            case 0 -> 0xFFFF_FFFFL - random.nextLong(1 << 12);  // overflows any address but 0..
            case 1 -> random.nextLong(1L << 32);
            case 2 -> 0;
            case 3 -> random.nextLong(RAM / 2, RAM + 1);
            default -> random.nextLong(4096);
        };
    }

    private int flags() {
        int r = random.nextInt(100);
        if (r < 2) {
            return random.nextInt(0x10000);
        }
        int flags = r < 75 ? NEXT : 0;
        if (random.nextInt(3) == 0) {
            flags |= WRITE;
        }
        if (random.nextInt(100) == 0) {
            flags |= INDIRECT;
        }
        return flags;
    }

    private int nextIndex(int i) {
        return switch (random.nextInt(20)) {
            case 0 -> i;                                      // a loop of one
            case 1 -> random.nextInt(0x10000);                // usually out of range
            case 2 -> size + random.nextInt(4);
            default -> random.nextInt(size);
        };
    }

    private enum Expect { CHAIN, REFUSED, NOTHING }

    /**
     * Decides from guest memory alone, without Virtqueue's code, what pop must do. Loops are found by
     * remembering visited descriptors (pop counts instead), RAM bounds with unsigned arithmetic.
     */
    private Expect oracle() {
        int ahead = (availIdx - taken) & 0xffff;
        if (ahead > size) {
            return Expect.REFUSED;
        }
        if (ahead == 0) {
            return Expect.NOTHING;
        }
        // Not always the head just published: a hostile avail.idx leaves older (stale) slots in front of it.
        int head = memory.readU16(AVAIL + 4 + 2L * (taken & (size - 1)));
        if (head >= size) {
            return Expect.REFUSED;
        }
        stamp++;
        expCount = 0;
        expReadable = 0;
        expWritableLength = 0;
        boolean writableSeen = false;
        int i = head;
        while (true) {
            if (visited[i] == stamp) {
                return Expect.REFUSED;
            }
            visited[i] = stamp;
            long d = DESC + 16L * i;
            long addr = memory.readU64(d);
            long len = memory.readU32(d + 8);
            int flags = memory.readU16(d + 12);
            int next = memory.readU16(d + 14);
            if ((flags & INDIRECT) != 0 || !insideRam(addr, len)) {
                return Expect.REFUSED;
            }
            boolean writable = (flags & WRITE) != 0;
            if (writableSeen && !writable) {
                return Expect.REFUSED;
            }
            writableSeen = writable;
            if (writable) {
                expWritableLength += len;
            } else {
                expReadable += len;
            }
            if (expReadable + expWritableLength > 0xFFFF_FFFFL) {
                return Expect.REFUSED;
            }
            expAddr[expCount] = addr;
            expLen[expCount] = len;
            expWritable[expCount] = writable;
            expCount++;
            if ((flags & NEXT) == 0) {
                return Expect.CHAIN;
            }
            if (next >= size) {
                return Expect.REFUSED;
            }
            i = next;
        }
    }

    /** [addr, addr + len) within [0, RAM), addresses taken as unsigned 64-bit numbers. */
    private static boolean insideRam(long addr, long len) {
        return Long.compareUnsigned(addr, RAM) <= 0 && Long.compareUnsigned(len, RAM - addr) <= 0;
    }

    /** Null when the chain is what the oracle found, each segment inside RAM; else what differs. */
    private String compare(DescriptorChain chain) {
        if (chain.segmentCount() != expCount || chain.readableLength() != expReadable
                || chain.writableLength() != expWritableLength) {
            return chain.segmentCount() + " segments, " + chain.readableLength() + " + " + chain.writableLength()
                    + " bytes; expected " + expCount + ", " + expReadable + " + " + expWritableLength;
        }
        long readable = 0;
        long writable = 0;
        for (int s = 0; s < expCount; s++) {
            long addr = chain.segmentAddress(s);
            long len = chain.segmentLength(s);
            if (!insideRam(addr, len) || addr != expAddr[s] || len != expLen[s]
                    || chain.segmentWritable(s) != expWritable[s]) {
                return "segment " + s + " is [0x" + Long.toHexString(addr) + ", +" + len + ") writable="
                        + chain.segmentWritable(s) + ", expected [0x" + Long.toHexString(expAddr[s]) + ", +"
                        + expLen[s] + ") writable=" + expWritable[s];
            }
            if (chain.segmentWritable(s)) {
                writable += len;
            } else {
                readable += len;
            }
        }
        if (readable != chain.readableLength() || writable != chain.writableLength()) {
            return "segments add up to " + readable + " + " + writable + ", the chain says "
                    + chain.readableLength() + " + " + chain.writableLength();
        }
        longest = Math.max(longest, expCount);
        return null;
    }
}
