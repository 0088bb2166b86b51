package org.enclaveruntime.vmm;

import org.enclaveruntime.memory.GuestMemory;

/**
 * The guest-physical layout of docs/guest-abi.md and the structures the VMM writes there before the first
 * vCPU runs: GDT, identity page tables, boot info and control page.
 */
public final class GuestLayout {
    private GuestLayout() {
    }

    public static final long GDT_GPA = 0x1000;
    /** 64-bit TSS whose I/O permission bitmap allows every port; see {@link #writeTss}. */
    public static final long TSS_GPA = 0x2000;
    public static final long BOOT_INFO_GPA = 0x8000;
    public static final long CONTROL_GPA = 0x9000;
    public static final long PAGE_TABLES_GPA = 0x10000;
    public static final long PAGE_TABLES_END = 0x80000;
    public static final long IMAGE_GPA = 0x100000;
    public static final long STACK_SIZE = 0x10000;
    /** Mapped but unbacked window right above RAM for device MMIO; every access exits to the VMM. */
    public static final long DEVICE_WINDOW_SIZE = 0x200000;

    public static final int CONTROL_SHUTDOWN_REQUESTED = 0;
    public static final int CONTROL_ONLINE_VCPUS = 4;

    public static final int SELECTOR_CODE3 = 0x1b;
    public static final int SELECTOR_DATA3 = 0x23;
    public static final int SELECTOR_TSS = 0x28;
    /** Five 8-byte descriptors and the 16-byte TSS descriptor. */
    public static final int GDT_LIMIT = 7 * 8 - 1;
    private static final int TSS_IOMAP_OFFSET = 0x68;
    private static final int IO_BITMAP_BYTES = 65536 / 8;
    /** TSS limit: header, the bitmap and the 0xFF byte that must follow it. */
    public static final int TSS_LIMIT = TSS_IOMAP_OFFSET + IO_BITMAP_BYTES;

    static final int BOOT_INFO_MAGIC = 0x45434C56;
    static final int BOOT_INFO_VERSION = 1;
    static final int BOOT_FLAG_DEBUG = 1;

    private static final long PAGE_4K = 0x1000;
    private static final long PAGE_2M = 0x200000;
    private static final long GIB = 1L << 30;
    private static final long PML4 = PAGE_TABLES_GPA;
    private static final long PDPT = PAGE_TABLES_GPA + PAGE_4K;
    private static final long PT_LOW = PAGE_TABLES_GPA + 2 * PAGE_4K;
    private static final long PD_FIRST = PAGE_TABLES_GPA + 3 * PAGE_4K;
    /** Present, writable, user. */
    private static final long PTE_PWU = 0x7;
    private static final long PDE_LARGE = 0x80;

    /** Largest RAM whose page tables (plus the device window's) fit in [PAGE_TABLES_GPA, PAGE_TABLES_END). */
    public static final long MAX_RAM = ((PAGE_TABLES_END - PD_FIRST) / PAGE_4K) * GIB - DEVICE_WINDOW_SIZE;

    /** Lowest stack: vCPU i's stack is [ramTop - (i+1)*64K, ramTop - i*64K). */
    public static long stacksBottom(long ramSize, int vcpus) {
        return ramSize - vcpus * STACK_SIZE;
    }

    public static long stackTop(long ramSize, int vcpu) {
        return ramSize - vcpu * STACK_SIZE;
    }

    public static long deviceWindow(long ramSize) {
        return ramSize;
    }

    /**
     * null, code64 DPL0, data DPL0, code64 DPL3 (0x1b), data DPL3 (0x23), then the 16-byte descriptor of the
     * TSS (0x28) with type 9, "available": only the TR register KVM is given says busy.
     */
    static void writeGdt(GuestMemory m) {
        m.writeU64(GDT_GPA, 0);
        m.writeU64(GDT_GPA + 8, 0x00af9b000000ffffL);
        m.writeU64(GDT_GPA + 16, 0x00cf93000000ffffL);
        m.writeU64(GDT_GPA + 24, 0x00affb000000ffffL);
        m.writeU64(GDT_GPA + 32, 0x00cff3000000ffffL);
        long base = TSS_GPA;
        long limit = TSS_LIMIT;
        m.writeU64(GDT_GPA + SELECTOR_TSS, (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89L << 40)
                | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56));
        m.writeU64(GDT_GPA + SELECTOR_TSS + 8, base >>> 32);
    }

    /**
     * A TSS with an all-zero I/O permission bitmap. The guest runs with IOPL 3, but on nested KVM (measured
     * on our AMD hosts) the IOPL bits of RFLAGS do not survive the first VM exit, after which the CPU checks
     * port access against the TSS bitmap: without a valid one every `out` after the first faults. Allowing
     * every port in the bitmap makes port I/O from CPL 3 independent of IOPL.
     */
    static void writeTss(GuestMemory m) {
        m.zero(TSS_GPA, TSS_LIMIT + 1);
        m.writeU16(TSS_GPA + 0x66, TSS_IOMAP_OFFSET);
        m.writeU8(TSS_GPA + TSS_LIMIT, 0xff);
    }

    /**
     * Identity map of RAM and the device window: 4 KiB pages in the first 2 MiB with page 0 left out (a NULL
     * dereference faults), 2 MiB pages above; every entry user-accessible because the guest runs at CPL 3.
     */
    static void writePageTables(GuestMemory m, long ramSize) {
        long mappedEnd = ramSize + DEVICE_WINDOW_SIZE;
        long gigabytes = (mappedEnd + GIB - 1) / GIB;
        m.zero(PAGE_TABLES_GPA, PAGE_TABLES_END - PAGE_TABLES_GPA);
        m.writeU64(PML4, PDPT | PTE_PWU);
        for (long g = 0; g < gigabytes; g++) {
            m.writeU64(PDPT + 8 * g, (PD_FIRST + g * PAGE_4K) | PTE_PWU);
        }
        m.writeU64(PD_FIRST, PT_LOW | PTE_PWU);
        for (long page = 1; page < PAGE_2M / PAGE_4K; page++) {
            m.writeU64(PT_LOW + 8 * page, page * PAGE_4K | PTE_PWU);
        }
        for (long big = 1; big < mappedEnd / PAGE_2M; big++) {
            m.writeU64(PD_FIRST + 8 * big, big * PAGE_2M | PDE_LARGE | PTE_PWU);
        }
    }

    static void writeBootInfo(GuestMemory m, int vcpus, boolean debug, long ramSize, long imageEnd, long cid) {
        m.zero(BOOT_INFO_GPA, PAGE_4K);
        m.writeU32(BOOT_INFO_GPA, BOOT_INFO_MAGIC);
        m.writeU32(BOOT_INFO_GPA + 4, BOOT_INFO_VERSION);
        m.writeU32(BOOT_INFO_GPA + 8, vcpus);
        m.writeU32(BOOT_INFO_GPA + 12, debug ? BOOT_FLAG_DEBUG : 0);
        m.writeU64(BOOT_INFO_GPA + 16, ramSize);
        m.writeU64(BOOT_INFO_GPA + 24, imageEnd);
        m.writeU64(BOOT_INFO_GPA + 32, STACK_SIZE);
        m.writeU32(BOOT_INFO_GPA + 40, cid);
        m.writeU32(BOOT_INFO_GPA + 44, 0);
        m.zero(CONTROL_GPA, PAGE_4K);
    }
}
