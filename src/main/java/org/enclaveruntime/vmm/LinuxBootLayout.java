package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a Linux kernel (bzImage, or an uncompressed vmlinux ELF), its initrd and its command line go in guest RAM and what the zero page
 * (struct boot_params) says, for the 64-bit boot protocol (Documentation/arch/x86/boot.rst, protocol
 * 2.06 or later). Only for hosts whose KVM runs ring 0 natively; on ours the enclave runtime is used.
 * This class only computes: copying the pieces into guest memory and setting the registers (rip =
 * {@link #entry()}, rsi = {@link #zeroPageGpa()}, flat 64-bit segments, identity paging, interrupts off)
 * is the caller's job.
 *
 * <p>Layout: zero page at 0x7000, command line at 0x20000, the protected-mode kernel at its preferred or
 * 1 MiB-aligned address (at least 16 MiB when relocatable, as usual), the initrd as high as allowed, and an
 * e820 map of RAM minus the legacy hole [640 KiB, 1 MiB) and minus the 32-bit MMIO hole.
 */
public final class LinuxBootLayout {
    public static final long ZERO_PAGE_GPA = 0x7000;
    public static final long CMDLINE_GPA = 0x20000;
    public static final long CMDLINE_MAX = 0x10000;
    /** Guest-physical start of the 32-bit MMIO hole; RAM above it is moved to 4 GiB. */
    public static final long MMIO_HOLE_START = 0xC000_0000L;
    public static final long MMIO_HOLE_END = 1L << 32;
    static final long LOW_RAM_END = 0x9FC00;
    static final long HIGH_MEMORY = 0x100000;
    static final int E820_RAM = 1;
    static final int E820_RESERVED = 2;

    // setup header offsets (shared by the bzImage file and boot_params)
    static final int SETUP_SECTS = 0x1F1, BOOT_FLAG = 0x1FE, JUMP = 0x200, HEADER = 0x202, VERSION = 0x206,
            TYPE_OF_LOADER = 0x210, LOADFLAGS = 0x211, CODE32_START = 0x214, RAMDISK_IMAGE = 0x218,
            RAMDISK_SIZE = 0x21C, CMD_LINE_PTR = 0x228, INITRD_ADDR_MAX = 0x22C, KERNEL_ALIGNMENT = 0x230,
            RELOCATABLE = 0x234, XLOADFLAGS = 0x236, CMDLINE_SIZE = 0x238, PREF_ADDRESS = 0x258, INIT_SIZE = 0x260;
    // boot_params-only offsets
    static final int EXT_RAMDISK_IMAGE = 0x0C0, EXT_RAMDISK_SIZE = 0x0C4, EXT_CMD_LINE_PTR = 0x0C8,
            E820_ENTRIES = 0x1E8, E820_TABLE = 0x2D0, E820_ENTRY_SIZE = 20, E820_MAX = 128;
    static final int HDRS = 0x53726448;
    static final int LOADED_HIGH = 0x01;
    static final int XLF_KERNEL_64 = 0x01;
    static final int XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
    static final int MIN_PROTOCOL = 0x206;

    /** One e820 entry. */
    public record E820(long address, long size, int type) {
    }

    /** Kernel bytes [fileOffset, +fileSize) of the image go to gpa; memSize - fileSize bytes after are zeroed. */
    public record KernelSegment(long gpa, long fileOffset, long fileSize, long memSize) {
    }

    private final List<KernelSegment> segments;
    private final long initrdGpa;
    private final long entry;
    private final byte[] zeroPage;
    private final byte[] cmdline;
    private final List<E820> e820;

    private LinuxBootLayout(List<KernelSegment> segments, long initrdGpa, long entry, byte[] zeroPage,
                            byte[] cmdline, List<E820> e820) {
        this.segments = segments;
        this.initrdGpa = initrdGpa;
        this.entry = entry;
        this.zeroPage = zeroPage;
        this.cmdline = cmdline;
        this.e820 = e820;
    }

    /**
     * Computes the layout for {@code bzImage} with an initrd of {@code initrdSize} bytes (0 for none) and
     * {@code commandLine} in {@code ramSize} bytes of guest RAM.
     *
     * @throws EnclaveException INVALID_LINUX_IMAGE naming the header field or size at fault
     */
    public static LinuxBootLayout plan(byte[] bzImage, long initrdSize, String commandLine, long ramSize) {
        if (bzImage.length < 0x268) {
            throw bad("the file is " + bzImage.length + " bytes, too short for a bzImage setup header");
        }
        ByteBuffer h = ByteBuffer.wrap(bzImage).order(ByteOrder.LITTLE_ENDIAN);
        if ((h.getShort(BOOT_FLAG) & 0xffff) != 0xAA55) {
            throw bad("boot_flag at 0x1FE is not 0xAA55");
        }
        if (h.getInt(HEADER) != HDRS) {
            throw bad("no \"HdrS\" signature at 0x202: not a bzImage");
        }
        int version = h.getShort(VERSION) & 0xffff;
        if (version < MIN_PROTOCOL) {
            throw bad(String.format("boot protocol %d.%02d is older than 2.06", version >> 8, version & 0xff));
        }
        int loadflags = h.get(LOADFLAGS) & 0xff;
        if ((loadflags & LOADED_HIGH) == 0) {
            throw bad("loadflags has no LOADED_HIGH: a zImage, not a bzImage");
        }
        int xloadflags = h.getShort(XLOADFLAGS) & 0xffff;
        if (version >= 0x20c && (xloadflags & XLF_KERNEL_64) == 0) {
            throw bad("xloadflags has no XLF_KERNEL_64: the kernel has no 64-bit entry point");
        }
        int setupSects = h.get(SETUP_SECTS) & 0xff;
        if (setupSects == 0) {
            setupSects = 4;
        }
        long kernelOffset = (setupSects + 1L) * 512;
        long syssize = (h.getInt(0x1F4) & 0xffffffffL) * 16;
        if (kernelOffset >= bzImage.length) {
            throw bad("setup_sects " + setupSects + " puts the kernel past the end of the " + bzImage.length
                    + "-byte file");
        }
        long kernelLength = bzImage.length - kernelOffset;
        if (syssize > kernelLength) {
            throw bad("syssize says " + syssize + " bytes of kernel but the file holds " + kernelLength);
        }
        long alignment = h.getInt(KERNEL_ALIGNMENT) & 0xffffffffL;
        if (alignment == 0 || Long.bitCount(alignment) != 1) {
            throw bad("kernel_alignment 0x" + Long.toHexString(alignment) + " is not a power of two");
        }
        boolean relocatable = h.get(RELOCATABLE) != 0;
        long pref = h.getLong(PREF_ADDRESS);
        long initSize = Math.max(h.getInt(INIT_SIZE) & 0xffffffffL, kernelLength);
        long kernelGpa = relocatable ? alignUp(Math.max(pref, 16L << 20), alignment) : pref;
        if (kernelGpa < HIGH_MEMORY || kernelGpa + initSize > Math.min(ramSize, MMIO_HOLE_START)) {
            throw bad("the kernel needs [0x" + Long.toHexString(kernelGpa) + ", +0x" + Long.toHexString(initSize)
                    + ") but guest RAM below the MMIO hole ends at 0x"
                    + Long.toHexString(Math.min(ramSize, MMIO_HOLE_START)));
        }

        byte[] zero = new byte[4096];
        int headerEnd = JUMP + 2 + (bzImage[JUMP + 1] & 0xff);
        headerEnd = Math.min(Math.max(headerEnd, INIT_SIZE + 4), 0x290);
        System.arraycopy(bzImage, SETUP_SECTS, zero, SETUP_SECTS, headerEnd - SETUP_SECTS);
        long cmdlineSize = h.getInt(CMDLINE_SIZE) & 0xffffffffL;
        long initrdMax = h.getInt(INITRD_ADDR_MAX) & 0xffffffffL;
        List<KernelSegment> kernel = List.of(new KernelSegment(kernelGpa, kernelOffset, kernelLength, kernelLength));
        // The 64-bit entry point is 0x200 bytes into the protected-mode kernel.
        return finish(zero, kernel, kernelGpa + initSize, kernelGpa + 0x200, cmdlineSize, initrdMax, initrdSize,
                commandLine, ramSize);
    }

    /**
     * The layout for an uncompressed vmlinux (ELF64): its PT_LOAD segments at their physical addresses, entry
     * at e_entry (the kernel links ENTRY(phys_startup_64), a physical address), and a zero page whose setup
     * header the loader writes itself since there is no bzImage header to copy.
     */
    public static LinuxBootLayout planVmlinux(byte[] vmlinux, long initrdSize, String commandLine, long ramSize) {
        if (vmlinux.length < 64) {
            throw bad("vmlinux is " + vmlinux.length + " bytes, shorter than an ELF header");
        }
        ByteBuffer b = ByteBuffer.wrap(vmlinux).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x464c457f || vmlinux[4] != 2 || vmlinux[5] != 1) {
            throw bad("vmlinux is not a 64-bit little-endian ELF file");
        }
        if ((b.getShort(16) & 0xffff) != 2 || (b.getShort(18) & 0xffff) != 62) {
            throw bad("vmlinux is not an x86-64 ET_EXEC file");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xffff;
        int phnum = b.getShort(56) & 0xffff;
        if (phentsize != 56 || phnum == 0 || phoff < 0 || phoff > vmlinux.length
                || (long) phnum * 56 > vmlinux.length - phoff) {
            throw bad("vmlinux program headers (e_phoff " + phoff + ", " + phnum + " x " + phentsize
                    + ") do not fit in the file");
        }
        long limit = Math.min(ramSize, MMIO_HOLE_START);
        List<KernelSegment> segments = new ArrayList<>();
        long end = 0;
        for (int i = 0; i < phnum; i++) {
            int p = (int) (phoff + 56L * i);
            if (b.getInt(p) != 1) {
                continue;
            }
            long offset = b.getLong(p + 8);
            long paddr = b.getLong(p + 24);
            long filesz = b.getLong(p + 32);
            long memsz = b.getLong(p + 40);
            if (filesz < 0 || memsz < filesz || offset < 0 || offset > vmlinux.length
                    || filesz > vmlinux.length - offset) {
                throw bad("vmlinux PT_LOAD segment " + i + " has inconsistent sizes or lies outside the file");
            }
            if (paddr < HIGH_MEMORY || paddr > limit || memsz > limit - paddr) {
                throw bad("vmlinux PT_LOAD segment " + i + " at 0x" + Long.toHexString(paddr)
                        + " does not fit in guest RAM between 1 MiB and 0x" + Long.toHexString(limit));
            }
            segments.add(new KernelSegment(paddr, offset, filesz, memsz));
            end = Math.max(end, paddr + memsz);
        }
        if (segments.isEmpty()) {
            throw bad("vmlinux has no PT_LOAD segment");
        }
        final long e = entry;
        if (segments.stream().noneMatch(s -> e >= s.gpa() && e < s.gpa() + s.memSize())) {
            throw bad("vmlinux entry 0x" + Long.toHexString(entry) + " is not inside a loaded segment");
        }
        byte[] zero = new byte[4096];
        ByteBuffer z = ByteBuffer.wrap(zero).order(ByteOrder.LITTLE_ENDIAN);
        z.putShort(BOOT_FLAG, (short) 0xAA55);
        z.putInt(HEADER, HDRS);
        z.putShort(VERSION, (short) 0x20F);
        z.put(LOADFLAGS, (byte) LOADED_HIGH);
        z.putInt(KERNEL_ALIGNMENT, 0x1000000);
        return finish(zero, List.copyOf(segments), end, entry, CMDLINE_MAX - 1, 0xFFFF_FFFFL, initrdSize,
                commandLine, ramSize);
    }

    /** Command line, initrd and e820 placement, and the zero page fields every kernel image shares. */
    private static LinuxBootLayout finish(byte[] zero, List<KernelSegment> kernel, long kernelEnd, long entry,
                                          long cmdlineSize, long initrdMax, long initrdSize, String commandLine,
                                          long ramSize) {
        byte[] cmd = (commandLine == null ? "" : commandLine).getBytes(StandardCharsets.US_ASCII);
        if (cmd.length > cmdlineSize || cmd.length + 1 > CMDLINE_MAX) {
            throw bad("the command line is " + cmd.length + " bytes; the kernel accepts at most "
                    + Math.min(cmdlineSize, CMDLINE_MAX - 1));
        }
        byte[] cmdline = new byte[cmd.length + 1];
        System.arraycopy(cmd, 0, cmdline, 0, cmd.length);

        long initrdGpa = 0;
        if (initrdSize > 0) {
            long top = Math.min(Math.min(ramSize, MMIO_HOLE_START), initrdMax + 1);
            initrdGpa = (top - initrdSize) & ~0xfffL;
            if (initrdSize > top || initrdGpa < alignUp(kernelEnd, 0x1000)) {
                throw bad("the " + initrdSize + "-byte initrd does not fit between the kernel and 0x"
                        + Long.toHexString(top));
            }
        }

        List<E820> map = e820(ramSize);
        ByteBuffer z = ByteBuffer.wrap(zero).order(ByteOrder.LITTLE_ENDIAN);
        z.put(TYPE_OF_LOADER, (byte) 0xFF);
        z.putInt(CODE32_START, (int) kernel.get(0).gpa());
        z.putInt(CMD_LINE_PTR, (int) CMDLINE_GPA);
        z.putInt(EXT_CMD_LINE_PTR, 0);
        z.putInt(RAMDISK_IMAGE, (int) initrdGpa);
        z.putInt(RAMDISK_SIZE, (int) initrdSize);
        z.putInt(EXT_RAMDISK_IMAGE, (int) (initrdGpa >>> 32));
        z.putInt(EXT_RAMDISK_SIZE, (int) (initrdSize >>> 32));
        z.put(E820_ENTRIES, (byte) map.size());
        for (int i = 0; i < map.size(); i++) {
            int o = E820_TABLE + i * E820_ENTRY_SIZE;
            z.putLong(o, map.get(i).address()).putLong(o + 8, map.get(i).size()).putInt(o + 16, map.get(i).type());
        }
        return new LinuxBootLayout(kernel, initrdGpa, entry, zero, cmdline, List.copyOf(map));
    }

    static List<E820> e820(long ramSize) {
        List<E820> map = new ArrayList<>();
        map.add(new E820(0, LOW_RAM_END, E820_RAM));
        map.add(new E820(LOW_RAM_END, HIGH_MEMORY - LOW_RAM_END, E820_RESERVED));
        long below = Math.min(ramSize, MMIO_HOLE_START);
        map.add(new E820(HIGH_MEMORY, below - HIGH_MEMORY, E820_RAM));
        if (ramSize > MMIO_HOLE_START) {
            map.add(new E820(MMIO_HOLE_END, ramSize - MMIO_HOLE_START, E820_RAM));
        }
        return map;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private static EnclaveException bad(String what) {
        return new EnclaveException(VmmErrors.INVALID_LINUX_IMAGE, "Linux bzImage: " + what);
    }

    /** Where the kernel goes: for a bzImage the protected-mode part, for a vmlinux its PT_LOAD segments. */
    public List<KernelSegment> kernel() {
        return segments;
    }

    public long initrdGpa() {
        return initrdGpa;
    }

    /** RIP of the boot vCPU: the kernel's 64-bit entry point. */
    public long entry() {
        return entry;
    }

    /** RSI of the boot vCPU. */
    public long zeroPageGpa() {
        return ZERO_PAGE_GPA;
    }

    public byte[] zeroPage() {
        return zeroPage.clone();
    }

    public long cmdlineGpa() {
        return CMDLINE_GPA;
    }

    /** The NUL-terminated command line. */
    public byte[] cmdline() {
        return cmdline.clone();
    }

    public List<E820> e820() {
        return e820;
    }
}
