package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

/** For device tests outside this package: a queue as the transport would create it after its checks. */
public final class TestQueues {
    private TestQueues() {
    }

    public static Virtqueue create(GuestMemory memory, int index, int size, long desc, long avail, long used) {
        return new Virtqueue(memory, index, size, desc, avail, used);
    }
}
