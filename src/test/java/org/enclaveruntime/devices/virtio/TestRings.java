package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

/**
 * The driver's side of one split virtqueue, written by hand into real guest memory for the tests. Public for
 * device tests in other packages (with {@link VirtioTestDriver}).
 */
public final class TestRings {
    public static final int NEXT = Virtqueue.VIRTQ_DESC_F_NEXT;
    public static final int WRITE = Virtqueue.VIRTQ_DESC_F_WRITE;

    public final GuestMemory memory;
    public final int size;
    public final long desc;
    public final long avail;
    public final long used;
    private int availIdx;

    public TestRings(GuestMemory memory, int size, long desc, long avail, long used) {
        this.memory = memory;
        this.size = size;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
    }

    Virtqueue queue(int index) {
        return new Virtqueue(memory, index, size, desc, avail, used);
    }

    public void desc(int i, long addr, long len, int flags, int next) {
        long d = desc + 16L * i;
        memory.writeU64(d, addr);
        memory.writeU32(d + 8, len);
        memory.writeU16(d + 12, flags);
        memory.writeU16(d + 14, next);
    }

    /** Puts {@code head} into the next available slot and publishes it. */
    public void publish(int head) {
        memory.writeU16(avail + 4 + 2L * (availIdx % size), head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeU16(avail + 2, availIdx);
    }

    /** Sets avail.idx as a hostile driver would, without filling slots. */
    public void availIdx(int value) {
        availIdx = value & 0xffff;
        memory.writeU16(avail + 2, availIdx);
    }

    public int usedIdx() {
        return memory.readU16(used + 2);
    }

    public long usedId(int slot) {
        return memory.readU32(used + 4 + 8L * slot);
    }

    public long usedLen(int slot) {
        return memory.readU32(used + 8 + 8L * slot);
    }
}
