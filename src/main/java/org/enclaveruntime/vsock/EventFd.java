package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

/** Reads and writes of a non-blocking eventfd's 8-byte counter, through one native word per user. */
final class EventFd implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final int fd;
    private final long word = MEMORY.allocateMemory(8, true);
    private boolean freed;

    EventFd(int fd) {
        this.fd = fd;
    }

    /** A new non-blocking eventfd (the caller closes it with {@link #closeDescriptor()}). */
    static EventFd create() {
        int fd = LIBC.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (fd < 0) {
            throw new IllegalStateException("eventfd: " + Native.describe(Native.errno()));
        }
        return new EventFd(fd);
    }

    int fd() {
        return fd;
    }

    /** Adds one to the counter (wakes an epoll waiting on it). Safe from any thread. */
    synchronized void signal() {
        if (!freed) {
            MEMORY.putLong(word, 1);
            LIBC.write(fd, word, 8);
        }
    }

    /** Takes the counter's value (0 when nothing was signalled). Only the event thread calls this. */
    long drain() {
        long got;
        synchronized (this) {
            if (freed) {
                return 0;
            }
            got = LIBC.read(fd, word, 8) == 8 ? MEMORY.getLong(word) : 0;
        }
        return got;
    }

    void closeDescriptor() {
        LIBC.close(fd);
    }

    @Override
    public synchronized void close() {
        if (!freed) {
            freed = true;
            MEMORY.freeMemory(word);
        }
    }
}
