package org.enclaveruntime.devices;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An address space (I/O ports or MMIO) with devices at fixed ranges. Devices are added while the VM is
 * built; dispatch is a binary search over sorted arrays, so an exit allocates nothing. An access no device
 * claims reads as all ones and a write is dropped; both are counted and go to the {@link GuestLog} (which
 * rate-limits them), never fatal.
 */
public final class DeviceBus {
    private final String space;
    private long[] starts = new long[0];
    private long[] ends = new long[0];
    private BusDevice[] devices = new BusDevice[0];
    private String[] names = new String[0];
    private final GuestLog log;
    private final AtomicLong unclaimed = new AtomicLong();
    /** MMIO accesses cover size bytes of the range; a port access of any width addresses one port. */
    private final boolean accessCoversSize;

    private DeviceBus(String space, boolean accessCoversSize, GuestLog log) {
        this.space = space;
        this.accessCoversSize = accessCoversSize;
        this.log = log;
    }

    public static DeviceBus ports(GuestLog log) {
        return new DeviceBus("port", false, log);
    }

    public static DeviceBus mmio(GuestLog log) {
        return new DeviceBus("MMIO address", true, log);
    }

    /** Adds a device at [start, start+length); ranges must not overlap. Not for use while vCPUs run. */
    public synchronized void register(long start, long length, String name, BusDevice device) {
        if (length <= 0 || start < 0 || start > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(name + ": invalid range 0x" + Long.toHexString(start) + " + " + length);
        }
        long end = start + length;
        int at = 0;
        while (at < starts.length && starts[at] < start) {
            at++;
        }
        if ((at > 0 && ends[at - 1] > start) || (at < starts.length && starts[at] < end)) {
            throw new IllegalArgumentException(name + " at 0x" + Long.toHexString(start) + " overlaps "
                    + names[at > 0 && ends[at - 1] > start ? at - 1 : at]);
        }
        starts = insert(starts, at, start);
        ends = insert(ends, at, end);
        devices = insert(devices, at, device);
        names = insert(names, at, name);
    }

    private static long[] insert(long[] a, int at, long v) {
        long[] b = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(a, at, b, at + 1, a.length - at);
        b[at] = v;
        return b;
    }

    private static <T> T[] insert(T[] a, int at, T v) {
        T[] b = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(a, at, b, at + 1, a.length - at);
        b[at] = v;
        return b;
    }

    /** Index of the device whose range holds [address, address+size), or -1. */
    private int find(long address, int size) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (address < starts[mid]) {
                hi = mid - 1;
            } else if (address >= ends[mid]) {
                lo = mid + 1;
            } else {
                return !accessCoversSize || address + size <= ends[mid] ? mid : -1;
            }
        }
        return -1;
    }

    /** A guest read; all ones (of the access size) when no device claims the address. */
    public long read(int vcpu, long address, int size) {
        int i = find(address, size);
        if (i < 0) {
            unclaimed.incrementAndGet();
            log.unclaimed(space, vcpu, address, size, false, 0);
            return size >= 8 ? -1L : (1L << (8 * size)) - 1;
        }
        return devices[i].read(vcpu, address - starts[i], size);
    }

    /** A guest write; dropped when no device claims the address. */
    public void write(int vcpu, long address, int size, long value) {
        int i = find(address, size);
        if (i < 0) {
            unclaimed.incrementAndGet();
            log.unclaimed(space, vcpu, address, size, true, value);
            return;
        }
        devices[i].write(vcpu, address - starts[i], size, value);
    }

    /** How many unclaimed accesses the guest made (for status and tests). */
    public long unclaimedAccesses() {
        return unclaimed.get();
    }

    @Override
    public String toString() {
        return space + " bus with " + devices.length + " devices";
    }
}
