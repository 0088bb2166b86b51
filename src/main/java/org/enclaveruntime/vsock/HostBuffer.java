package org.enclaveruntime.vsock;

import com.kenai.jffi.MemoryIO;
import org.enclaveruntime.devices.virtio.DescriptorChain;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.nio.ByteBuffer;

/**
 * Bytes the guest sent on one connection that its host socket would not take yet: a ring in native memory.
 * Its capacity is the credit the device advertised (buf_alloc), and a guest that sends beyond its credit is
 * reset before anything is copied, so this is the whole of what a connection can hold on the host.
 */
final class HostBuffer {
    private static final LibC LIBC = LibC.INSTANCE;

    private final ByteBuffer ring;
    private final long address;
    private final int capacity;
    private long head;
    private long tail;

    HostBuffer(int capacity) {
        this.capacity = capacity;
        ring = ByteBuffer.allocateDirect(capacity);
        address = MemoryIO.getInstance().getDirectBufferAddress(ring);
    }

    int size() {
        return (int) (tail - head);
    }

    int capacity() {
        return capacity;
    }

    boolean isEmpty() {
        return head == tail;
    }

    /** Copies {@code length} readable bytes of {@code chain} from {@code offset}; the caller checked the room. */
    void append(DescriptorChain chain, long offset, int length) {
        if (length > capacity - size()) {
            throw new IllegalStateException("host buffer overrun: " + length + " more bytes into " + size()
                    + " of " + capacity);
        }
        while (length > 0) {
            int at = (int) (tail % capacity);
            int run = Math.min(length, capacity - at);
            ring.limit(at + run).position(at);
            chain.read(offset, ring);
            offset += run;
            tail += run;
            length -= run;
        }
    }

    /** Writes as much as the socket takes; returns the bytes written, or -errno (not EAGAIN) on failure. */
    long flushTo(int fd) {
        long written = 0;
        while (!isEmpty()) {
            int at = (int) (head % capacity);
            int run = (int) Math.min(size(), capacity - at);
            long n = LIBC.write(fd, address + at, run);
            if (n < 0) {
                int errno = Native.errno();
                if (errno == Native.EINTR) {
                    continue;
                }
                return errno == Native.EAGAIN ? written : -errno;
            }
            head += n;
            written += n;
            if (n < run) {
                break;
            }
        }
        return written;
    }

    void clear() {
        head = tail = 0;
    }
}
