package org.enclaveruntime.kvm;

import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.Native;

import static org.enclaveruntime.kvm.KvmCalls.LIBC;
import static org.enclaveruntime.kvm.KvmCalls.check;

/**
 * One vCPU: its fd and its mmapped struct kvm_run, read through typed accessors at fixed offsets so that
 * handling an exit allocates nothing. Only the vCPU's own thread calls {@link #run()}; any thread may call
 * {@link #requestImmediateExit()}.
 */
public final class KvmVcpu implements AutoCloseable {
    private final int index;
    private final int fd;
    private final long runAddress;
    private final int runSize;
    private final Pointer run;
    private boolean closed;

    KvmVcpu(int index, int fd, int runSize) {
        long address = Native.mmap(0, runSize, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, fd, 0);
        if (address == Native.MAP_FAILED) {
            throw KvmCalls.failure("mmap of kvm_run for vCPU " + index, Native.errno());
        }
        this.index = index;
        this.fd = fd;
        this.runAddress = address;
        this.runSize = runSize;
        this.run = Runtime.getSystemRuntime().getMemoryManager().newPointer(address, runSize);
    }

    public int index() {
        return index;
    }

    /**
     * KVM_RUN. Returns true when the guest exited (read {@link #exitReason()}), false when the call was
     * interrupted by a signal or by immediate_exit (EINTR). Any other failure throws.
     */
    public boolean run() {
        if (LIBC.ioctl(fd, KvmAbi.KVM_RUN, 0L) == 0) {
            return true;
        }
        int errno = Native.errno();
        if (errno == Native.EINTR || errno == Native.EAGAIN) {
            return false;
        }
        throw KvmCalls.failure("KVM_RUN on vCPU " + index, errno);
    }

    /**
     * Makes the next (or current, with a signal) KVM_RUN return EINTR at once. Synchronized with {@link #close()}: a stop thread may kick a vCPU at the moment another thread releases
     * it, and a write to an unmapped kvm_run page would bring the whole JVM down.
     */
    public synchronized void requestImmediateExit() {
        if (!closed) {
            run.putByte(KvmAbi.Run.IMMEDIATE_EXIT, (byte) 1);
        }
    }

    public int exitReason() {
        return run.getInt(KvmAbi.Run.EXIT_REASON);
    }

    public int ioDirection() {
        return run.getByte(KvmAbi.Run.IO_DIRECTION);
    }

    public int ioSize() {
        return run.getByte(KvmAbi.Run.IO_SIZE);
    }

    public int ioPort() {
        return run.getShort(KvmAbi.Run.IO_PORT) & 0xffff;
    }

    public int ioCount() {
        return run.getInt(KvmAbi.Run.IO_COUNT);
    }

    /**
     * Item {@code i} of the data of a port exit (count items of ioSize bytes at data_offset in kvm_run),
     * zero-extended.
     */
    public long ioData(int i) {
        long offset = ioItemOffset(i);
        switch (ioSize()) {
            case 1:
                return run.getByte(offset) & 0xffL;
            case 2:
                return run.getShort(offset) & 0xffffL;
            default:
                return run.getInt(offset) & 0xffffffffL;
        }
    }

    /** Sets item {@code i} of the data a port read returns to the guest. */
    public void setIoData(int i, long value) {
        long offset = ioItemOffset(i);
        switch (ioSize()) {
            case 1:
                run.putByte(offset, (byte) value);
                break;
            case 2:
                run.putShort(offset, (short) value);
                break;
            default:
                run.putInt(offset, (int) value);
        }
    }

    private long ioItemOffset(int i) {
        long offset = run.getLong(KvmAbi.Run.IO_DATA_OFFSET) + (long) i * ioSize();
        if (offset < 0 || offset + ioSize() > runSize) {
            throw new IllegalStateException("kvm_run io data outside the run area: offset " + offset);
        }
        return offset;
    }

    public long mmioAddress() {
        return run.getLong(KvmAbi.Run.MMIO_PHYS_ADDR);
    }

    public int mmioLength() {
        return run.getInt(KvmAbi.Run.MMIO_LEN);
    }

    public boolean mmioIsWrite() {
        return run.getByte(KvmAbi.Run.MMIO_IS_WRITE) != 0;
    }

    /** The little-endian value of an MMIO write (mmioLength bytes). */
    public long mmioData() {
        int length = mmioLength();
        long value = 0;
        for (int i = Math.min(length, 8) - 1; i >= 0; i--) {
            value = (value << 8) | (run.getByte(KvmAbi.Run.MMIO_DATA + i) & 0xffL);
        }
        return value;
    }

    /** Sets the value an MMIO read returns to the guest. */
    public void setMmioData(long value) {
        int length = Math.min(mmioLength(), 8);
        for (int i = 0; i < length; i++) {
            run.putByte(KvmAbi.Run.MMIO_DATA + i, (byte) (value >>> (8 * i)));
        }
    }

    public long failEntryHardwareReason() {
        return run.getLong(KvmAbi.Run.FAIL_ENTRY_HARDWARE_REASON);
    }

    public int failEntryCpu() {
        return run.getInt(KvmAbi.Run.FAIL_ENTRY_CPU);
    }

    public int internalSuberror() {
        return run.getInt(KvmAbi.Run.INTERNAL_SUBERROR);
    }

    public int internalDataCount() {
        return Math.min(run.getInt(KvmAbi.Run.INTERNAL_NDATA), KvmAbi.Run.INTERNAL_DATA_MAX);
    }

    public long internalData(int i) {
        return run.getLong(KvmAbi.Run.INTERNAL_DATA + 8L * i);
    }

    public void getRegs(KvmRegs regs) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_GET_REGS, regs.buffer), "KVM_GET_REGS on vCPU " + index);
    }

    public void setRegs(KvmRegs regs) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_SET_REGS, regs.buffer), "KVM_SET_REGS on vCPU " + index);
    }

    public void getSregs(KvmSregs sregs) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_GET_SREGS, sregs.buffer), "KVM_GET_SREGS on vCPU " + index);
    }

    public void setSregs(KvmSregs sregs) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_SET_SREGS, sregs.buffer), "KVM_SET_SREGS on vCPU " + index);
    }

    public void setFpu(KvmFpu fpu) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_SET_FPU, fpu.buffer), "KVM_SET_FPU on vCPU " + index);
    }

    public void setCpuid(CpuidTable table) {
        check(LIBC.ioctl(fd, KvmAbi.KVM_SET_CPUID2, table.pointer()), "KVM_SET_CPUID2 on vCPU " + index);
    }

    /**
     * The registers a crash report shows: rip rsp rflags cr0 cr3 cr4 cs ss and the general registers.
     * Never throws: a vCPU whose registers cannot be read says so.
     */
    public String describeRegisters() {
        try {
            KvmRegs r = new KvmRegs();
            KvmSregs s = new KvmSregs();
            getRegs(r);
            getSregs(s);
            StringBuilder b = new StringBuilder(400);
            hex(b, "rip", r.get(KvmAbi.Regs.RIP)).append(' ');
            hex(b, "rsp", r.get(KvmAbi.Regs.RSP)).append(' ');
            hex(b, "rflags", r.get(KvmAbi.Regs.RFLAGS)).append(' ');
            hex(b, "cr0", s.get(KvmAbi.Sregs.CR0)).append(' ');
            hex(b, "cr2", s.get(KvmAbi.Sregs.CR2)).append(' ');
            hex(b, "cr3", s.get(KvmAbi.Sregs.CR3)).append(' ');
            hex(b, "cr4", s.get(KvmAbi.Sregs.CR4)).append(' ');
            hex(b, "efer", s.get(KvmAbi.Sregs.EFER)).append(' ');
            hex(b, "cs", s.selector(KvmAbi.Sregs.CS)).append(' ');
            hex(b, "ss", s.selector(KvmAbi.Sregs.SS));
            String[] names = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12",
                    "r13", "r14", "r15"};
            int[] offsets = {KvmAbi.Regs.RAX, KvmAbi.Regs.RBX, KvmAbi.Regs.RCX, KvmAbi.Regs.RDX, KvmAbi.Regs.RSI,
                    KvmAbi.Regs.RDI, KvmAbi.Regs.RBP, KvmAbi.Regs.R8, KvmAbi.Regs.R9, KvmAbi.Regs.R10,
                    KvmAbi.Regs.R11, KvmAbi.Regs.R12, KvmAbi.Regs.R13, KvmAbi.Regs.R14, KvmAbi.Regs.R15};
            for (int i = 0; i < names.length; i++) {
                hex(b.append(' '), names[i], r.get(offsets[i]));
            }
            return b.toString();
        } catch (EnclaveException e) {
            return "registers unavailable: " + e.getMessage();
        }
    }

    private static StringBuilder hex(StringBuilder b, String name, long value) {
        return b.append(name).append("=0x").append(Long.toHexString(value));
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LIBC.munmap(runAddress, runSize);
            LIBC.close(fd);
        }
    }
}
