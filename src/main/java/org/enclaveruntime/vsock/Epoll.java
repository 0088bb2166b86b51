package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.io.IOException;

/**
 * One epoll instance and its event array in native memory. Every registration carries a 64-bit token the
 * caller chooses (the event loop puts a connection's slot and generation there), so nothing is looked up by fd.
 */
final class Epoll implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final int fd;
    private final int capacity;
    private final long events;
    private final long scratch;
    private boolean closed;

    Epoll(int capacity) throws IOException {
        this.capacity = capacity;
        fd = LIBC.epoll_create1(Native.EPOLL_CLOEXEC);
        if (fd < 0) {
            throw new IOException("epoll_create1: " + Native.describe(Native.errno()));
        }
        events = MEMORY.allocateMemory((long) capacity * Native.EPOLL_EVENT_SIZE, true);
        scratch = MEMORY.allocateMemory(Native.EPOLL_EVENT_SIZE, true);
    }

    /** Registers {@code target}; returns 0 or an errno. */
    int add(int target, int mask, long token) {
        return control(Native.EPOLL_CTL_ADD, target, mask, token);
    }

    int modify(int target, int mask, long token) {
        return control(Native.EPOLL_CTL_MOD, target, mask, token);
    }

    private int control(int op, int target, int mask, long token) {
        MEMORY.putInt(scratch, mask);
        MEMORY.putLong(scratch + 4, token);
        return LIBC.epoll_ctl(fd, op, target, scratch) == 0 ? 0 : Native.errno();
    }

    /** Waits up to {@code timeoutMs} (-1: for ever, 0: not at all); returns how many events arrived (0 on EINTR). */
    int await(int timeoutMs) throws IOException {
        int n = LIBC.epoll_wait(fd, events, capacity, timeoutMs);
        if (n < 0) {
            int errno = Native.errno();
            if (errno == Native.EINTR) {
                return 0;
            }
            throw new IOException("epoll_wait: " + Native.describe(errno));
        }
        return n;
    }

    int mask(int i) {
        return MEMORY.getInt(events + (long) i * Native.EPOLL_EVENT_SIZE);
    }

    long token(int i) {
        return MEMORY.getLong(events + (long) i * Native.EPOLL_EVENT_SIZE + 4);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LIBC.close(fd);
            MEMORY.freeMemory(events);
            MEMORY.freeMemory(scratch);
        }
    }
}
