package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

/**
 * One split virtqueue in guest RAM, seen from the device (virtio 1.2 §2.7). Everything in it is written by the
 * untrusted guest, so every index and address is checked before it is followed (docs/guest-abi.md, "What the
 * device checks"); a violation is a {@link VirtqueueException} and the device must stop using the queue.
 * Used by one thread at a time (the device's event thread); allocates nothing per chain.
 */
public final class Virtqueue {
    /** Only the transport creates queues, after its checks at QueueReady. */
    Virtqueue(GuestMemory memory, int index, int size, long descGpa, long availGpa, long usedGpa) {
        throw new UnsupportedOperationException("being written");
    }

    public int index() {
        throw new UnsupportedOperationException("being written");
    }

    public int size() {
        throw new UnsupportedOperationException("being written");
    }

    /** True when the driver has published chains not yet taken (an acquire load of avail.idx). */
    public boolean hasAvailable() throws VirtqueueException {
        throw new UnsupportedOperationException("being written");
    }

    /**
     * Takes the next available chain into {@code chain} (reused by the caller, so nothing is allocated);
     * false when there is none. The chain is checked completely before this returns.
     */
    public boolean pop(DescriptorChain chain) throws VirtqueueException {
        throw new UnsupportedOperationException("being written");
    }

    /** Gives a chain back: used ring entry {head, written}, then used.idx with a release store. Wakes no one. */
    public void pushUsed(int head, int written) {
        throw new UnsupportedOperationException("being written");
    }

    /**
     * Sets or clears VIRTQ_USED_F_NO_NOTIFY. After clearing it, a full fence and one more
     * {@link #hasAvailable()} before sleeping, or a chain published in between waits for ever.
     */
    public void suppressNotifications(boolean suppress) {
        throw new UnsupportedOperationException("being written");
    }

    /** False when the driver set VIRTQ_AVAIL_F_NO_INTERRUPT (it polls and does not want its vCPUs woken). */
    public boolean driverWantsWakeups() {
        throw new UnsupportedOperationException("being written");
    }
}
