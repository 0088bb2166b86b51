package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

import java.nio.ByteBuffer;

/**
 * A checked descriptor chain: its head index and its segments, the device-readable ones first, then the
 * device-writable ones. Offsets below are relative to the start of the readable part, or of the writable part.
 * A chain object is reused for many chains (filled by {@link Virtqueue#pop}); nothing here allocates except
 * the views, which are direct buffers over guest RAM (no copy) and valid only while the VM's RAM is mapped.
 *
 * <p>Every segment was checked to lie inside guest RAM when the chain was popped, but the guest can still
 * write the bytes at any time: a device reads a header once into its own buffer and believes only that copy.
 */
public final class DescriptorChain {
    private final long[] addresses;
    private final long[] lengths;
    private GuestMemory memory;
    private int head = -1;
    private int count;
    /** Index of the first writable segment (= count when there is none). */
    private int firstWritable;
    private long readableLength;
    private long writableLength;

    /** A chain able to hold up to {@code maxSegments} descriptors (the queue size). */
    public DescriptorChain(int maxSegments) {
        if (maxSegments < 1) {
            throw new IllegalArgumentException("a chain holds at least one descriptor, not " + maxSegments);
        }
        addresses = new long[maxSegments];
        lengths = new long[maxSegments];
    }

    public int head() {
        return head;
    }

    public long readableLength() {
        return readableLength;
    }

    public long writableLength() {
        return writableLength;
    }

    /** Copies readable bytes from {@code offset} into dst's remaining space (must fit), advancing dst. */
    public void read(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        checkRange(offset, length, readableLength, "readable");
        int limit = dst.limit();
        int segment = 0;
        long skip = offset;
        while (length > 0) {
            if (skip >= lengths[segment]) {
                skip -= lengths[segment++];
                continue;
            }
            int n = (int) Math.min(length, lengths[segment] - skip);
            dst.limit(dst.position() + n);
            memory.read(addresses[segment] + skip, dst);
            dst.limit(limit);
            length -= n;
            skip = 0;
            segment++;
        }
    }

    /** Copies src's remaining bytes into the writable part at {@code offset} (must fit), advancing src. */
    public void write(long offset, ByteBuffer src) {
        int length = src.remaining();
        checkRange(offset, length, writableLength, "writable");
        int limit = src.limit();
        int segment = firstWritable;
        long skip = offset;
        while (length > 0) {
            if (skip >= lengths[segment]) {
                skip -= lengths[segment++];
                continue;
            }
            int n = (int) Math.min(length, lengths[segment] - skip);
            src.limit(src.position() + n);
            memory.write(addresses[segment] + skip, src);
            src.limit(limit);
            length -= n;
            skip = 0;
            segment++;
        }
    }

    /**
     * Zero-copy views of readable bytes [offset, offset + length) into {@code views} (one per segment touched);
     * returns how many were filled. For gathering writes to a socket straight from guest RAM.
     */
    public int readableViews(long offset, long length, ByteBuffer[] views) {
        checkRange(offset, length, readableLength, "readable");
        return views(0, offset, length, views);
    }

    /** As {@link #readableViews} for the writable part: scattering reads from a socket straight into guest RAM. */
    public int writableViews(long offset, long length, ByteBuffer[] views) {
        checkRange(offset, length, writableLength, "writable");
        return views(firstWritable, offset, length, views);
    }

    private int views(int segment, long offset, long length, ByteBuffer[] views) {
        int filled = 0;
        long skip = offset;
        while (length > 0) {
            if (skip >= lengths[segment]) {
                skip -= lengths[segment++];
                continue;
            }
            if (filled == views.length) {
                throw new IllegalArgumentException("the range spans more than the " + views.length + " views given");
            }
            long n = Math.min(length, lengths[segment] - skip);
            views[filled++] = memory.view(addresses[segment] + skip, n);
            length -= n;
            skip = 0;
            segment++;
        }
        return filled;
    }

    private static void checkRange(long offset, long length, long available, String part) {
        if (offset < 0 || length < 0 || offset > available - length) {
            throw new IndexOutOfBoundsException("bytes " + offset + " + " + length + " of a " + available
                    + "-byte " + part + " part");
        }
    }

    GuestMemory memory() {
        return memory;
    }

    /** Descriptors in the chain (readable and writable). */
    int segmentCount() {
        return count;
    }

    long segmentAddress(int i) {
        return addresses[i];
    }

    long segmentLength(int i) {
        return lengths[i];
    }

    boolean segmentWritable(int i) {
        return i >= firstWritable;
    }

    int capacity() {
        return addresses.length;
    }

    /** Called by {@link Virtqueue#pop} before it adds the segments of a new chain. */
    void start(GuestMemory memory, int head) {
        this.memory = memory;
        this.head = head;
        count = 0;
        firstWritable = 0;
        readableLength = 0;
        writableLength = 0;
    }

    /** Adds a checked segment; the caller has checked that readable ones come first and that it fits. */
    void add(long address, long length, boolean writable) {
        addresses[count] = address;
        lengths[count] = length;
        count++;
        if (writable) {
            writableLength += length;
        } else {
            firstWritable = count;
            readableLength += length;
        }
    }

    /** After a chain failed its checks: nothing of it may be used. */
    void clear() {
        head = -1;
        count = 0;
        firstWritable = 0;
        readableLength = 0;
        writableLength = 0;
    }
}
