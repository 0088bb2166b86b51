package org.enclaveruntime.vsock;

/**
 * Last packets for connections the device has already forgotten (RST, or the SHUTDOWN that answers the guest's
 * own): a bounded ring of primitives, so a guest that floods the device with packets for unknown connections
 * while posting no rx buffers costs a fixed amount of memory. When full, further farewells are dropped; the
 * guest's 2 s close timeout covers a lost one.
 */
final class FarewellQueue {
    private final long[] ports;
    private final int[] opFlags;
    private int head;
    private int count;
    private long dropped;

    FarewellQueue(int capacity) {
        ports = new long[capacity];
        opFlags = new int[capacity];
    }

    void add(long hostPort, long guestPort, int op, int flags) {
        if (count == ports.length) {
            dropped++;
            return;
        }
        int at = (head + count) % ports.length;
        ports[at] = Connection.key(hostPort, guestPort);
        opFlags[at] = op << 16 | flags;
        count++;
    }

    boolean isEmpty() {
        return count == 0;
    }

    long hostPort() {
        return ports[head] >>> 32;
    }

    long guestPort() {
        return ports[head] & 0xffffffffL;
    }

    int op() {
        return opFlags[head] >>> 16;
    }

    int flags() {
        return opFlags[head] & 0xffff;
    }

    void remove() {
        head = (head + 1) % ports.length;
        count--;
    }

    void clear() {
        head = count = 0;
    }

    long dropped() {
        return dropped;
    }
}
