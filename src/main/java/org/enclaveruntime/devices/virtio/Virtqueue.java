package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One split virtqueue in guest RAM, seen from the device (virtio 1.2 §2.7). Everything in it is written by the
 * untrusted guest, so every index and address is checked before it is followed (docs/guest-abi.md, "What the
 * device checks"); a violation is a {@link VirtqueueException} and the device must stop using the queue.
 * Used by one thread at a time (the device's event thread); allocates nothing per chain.
 *
 * <p>Ring layout: descriptor table of 16-byte {addr le64, len le32, flags le16, next le16}; available ring
 * {flags le16, idx le16, ring[size] le16}; used ring {flags le16, idx le16, ring[size] {id le32, len le32}}.
 */
public final class Virtqueue {
    /** The largest queue size a split virtqueue can have (virtio 1.2 §2.7). */
    static final int MAX_SIZE = 32768;
    static final int DESC_SIZE = 16;
    static final int VIRTQ_DESC_F_NEXT = 1;
    static final int VIRTQ_DESC_F_WRITE = 2;
    static final int VIRTQ_DESC_F_INDIRECT = 4;
    static final int VIRTQ_USED_F_NO_NOTIFY = 1;
    static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
    /** The largest total a chain may have: used.len is 32 bits. */
    static final long MAX_CHAIN_BYTES = 0xFFFF_FFFFL;

    private final GuestMemory memory;
    private final int index;
    private final int size;
    private final long descGpa;
    private final long availGpa;
    private final long usedGpa;
    /** avail.idx value of the next chain to take (free-running, 16 bits like the guest's). */
    private int nextAvail;
    /** used.idx value of the next entry to publish. */
    private int nextUsed;
    /** The transport's InterruptStatus, whose "used buffer" bit {@link #pushUsed} sets; null in tests. */
    private final AtomicInteger interruptStatus;

    /** Only the transport creates queues, after its checks at QueueReady. */
    Virtqueue(GuestMemory memory, int index, int size, long descGpa, long availGpa, long usedGpa) {
        this(memory, index, size, descGpa, availGpa, usedGpa, null);
    }

    Virtqueue(GuestMemory memory, int index, int size, long descGpa, long availGpa, long usedGpa,
            AtomicInteger interruptStatus) {
        if (size < 1 || size > MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size " + size + " is not a power of two up to " + MAX_SIZE);
        }
        if (!memory.contains(descGpa, descTableBytes(size)) || !memory.contains(availGpa, availRingBytes(size))
                || !memory.contains(usedGpa, usedRingBytes(size))) {
            throw new IllegalArgumentException("queue " + index + " rings are not inside guest RAM");
        }
        this.memory = memory;
        this.index = index;
        this.size = size;
        this.descGpa = descGpa;
        this.availGpa = availGpa;
        this.usedGpa = usedGpa;
        this.interruptStatus = interruptStatus;
    }

    static long descTableBytes(int size) {
        return (long) DESC_SIZE * size;
    }

    /** flags, idx, ring and used_event (which this device never reads, but the driver owns it). */
    static long availRingBytes(int size) {
        return 6 + 2L * size;
    }

    /** flags, idx, ring and avail_event. */
    static long usedRingBytes(int size) {
        return 6 + 8L * size;
    }

    public int index() {
        return index;
    }

    public int size() {
        return size;
    }

    /** True when the driver has published chains not yet taken (an acquire load of avail.idx). */
    public boolean hasAvailable() throws VirtqueueException {
        return pending() != 0;
    }

    /** Chains published but not taken; the acquire load orders every later ring read after it. */
    private int pending() throws VirtqueueException {
        int availIdx = memory.readU16Acquire(availGpa + 2);
        int pending = (availIdx - nextAvail) & 0xffff;
        if (pending > size) {
            throw new VirtqueueException("queue " + index + ": avail.idx " + availIdx + " is " + pending
                    + " ahead of the " + nextAvail + " chains taken, more than the queue size " + size);
        }
        return pending;
    }

    /**
     * Takes the next available chain into {@code chain} (reused by the caller, so nothing is allocated);
     * false when there is none. The chain is checked completely before this returns.
     */
    public boolean pop(DescriptorChain chain) throws VirtqueueException {
        if (chain.capacity() < size) {
            throw new IllegalArgumentException("a chain of " + chain.capacity() + " segments cannot hold one of queue "
                    + index + " (size " + size + ")");
        }
        if (pending() == 0) {
            return false;
        }
        int head = memory.readU16(availGpa + 4 + 2L * (nextAvail & (size - 1)));
        if (head >= size) {
            chain.clear();
            throw new VirtqueueException("queue " + index + ": chain head " + head + " is not below the queue size "
                    + size);
        }
        try {
            walk(chain, head);
        } catch (VirtqueueException e) {
            chain.clear();
            throw e;
        }
        nextAvail = (nextAvail + 1) & 0xffff;
        return true;
    }

    private void walk(DescriptorChain chain, int head) throws VirtqueueException {
        chain.start(memory, head);
        int i = head;
        long total = 0;
        boolean writableSeen = false;
        for (int n = 1; ; n++) {
            long desc = descGpa + (long) DESC_SIZE * i;
            long addr = memory.readU64(desc);
            long len = memory.readU32(desc + 8);
            int flags = memory.readU16(desc + 12);
            if ((flags & VIRTQ_DESC_F_INDIRECT) != 0) {
                throw new VirtqueueException("queue " + index + ": descriptor " + i + " of chain " + head
                        + " is INDIRECT, which was not negotiated");
            }
            if (!memory.contains(addr, len)) {
                throw new VirtqueueException("queue " + index + ": descriptor " + i + " of chain " + head
                        + " [0x" + Long.toHexString(addr) + ", +" + len + ") is not inside guest RAM of "
                        + memory.size() + " bytes");
            }
            boolean writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
            if (writableSeen && !writable) {
                throw new VirtqueueException("queue " + index + ": descriptor " + i + " of chain " + head
                        + " is device-readable after a device-writable one");
            }
            writableSeen |= writable;
            total += len; // at most 32768 * (2^32 - 1): no overflow in a long
            if (total > MAX_CHAIN_BYTES) {
                throw new VirtqueueException("queue " + index + ": chain " + head + " is longer than 2^32 - 1 bytes");
            }
            chain.add(addr, len, writable);
            if ((flags & VIRTQ_DESC_F_NEXT) == 0) {
                return;
            }
            int next = memory.readU16(desc + 14);
            if (next >= size) {
                throw new VirtqueueException("queue " + index + ": descriptor " + i + " of chain " + head
                        + " has next " + next + ", not below the queue size " + size);
            }
            if (n == size) {
                throw new VirtqueueException("queue " + index + ": chain " + head + " has more than " + size
                        + " descriptors (a loop?)");
            }
            i = next;
        }
    }

    /**
     * Gives a chain back: used ring entry {head, written}, then used.idx with a release store. Wakes no one;
     * sets the transport's InterruptStatus bit 0 (used buffer).
     */
    public void pushUsed(int head, int written) {
        if (head < 0 || head >= size) {
            throw new IllegalArgumentException("queue " + index + ": head " + head + " is not a descriptor index");
        }
        long entry = usedGpa + 4 + 8L * (nextUsed & (size - 1));
        memory.writeU32(entry, head);
        memory.writeU32(entry + 4, written & 0xffffffffL);
        nextUsed = (nextUsed + 1) & 0xffff;
        memory.writeU16Release(usedGpa + 2, nextUsed);
        if (interruptStatus != null && (interruptStatus.get() & VirtioMmio.INTERRUPT_USED_BUFFER) == 0) {
            interruptStatus.getAndUpdate(VirtioMmio::withUsedBuffer);
        }
    }

    /**
     * Sets or clears VIRTQ_USED_F_NO_NOTIFY. Clearing it is followed by a full fence (done here); the caller
     * must then call {@link #hasAvailable()} once more before sleeping, or a chain published in between
     * waits for ever.
     */
    public void suppressNotifications(boolean suppress) {
        memory.writeU16Release(usedGpa, suppress ? VIRTQ_USED_F_NO_NOTIFY : 0);
        if (!suppress) {
            GuestMemory.fullFence();
        }
    }

    /**
     * False when the driver set VIRTQ_AVAIL_F_NO_INTERRUPT (it polls and does not want its vCPUs woken).
     * Begins with a full fence, so the used.idx published by {@link #pushUsed} before this call is visible to
     * the driver before its flag is read (the device side of the handshake).
     */
    public boolean driverWantsWakeups() {
        GuestMemory.fullFence();
        return (memory.readU16Acquire(availGpa) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    }

    long descGpa() {
        return descGpa;
    }

    long availGpa() {
        return availGpa;
    }

    long usedGpa() {
        return usedGpa;
    }
}
