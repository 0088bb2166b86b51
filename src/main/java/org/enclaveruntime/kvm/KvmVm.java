package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;

import static org.enclaveruntime.kvm.KvmCalls.LIBC;
import static org.enclaveruntime.kvm.KvmCalls.check;

/** One KVM virtual machine: its memory slots, vCPUs and ioeventfds. */
public final class KvmVm implements AutoCloseable {
    private final Kvm kvm;
    private final int fd;
    private boolean closed;

    KvmVm(Kvm kvm, int fd) {
        this.kvm = kvm;
        this.fd = fd;
    }

    /** KVM_SET_USER_MEMORY_REGION: guest-physical [gpa, gpa+size) is backed by host memory at hostAddress. */
    public void setUserMemoryRegion(int slot, long gpa, long size, long hostAddress) {
        Pointer region = KvmCalls.allocate(KvmAbi.MemoryRegion.SIZE);
        region.putInt(KvmAbi.MemoryRegion.SLOT, slot);
        region.putInt(KvmAbi.MemoryRegion.FLAGS, 0);
        region.putLong(KvmAbi.MemoryRegion.GUEST_PHYS_ADDR, gpa);
        region.putLong(KvmAbi.MemoryRegion.MEMORY_SIZE, size);
        region.putLong(KvmAbi.MemoryRegion.USERSPACE_ADDR, hostAddress);
        check(LIBC.ioctl(fd, KvmAbi.KVM_SET_USER_MEMORY_REGION, region), "KVM_SET_USER_MEMORY_REGION (slot " + slot
                + ", " + size + " bytes at guest 0x" + Long.toHexString(gpa) + ")");
    }

    /**
     * KVM_IOEVENTFD for a port: a guest write of {@code length} bytes to {@code port} signals the eventfd in
     * the kernel instead of exiting to the VMM.
     */
    public void addPortEventFd(int port, int length, int eventFd) {
        Pointer io = KvmCalls.allocate(KvmAbi.IoEventFd.SIZE);
        io.putLong(KvmAbi.IoEventFd.ADDR, port);
        io.putInt(KvmAbi.IoEventFd.LEN, length);
        io.putInt(KvmAbi.IoEventFd.FD, eventFd);
        io.putInt(KvmAbi.IoEventFd.FLAGS, KvmAbi.KVM_IOEVENTFD_FLAG_PIO);
        check(LIBC.ioctl(fd, KvmAbi.KVM_IOEVENTFD, io), "KVM_IOEVENTFD (port 0x" + Integer.toHexString(port) + ")");
    }

    /**
     * KVM_IOEVENTFD for guest-physical memory: a guest write of {@code length} bytes to {@code gpa} (which no
     * memory slot backs) signals the eventfd in the kernel instead of exiting to the VMM. Any value matches.
     * For virtio-mmio's QueueNotify, so a driver's notification costs no exit.
     */
    public void addMmioEventFd(long gpa, int length, int eventFd) {
        Pointer io = KvmCalls.allocate(KvmAbi.IoEventFd.SIZE);
        io.putLong(KvmAbi.IoEventFd.ADDR, gpa);
        io.putInt(KvmAbi.IoEventFd.LEN, length);
        io.putInt(KvmAbi.IoEventFd.FD, eventFd);
        io.putInt(KvmAbi.IoEventFd.FLAGS, 0);
        check(LIBC.ioctl(fd, KvmAbi.KVM_IOEVENTFD, io), "KVM_IOEVENTFD (MMIO 0x" + Long.toHexString(gpa) + ")");
    }

    public KvmVcpu createVcpu(int index) {
        int vcpuFd = check(LIBC.ioctl(fd, KvmAbi.KVM_CREATE_VCPU, (long) index), "KVM_CREATE_VCPU " + index);
        try {
            return new KvmVcpu(index, vcpuFd, kvm.vcpuMmapSize());
        } catch (RuntimeException e) {
            LIBC.close(vcpuFd);
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LIBC.close(fd);
        }
    }
}
