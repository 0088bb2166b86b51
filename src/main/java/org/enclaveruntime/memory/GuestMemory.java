package org.enclaveruntime.memory;

import com.kenai.jffi.MemoryIO;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.KvmVm;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Guest RAM: one shared mapping of a memfd, guest-physical address 0 at offset 0. This class is the only
 * way Java code reads or writes guest memory; every access is bounds-checked by guest-physical address,
 * because every address a device follows comes from the untrusted guest.
 *
 * <p><b>Memory ordering with the guest.</b> Guest vCPUs read and write this RAM concurrently with the VMM
 * (virtio rings). The plain accessors promise nothing about order; the ring indexes use
 * {@link #readU16Acquire}, {@link #writeU16Release} and {@link #fullFence}. Why they are enough on x86-64
 * (the only architecture this VMM runs on): the hardware is TSO, so it never reorders a load with a later
 * load, a store with a later store, or a load with a later store; the one reordering it does is a store with
 * a later load (store buffer). What remains is the JIT, which may reorder the plain (Unsafe) accesses
 * underneath these methods as it likes. An acquire fence after a load forbids the JIT to move later loads and
 * stores before it, a release fence before a store forbids it to move earlier ones after it; on x86 both
 * cost no instruction. The full fence is a real {@code lock}-prefixed instruction that also drains the
 * store buffer, which a Dekker-style "publish, then look at the other side's flag" handshake needs. The
 * 16- and 32-bit accesses are naturally aligned in the rings, hence single, untorn accesses.
 *
 * <p>On close, every resident page is zeroed before the mapping goes away, so the enclave's data does not
 * survive in pages the kernel hands to someone else.
 */
public final class GuestMemory implements AutoCloseable {
    private static final LibC LIBC = LibC.INSTANCE;
    private static final long SCRUB_CHUNK = 1L << 30;
    private static final int BASE_PAGE = 4096;

    private final int memfd;
    private final long address;
    private final long size;
    private final MemoryBacking backing;
    private final Pointer ram;
    private volatile boolean closed;

    private GuestMemory(int memfd, long address, long size, MemoryBacking backing) {
        this.memfd = memfd;
        this.address = address;
        this.size = size;
        this.backing = backing;
        this.ram = Runtime.getSystemRuntime().getMemoryManager().newPointer(address, size);
    }

    /**
     * Creates guest RAM of {@code size} bytes (a multiple of the backing's page size). Ordinary memory is
     * locked on fault (mlock2 MLOCK_ONFAULT): pages the guest touches never go to swap, and nothing is
     * populated up front, which would cost start-up time and resident memory the guest may never use. If it
     * cannot be locked, creation fails with E412 and nothing stays mapped or open.
     */
    public static GuestMemory create(long size, MemoryBacking backing) {
        if (size <= 0 || size % backing.pageSize() != 0) {
            throw new EnclaveException(MemoryErrors.GUEST_MEMORY_SIZE, "guest memory size " + size
                    + " bytes is not a positive multiple of the page size " + backing.pageSize());
        }
        int flags = Native.MFD_CLOEXEC;
        if (backing instanceof MemoryBacking.Hugetlb h) {
            flags |= Native.MFD_HUGETLB | (Long.numberOfTrailingZeros(h.pageSize()) << Native.MFD_HUGE_SHIFT);
        }
        int fd = LIBC.memfd_create("enclave-ram", flags);
        if (fd < 0) {
            throw memoryError("memfd_create for guest RAM (" + backing + ")", Native.errno());
        }
        try {
            if (LIBC.ftruncate(fd, size) < 0) {
                throw memoryError("ftruncate of guest RAM to " + size + " bytes", Native.errno());
            }
            long address = Native.mmap(0, size, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, fd, 0);
            if (address == Native.MAP_FAILED) {
                throw memoryError("mmap of " + size + " bytes of guest RAM (" + backing + ")", Native.errno());
            }
            // Unlocked RAM could go to swap and outlive the enclave unscrubbed: refuse rather than warn.
            if (backing instanceof MemoryBacking.Ordinary
                    && LIBC.syscall(Native.SYS_MLOCK2, address, size, Native.MLOCK_ONFAULT) != 0) {
                int errno = Native.errno();
                LIBC.munmap(address, size);
                throw new EnclaveException(MemoryErrors.GUEST_MEMORY_LOCK, "cannot lock the " + (size >> 20)
                        + " MiB of guest RAM in memory (mlock2: " + Native.describe(errno) + "); this process may lock "
                        + lockLimit() + " without CAP_IPC_LOCK");
            }
            return new GuestMemory(fd, address, size, backing);
        } catch (RuntimeException e) {
            LIBC.close(fd);
            throw e;
        }
    }

    /** RLIMIT_MEMLOCK as /proc/self/limits states it ("65536 bytes", "unlimited"), for the message. */
    private static String lockLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max locked memory")) {
                    String[] f = line.substring("Max locked memory".length()).trim().split("\\s+");
                    return f[0].equals("unlimited") ? "any amount" : f[0] + " bytes (RLIMIT_MEMLOCK)";
                }
            }
        } catch (IOException | RuntimeException e) {
            // the limit is only for the message
        }
        return "only RLIMIT_MEMLOCK bytes";
    }

    private static EnclaveException memoryError(String what, int errno) {
        return new EnclaveException(MemoryErrors.GUEST_MEMORY, what + " failed: " + Native.describe(errno));
    }

    public long size() {
        return size;
    }

    public MemoryBacking backing() {
        return backing;
    }

    /** Registers all of guest RAM with the VM as memory slot {@code slot} at guest-physical 0. */
    public void registerWith(KvmVm vm, int slot) {
        ensureOpen();
        vm.setUserMemoryRegion(slot, 0, size, address);
    }

    /** True when [gpa, gpa+length) lies inside guest RAM; overflow-safe for any inputs. */
    public boolean contains(long gpa, long length) {
        return gpa >= 0 && length >= 0 && gpa <= size - length;
    }

    private void check(long gpa, long length) {
        if (closed) {
            throw new IllegalStateException("guest memory is closed");
        }
        if (!contains(gpa, length)) {
            throw new GuestAddressException(gpa, length, size);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("guest memory is closed");
        }
    }

    public int readU8(long gpa) {
        check(gpa, 1);
        return ram.getByte(gpa) & 0xff;
    }

    public int readU16(long gpa) {
        check(gpa, 2);
        return ram.getShort(gpa) & 0xffff;
    }

    public long readU32(long gpa) {
        check(gpa, 4);
        return ram.getInt(gpa) & 0xffffffffL;
    }

    public long readU64(long gpa) {
        check(gpa, 8);
        return ram.getLong(gpa);
    }

    /**
     * A 16-bit load with acquire semantics: no later read or write of guest memory by this thread happens
     * before it (for reading a ring index, then the entries it covers). {@code gpa} should be 2-aligned.
     */
    public int readU16Acquire(long gpa) {
        check(gpa, 2);
        int value = ram.getShort(gpa) & 0xffff;
        VarHandle.acquireFence();
        return value;
    }

    /**
     * A 16-bit store with release semantics: every earlier read and write of guest memory by this thread is
     * visible before it (for publishing a ring index after the entries it covers). {@code gpa} should be
     * 2-aligned.
     */
    public void writeU16Release(long gpa, int value) {
        check(gpa, 2);
        VarHandle.releaseFence();
        ram.putShort(gpa, (short) value);
    }

    /**
     * A full fence: the stores before it are visible to every CPU before any load after it reads. Needed
     * between "publish my index" and "read the other side's flag" (docs/guest-abi.md, "Notifications");
     * acquire and release alone allow that store to pass that load.
     */
    public static void fullFence() {
        VarHandle.fullFence();
    }

    /**
     * A direct, little-endian buffer over guest RAM [gpa, gpa + length), no copy: bytes the guest writes
     * appear in it and bytes put into it appear in the guest. Bounds-checked like every access; at most
     * {@link Integer#MAX_VALUE} bytes. The buffer itself knows nothing of {@link #close()}: a view must not be
     * used after guest RAM is closed (the address would be unmapped or reused), so only threads that end
     * before RAM is released (the vCPUs, a device's event thread) may hold one.
     */
    public ByteBuffer view(long gpa, long length) {
        check(gpa, length);
        if (length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a view of guest RAM is at most 2 GiB - 1 bytes, not " + length);
        }
        return MemoryIO.getInstance().newDirectByteBuffer(address + gpa, (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    public void writeU8(long gpa, int value) {
        check(gpa, 1);
        ram.putByte(gpa, (byte) value);
    }

    public void writeU16(long gpa, int value) {
        check(gpa, 2);
        ram.putShort(gpa, (short) value);
    }

    public void writeU32(long gpa, long value) {
        check(gpa, 4);
        ram.putInt(gpa, (int) value);
    }

    public void writeU64(long gpa, long value) {
        check(gpa, 8);
        ram.putLong(gpa, value);
    }

    public void read(long gpa, byte[] dst, int offset, int length) {
        checkArray(dst.length, offset, length);
        check(gpa, length);
        ram.get(gpa, dst, offset, length);
    }

    public void write(long gpa, byte[] src, int offset, int length) {
        checkArray(src.length, offset, length);
        check(gpa, length);
        ram.put(gpa, src, offset, length);
    }

    /** Copies guest memory into dst's remaining bytes and advances its position. */
    public void read(long gpa, ByteBuffer dst) {
        int length = dst.remaining();
        check(gpa, length);
        if (dst.hasArray()) {
            ram.get(gpa, dst.array(), dst.arrayOffset() + dst.position(), length);
            dst.position(dst.position() + length);
        } else if (dst.isDirect() && !dst.isReadOnly()) {
            MemoryIO io = MemoryIO.getInstance();
            io.copyMemory(address + gpa, io.getDirectBufferAddress(dst) + dst.position(), length);
            dst.position(dst.position() + length);
        } else {
            for (int i = 0; i < length; i++) {
                dst.put(ram.getByte(gpa + i));
            }
        }
    }

    /** Copies src's remaining bytes into guest memory and advances its position. */
    public void write(long gpa, ByteBuffer src) {
        int length = src.remaining();
        check(gpa, length);
        if (src.hasArray()) {
            ram.put(gpa, src.array(), src.arrayOffset() + src.position(), length);
            src.position(src.position() + length);
        } else if (src.isDirect()) {
            MemoryIO io = MemoryIO.getInstance();
            io.copyMemory(io.getDirectBufferAddress(src) + src.position(), address + gpa, length);
            src.position(src.position() + length);
        } else {
            for (int i = 0; i < length; i++) {
                ram.putByte(gpa + i, src.get());
            }
        }
    }

    public void zero(long gpa, long length) {
        check(gpa, length);
        ram.setMemory(gpa, length, (byte) 0);
    }

    private static void checkArray(int arrayLength, int offset, int length) {
        if (offset < 0 || length < 0 || offset > arrayLength - length) {
            throw new IndexOutOfBoundsException("array range " + offset + " + " + length + " of " + arrayLength);
        }
    }

    /** Bytes of guest RAM that are resident (touched by the guest or the VMM), from mincore. */
    public synchronized long residentBytes() {
        ensureOpen();
        long pages = (size + BASE_PAGE - 1) / BASE_PAGE;
        Pointer vec = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) Math.min(pages, SCRUB_CHUNK / BASE_PAGE));
        long resident = 0;
        for (long chunk = 0; chunk < size; chunk += SCRUB_CHUNK) {
            long length = Math.min(SCRUB_CHUNK, size - chunk);
            if (LIBC.mincore(address + chunk, length, vec) != 0) {
                return -1;
            }
            for (long p = 0; p < (length + BASE_PAGE - 1) / BASE_PAGE; p++) {
                resident += vec.getByte(p) & 1;
            }
        }
        return resident * BASE_PAGE;
    }

    /** For the scrub test only: a second descriptor of the memfd that outlives {@link #close()}. */
    int dupMemfd() {
        return LIBC.dup(memfd);
    }

    /** Zeroes guest RAM, unmaps it and closes the memfd. Idempotent. The vCPUs must be stopped first. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        scrub();
        LIBC.munmap(address, size);
        LIBC.close(memfd);
    }

    /**
     * Zeroes every page that holds data. Pages never touched are not resident and hold nothing, and writing
     * zeros to them would only allocate memory to destroy it; mincore tells which pages are resident.
     */
    private void scrub() {
        long chunkPages = SCRUB_CHUNK / BASE_PAGE;
        Pointer vec = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) Math.min(chunkPages,
                (size + BASE_PAGE - 1) / BASE_PAGE));
        for (long chunk = 0; chunk < size; chunk += SCRUB_CHUNK) {
            long length = Math.min(SCRUB_CHUNK, size - chunk);
            if (LIBC.mincore(address + chunk, length, vec) != 0) {
                ram.setMemory(chunk, length, (byte) 0);
                continue;
            }
            long pages = (length + BASE_PAGE - 1) / BASE_PAGE;
            long runStart = -1;
            for (long p = 0; p <= pages; p++) {
                boolean resident = p < pages && (vec.getByte(p) & 1) != 0;
                if (resident && runStart < 0) {
                    runStart = p;
                } else if (!resident && runStart >= 0) {
                    long from = chunk + runStart * BASE_PAGE;
                    ram.setMemory(from, Math.min(chunk + p * BASE_PAGE, size) - from, (byte) 0);
                    runStart = -1;
                }
            }
        }
    }
}
