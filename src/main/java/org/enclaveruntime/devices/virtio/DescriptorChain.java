package org.enclaveruntime.devices.virtio;

import org.enclaveruntime.memory.GuestMemory;

import java.nio.ByteBuffer;

/**
 * A checked descriptor chain: its head index and its segments, the device-readable ones first, then the
 * device-writable ones. Offsets below are relative to the start of the readable part, or of the writable part.
 * A chain object is reused for many chains (filled by {@link Virtqueue#pop}); nothing here allocates except
 * the views, which are direct buffers over guest RAM (no copy) and valid only while the VM's RAM is mapped.
 */
public final class DescriptorChain {
    /** A chain able to hold up to {@code maxSegments} descriptors (the queue size). */
    public DescriptorChain(int maxSegments) {
        throw new UnsupportedOperationException("being written");
    }

    public int head() {
        throw new UnsupportedOperationException("being written");
    }

    public long readableLength() {
        throw new UnsupportedOperationException("being written");
    }

    public long writableLength() {
        throw new UnsupportedOperationException("being written");
    }

    /** Copies readable bytes from {@code offset} into dst's remaining space (must fit), advancing dst. */
    public void read(long offset, ByteBuffer dst) {
        throw new UnsupportedOperationException("being written");
    }

    /** Copies src's remaining bytes into the writable part at {@code offset} (must fit), advancing src. */
    public void write(long offset, ByteBuffer src) {
        throw new UnsupportedOperationException("being written");
    }

    /**
     * Zero-copy views of readable bytes [offset, offset + length) into {@code views} (one per segment touched);
     * returns how many were filled. For gathering writes to a socket straight from guest RAM.
     */
    public int readableViews(long offset, long length, ByteBuffer[] views) {
        throw new UnsupportedOperationException("being written");
    }

    /** As {@link #readableViews} for the writable part: scattering reads from a socket straight into guest RAM. */
    public int writableViews(long offset, long length, ByteBuffer[] views) {
        throw new UnsupportedOperationException("being written");
    }

    GuestMemory memory() {
        throw new UnsupportedOperationException("being written");
    }
}
