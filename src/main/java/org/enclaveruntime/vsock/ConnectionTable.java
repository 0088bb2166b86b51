package org.enclaveruntime.vsock;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The live connections: by slot (what epoll tokens name) and by (host port, enclave port) (what packets name).
 * Fixed size, so a flood of REQUESTs or clients costs nothing beyond the limit. The key index is an
 * open-addressing table of longs: a lookup per packet allocates nothing (a HashMap would box every key).
 */
final class ConnectionTable {
    private final Connection[] slots;
    private final int[] generations;
    private final int[] freeSlots;
    private int freeCount;
    private int live;

    private final long[] keys;
    private final Connection[] values;
    private final int mask;

    ConnectionTable(int capacity) {
        slots = new Connection[capacity];
        generations = new int[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeCount = capacity;
        int tableSize = Integer.highestOneBit(capacity * 4 - 1) << 1;
        keys = new long[tableSize];
        values = new Connection[tableSize];
        mask = tableSize - 1;
    }

    int size() {
        return live;
    }

    boolean isFull() {
        return freeCount == 0;
    }

    /** A new connection in a free slot (the caller checked {@link #isFull()}); not yet indexed by key. */
    Connection open(int fd) {
        int slot = freeSlots[--freeCount];
        Connection c = new Connection(slot, ++generations[slot], fd);
        slots[slot] = c;
        live++;
        return c;
    }

    /** The connection an epoll token names, or null when it has gone since the event was queued. */
    Connection byToken(long token) {
        int slot = (int) token;
        if (slot < 0 || slot >= slots.length) {
            return null;
        }
        Connection c = slots[slot];
        return c != null && c.generation == (int) (token >>> 32) ? c : null;
    }

    Connection find(long hostPort, long guestPort) {
        long key = Connection.key(hostPort, guestPort);
        for (int i = index(key); values[i] != null; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return values[i];
            }
        }
        return null;
    }

    /** Indexes {@code c} under its ports (the caller checked none is live there). */
    void index(Connection c) {
        long key = c.key();
        int i = index(key);
        while (values[i] != null) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = c;
    }

    boolean isIndexed(Connection c) {
        return find(c.hostPort, c.guestPort) == c;
    }

    /** True when some live connection uses {@code hostPort} (host ports the bridge hands out are never shared). */
    boolean hostPortInUse(long hostPort) {
        for (Connection c : slots) {
            if (c != null && c.hostPort == hostPort && c.state != Connection.State.AWAIT_LINE) {
                return true;
            }
        }
        return false;
    }

    /** Removes {@code c} from its slot and from the key index. */
    void remove(Connection c) {
        if (slots[c.slot] != c) {
            return;
        }
        slots[c.slot] = null;
        freeSlots[freeCount++] = c.slot;
        live--;
        unindex(c);
    }

    private void unindex(Connection c) {
        long key = c.key();
        int i = index(key);
        while (values[i] != null && values[i] != c) {
            i = (i + 1) & mask;
        }
        if (values[i] == null) {
            return;
        }
        // Backward-shift deletion keeps every later entry of the probe run reachable.
        values[i] = null;
        for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
            int home = index(keys[j]);
            boolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                keys[i] = keys[j];
                values[i] = values[j];
                values[j] = null;
                i = j;
            }
        }
    }

    private int index(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    void forEach(Consumer<Connection> action) {
        for (Connection c : Arrays.copyOf(slots, slots.length)) {
            if (c != null) {
                action.accept(c);
            }
        }
    }
}
