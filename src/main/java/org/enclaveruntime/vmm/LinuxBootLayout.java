package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a Linux bzImage, its initrd and its command line go in guest RAM and what the zero page
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

    private final long kernelGpa;
    private final int kernelOffset;
    private final int kernelLength;
    private final long initrdGpa;
    private final long entry;
    private final byte[] zeroPage;
    private final byte[] cmdline;
    private final List<E820> e820;

    private LinuxBootLayout(long kernelGpa, int kernelOffset, int kernelLength, long initrdGpa, long entry,
                            byte[] zeroPage, byte[] cmdline, List<E820> e820) {
        this.kernelGpa = kernelGpa;
        this.kernelOffset = kernelOffset;
        this.kernelLength = kernelLength;
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

        long cmdlineSize = h.getInt(CMDLINE_SIZE) & 0xffffffffL;
        byte[] cmd = (commandLine == null ? "" : commandLine).getBytes(StandardCharsets.US_ASCII);
        if (cmd.length > cmdlineSize || cmd.length + 1 > CMDLINE_MAX) {
            throw bad("the command line is " + cmd.length + " bytes; the kernel accepts at most " + cmdlineSize);
        }
        byte[] cmdline = new byte[cmd.length + 1];
        System.arraycopy(cmd, 0, cmdline, 0, cmd.length);

        long initrdGpa = 0;
        if (initrdSize > 0) {
            long max = h.getInt(INITRD_ADDR_MAX) & 0xffffffffL;
            long top = Math.min(Math.min(ramSize, MMIO_HOLE_START), max + 1);
            initrdGpa = (top - initrdSize) & ~0xfffL;
            if (initrdSize > top || initrdGpa < alignUp(kernelGpa + initSize, 0x1000)) {
                throw bad("the " + initrdSize + "-byte initrd does not fit between the kernel and 0x"
                        + Long.toHexString(top));
            }
        }

        List<E820> map = e820(ramSize);
        byte[] zero = new byte[4096];
        ByteBuffer z = ByteBuffer.wrap(zero).order(ByteOrder.LITTLE_ENDIAN);
        int headerEnd = JUMP + 2 + (bzImage[JUMP + 1] & 0xff);
        headerEnd = Math.min(Math.max(headerEnd, INIT_SIZE + 4), 0x290);
        System.arraycopy(bzImage, SETUP_SECTS, zero, SETUP_SECTS, headerEnd - SETUP_SECTS);
        z.put(TYPE_OF_LOADER, (byte) 0xFF);
        z.putInt(CODE32_START, (int) kernelGpa);
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
        // The 64-bit entry point is 0x200 bytes into the protected-mode kernel.
        return new LinuxBootLayout(kernelGpa, (int) kernelOffset, (int) kernelLength, initrdGpa, kernelGpa + 0x200,
                zero, cmdline, List.copyOf(map));
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

    public long kernelGpa() {
        return kernelGpa;
    }

    /** The protected-mode kernel is bytes [kernelFileOffset, +kernelLength) of the bzImage. */
    public int kernelFileOffset() {
        return kernelOffset;
    }

    public int kernelLength() {
        return kernelLength;
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
