package org.enclaveruntime.vmm;

import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * The guest-physical layout of docs/guest-abi.md and the structures the VMM writes there before the first
 * vCPU runs: GDT, per-vCPU TSSes and their shared I/O bitmap, IDT and fault stub, identity page tables with
 * their protections, boot info and control page.
 */
public final class GuestLayout {
    private GuestLayout() {
    }

    public static final long GDT_GPA = 0x1000;
    /** Two pages: five segments and up to 255 (the most vCPUs) 16-byte TSS descriptors. */
    public static final long GDT_BYTES = 0x2000;
    public static final long IDT_GPA = 0x3000;
    /** 256 gates of 16 bytes: every vector is inside the limit, only the exception gates are present. */
    public static final int IDT_LIMIT = 256 * 16 - 1;
    public static final long FAULT_STUB_GPA = 0x4000;
    public static final long BOOT_INFO_GPA = 0x8000;
    public static final long CONTROL_GPA = 0x9000;
    public static final long PAGE_TABLES_GPA = 0x10000;
    public static final long PAGE_TABLES_END = 0x80000;
    /** vCPU i's 104-byte TSS is at {@code TSS_GPA + i * TSS_STRIDE}. */
    public static final long TSS_GPA = 0x80000;
    public static final int TSS_STRIDE = 128;
    /** One I/O permission bitmap for every TSS (each TSS's I/O map base points here), then the 0xFF byte. */
    public static final long IO_BITMAP_GPA = 0x88000;
    public static final int IO_BITMAP_BYTES = 65536 / 8;
    /** vCPU i's fault stack (IST1 and RSP0 of its TSS) is [FAULT_STACKS_GPA + i * size, + size). */
    public static final long FAULT_STACKS_GPA = 0x90000;
    public static final int FAULT_STACK_SIZE = 0x400;
    /**
     * vCPU i's flush stack (IST2 of its TSS, used only by the TLB flush gate, vector 0x20) is
     * [FLUSH_STACKS_GPA + i * size, + size): apart from the fault stack, so a flush never overwrites a fault
     * frame. The CPU pushes 40 bytes and the stub 8; 255 vCPUs take 16320 bytes, below 0xE000.
     */
    public static final long FLUSH_STACKS_GPA = 0xA000;
    public static final int FLUSH_STACK_SIZE = 64;
    public static final long IMAGE_GPA = 0x100000;
    /** Each vCPU's stack slot; its lowest page is the guard (not present). */
    public static final long STACK_SIZE = 0x10000;
    public static final long STACK_GUARD_SIZE = 0x1000;
    /** Mapped but unbacked window right above RAM for device MMIO; every access exits to the VMM. */
    public static final long DEVICE_WINDOW_SIZE = 0x200000;

    public static final int CONTROL_SHUTDOWN_REQUESTED = 0;
    public static final int CONTROL_ONLINE_VCPUS = 4;

    public static final int BOOT_INFO_MAGIC_OFFSET = 0;
    public static final int BOOT_INFO_VERSION_OFFSET = 4;
    public static final int BOOT_INFO_VCPU_COUNT_OFFSET = 8;
    public static final int BOOT_INFO_FLAGS_OFFSET = 12;
    public static final int BOOT_INFO_RAM_SIZE_OFFSET = 16;
    public static final int BOOT_INFO_IMAGE_END_OFFSET = 24;
    public static final int BOOT_INFO_STACK_SIZE_OFFSET = 32;
    public static final int BOOT_INFO_CID_OFFSET = 40;
    public static final int BOOT_INFO_DEVICE_COUNT_OFFSET = 44;
    public static final int BOOT_INFO_DEVICES_OFFSET = 48;
    public static final int BOOT_INFO_DEVICE_SIZE = 16;
    public static final int BOOT_INFO_DEVICE_TYPE_OFFSET = 0;
    public static final int BOOT_INFO_DEVICE_MMIO_GPA_OFFSET = 8;
    /** Version 3: the module arena (docs/module-runtime.md, section 1), after the 16 device slots. */
    public static final int BOOT_INFO_MODULE_ARENA_GPA_OFFSET = 304;
    public static final int BOOT_INFO_MODULE_ARENA_SIZE_OFFSET = 312;
    public static final int DEVICE_TYPE_VSOCK = 1;
    public static final int BOOT_INFO_MAX_DEVICES = 16;
    public static final int DEVICE_SLOT_SIZE = 0x1000;
    public static final int UNCLAIMED_PAGE_OFFSET = 0x1FF000;

    public static final int SELECTOR_CODE0 = 0x08;
    public static final int SELECTOR_DATA0 = 0x10;
    public static final int SELECTOR_CODE3 = 0x1b;
    public static final int SELECTOR_DATA3 = 0x23;
    /** vCPU i's TR selector is {@code SELECTOR_TSS + 16 * i}. */
    public static final int SELECTOR_TSS = 0x28;
    private static final int TSS_HEADER_BYTES = 0x68;
    private static final int TSS_RSP0_OFFSET = 4;
    private static final int TSS_IST1_OFFSET = 0x24;
    private static final int TSS_IST2_OFFSET = 0x2C;
    private static final int TSS_IOMAP_BASE_OFFSET = 0x66;

    public static final int BOOT_INFO_MAGIC = 0x45434C56;
    public static final int BOOT_INFO_VERSION = 3;
    public static final int BOOT_FLAG_DEBUG = 1;
    /** CR4.OSFXSR and OSXMMEXCPT are set at entry: SSE/SSE2 work in ring 3 (docs/guest-abi.md). */
    public static final int BOOT_FLAG_SSE = 2;

    private static final long PAGE_4K = 0x1000;
    private static final long PAGE_2M = 0x200000;
    private static final long GIB = 1L << 30;
    /** The module arena takes at most this much, a quarter of RAM and half the RAM between image and stacks. */
    public static final long MODULE_ARENA_MAX = 64L << 20;
    /** PML4, PDPT and at least one page table for the first 2 MiB, beside the page directories. */
    private static final int FIXED_TABLE_PAGES = 3;
    /** Page tables held back for the image, the vCPU stacks and their guards (4 KiB granularity there). */
    private static final int RESERVED_PAGE_TABLES = 16;

    /** Largest RAM whose page tables (plus the device window's) fit in [PAGE_TABLES_GPA, PAGE_TABLES_END). */
    public static final long MAX_RAM = ((PAGE_TABLES_END - PAGE_TABLES_GPA) / PAGE_4K - FIXED_TABLE_PAGES
            - RESERVED_PAGE_TABLES) * GIB - DEVICE_WINDOW_SIZE;

    /** Lowest stack slot: vCPU i's slot is [ramTop - (i+1)*64K, ramTop - i*64K), its lowest page the guard. */
    public static long stacksBottom(long ramSize, int vcpus) {
        return ramSize - vcpus * STACK_SIZE;
    }

    public static long stackTop(long ramSize, int vcpu) {
        return ramSize - vcpu * STACK_SIZE;
    }

    /** The not-present page below vCPU i's stack. */
    public static long stackGuard(long ramSize, int vcpu) {
        return stackTop(ramSize, vcpu) - STACK_SIZE;
    }

    public static long deviceWindow(long ramSize) {
        return ramSize;
    }

    public static long tss(int vcpu) {
        return TSS_GPA + (long) vcpu * TSS_STRIDE;
    }

    /** The TSS limit covers its header, the shared bitmap and the 0xFF byte after it. */
    public static int tssLimit(int vcpu) {
        return (int) (IO_BITMAP_GPA + IO_BITMAP_BYTES - tss(vcpu));
    }

    public static int tssSelector(int vcpu) {
        return SELECTOR_TSS + 16 * vcpu;
    }

    public static int gdtLimit(int vcpus) {
        return SELECTOR_TSS + 16 * vcpus - 1;
    }

    public static long faultStackTop(int vcpu) {
        return FAULT_STACKS_GPA + (long) (vcpu + 1) * FAULT_STACK_SIZE;
    }

    public static long flushStackTop(int vcpu) {
        return FLUSH_STACKS_GPA + (long) (vcpu + 1) * FLUSH_STACK_SIZE;
    }

    /**
     * What the VMM laid out besides the fixed addresses: the module arena and the protections the page tables
     * were written with (later ranges win; everything no range names is user RW).
     */
    record SystemArea(ModuleArena arena, List<IdentityMap.Range> ranges) {
        SystemArea {
            ranges = List.copyOf(ranges);
        }
    }

    /** Writes everything of docs/guest-abi.md below the image and the page tables for all of it. */
    static SystemArea writeSystemArea(GuestMemory m, int vcpus, boolean debug, long ramSize, RuntimeElf elf,
            long cid) {
        writeGdt(m, vcpus);
        writeTss(m, vcpus);
        FaultStub.write(m, vcpus);
        writeBootInfo(m, vcpus, debug, ramSize, elf.imageEnd(), cid);
        SystemArea area = writePageTables(m, ramSize, vcpus, elf.segments(), elf.imageEnd());
        m.writeU64(BOOT_INFO_GPA + BOOT_INFO_MODULE_ARENA_GPA_OFFSET, area.arena().gpa());
        m.writeU64(BOOT_INFO_GPA + BOOT_INFO_MODULE_ARENA_SIZE_OFFSET, area.arena().size());
        return area;
    }

    /**
     * null, code64 DPL0, data DPL0, code64 DPL3 (0x1b), data DPL3 (0x23), then one 16-byte TSS descriptor
     * per vCPU with type 9, "available": only the TR register KVM is given says busy. The accessed bits are
     * set, so the CPU never writes the table.
     */
    static void writeGdt(GuestMemory m, int vcpus) {
        m.zero(GDT_GPA, GDT_BYTES);
        m.writeU64(GDT_GPA + SELECTOR_CODE0, 0x00af9b000000ffffL);
        m.writeU64(GDT_GPA + SELECTOR_DATA0, 0x00cf93000000ffffL);
        m.writeU64(GDT_GPA + (SELECTOR_CODE3 & ~3), 0x00affb000000ffffL);
        m.writeU64(GDT_GPA + (SELECTOR_DATA3 & ~3), 0x00cff3000000ffffL);
        for (int i = 0; i < vcpus; i++) {
            long base = tss(i);
            long limit = tssLimit(i);
            long at = GDT_GPA + tssSelector(i);
            m.writeU64(at, (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89L << 40)
                    | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56));
            m.writeU64(at + 8, base >>> 32);
        }
    }

    /**
     * One TSS per vCPU, each with its own fault stack in RSP0 and IST1 (two vCPUs faulting at once must not
     * share a stack) and the same all-zero I/O permission bitmap. The guest runs with IOPL 3, but on our PVM
     * hosts port access from CPL 3 is checked against the bitmap alone (see "Why a TSS" in the ABI).
     */
    static void writeTss(GuestMemory m, int vcpus) {
        m.zero(TSS_GPA, IO_BITMAP_GPA + IO_BITMAP_BYTES + 1 - TSS_GPA);
        for (int i = 0; i < vcpus; i++) {
            long tss = tss(i);
            m.writeU64(tss + TSS_RSP0_OFFSET, faultStackTop(i));
            m.writeU64(tss + TSS_IST1_OFFSET, faultStackTop(i));
            m.writeU64(tss + TSS_IST2_OFFSET, flushStackTop(i));
            m.writeU16(tss + TSS_IOMAP_BASE_OFFSET, (int) (IO_BITMAP_GPA - tss));
        }
        m.writeU8(IO_BITMAP_GPA + IO_BITMAP_BYTES, 0xff);
    }

    /**
     * The protections of docs/guest-abi.md: the VMM's structures supervisor-only, boot info user read-only,
     * the image W^X by its PT_LOAD flags, a guard page below every stack, everything else user RW+NX.
     */
    static SystemArea writePageTables(GuestMemory m, long ramSize, int vcpus, List<RuntimeElf.Segment> segments,
            long imageEnd) {
        List<IdentityMap.Range> ranges = new ArrayList<>();
        ranges.add(IdentityMap.Range.absent(0, IMAGE_GPA));
        ranges.add(new IdentityMap.Range(GDT_GPA, GDT_GPA + GDT_BYTES, IdentityMap.SUPERVISOR_RW));
        ranges.add(new IdentityMap.Range(IDT_GPA, IDT_GPA + PAGE_4K, IdentityMap.SUPERVISOR_RO));
        ranges.add(new IdentityMap.Range(FAULT_STUB_GPA, FAULT_STUB_GPA + PAGE_4K, IdentityMap.SUPERVISOR_RX));
        ranges.add(new IdentityMap.Range(BOOT_INFO_GPA, BOOT_INFO_GPA + PAGE_4K, IdentityMap.USER_RO));
        ranges.add(new IdentityMap.Range(CONTROL_GPA, CONTROL_GPA + PAGE_4K, IdentityMap.USER_RW));
        ranges.add(new IdentityMap.Range(PAGE_TABLES_GPA, PAGE_TABLES_END, IdentityMap.SUPERVISOR_RW));
        ranges.add(new IdentityMap.Range(TSS_GPA, IO_BITMAP_GPA + IO_BITMAP_BYTES + 1, IdentityMap.SUPERVISOR_RW));
        ranges.add(new IdentityMap.Range(FAULT_STACKS_GPA, faultStackTop(vcpus - 1), IdentityMap.SUPERVISOR_RW));
        ranges.add(new IdentityMap.Range(FLUSH_STACKS_GPA, flushStackTop(vcpus - 1), IdentityMap.SUPERVISOR_RW));
        ranges.addAll(IdentityMap.imageRanges(segments));
        for (int i = 0; i < vcpus; i++) {
            long guard = stackGuard(ramSize, i);
            ranges.add(IdentityMap.Range.absent(guard, guard + STACK_GUARD_SIZE));
        }
        ModuleArena arena = moduleArena(ramSize, vcpus, imageEnd, ranges);
        if (arena.size() > 0) {
            ranges.add(IdentityMap.Range.absent(arena.gpa(), arena.end()));
        }
        IdentityMap.write(m, PAGE_TABLES_GPA, PAGE_TABLES_END, ramSize + DEVICE_WINDOW_SIZE, ranges);
        return new SystemArea(arena, ranges);
    }

    /**
     * The module arena: whole 2 MiB regions just below the lowest stack slot, a quarter of RAM (at most
     * {@link #MODULE_ARENA_MAX}) but never more than half the RAM between the image and the stacks (the
     * runtime's heap keeps the rest), and only as many regions as the page-table area has spare tables (each
     * region is mapped with 4 KiB pages): a VM whose tables fit without an arena gets a smaller one or none.
     */
    static ModuleArena moduleArena(long ramSize, int vcpus, long imageEnd, List<IdentityMap.Range> ranges) {
        long top = stacksBottom(ramSize, vcpus) & -PAGE_2M;
        long free = Math.max(0, top - imageEnd);
        long size = Math.min(Math.min(ramSize / 4, MODULE_ARENA_MAX), free / 2) & -PAGE_2M;
        long spareTables = (PAGE_TABLES_END - PAGE_TABLES_GPA) / PAGE_4K
                - IdentityMap.tablePages(ramSize + DEVICE_WINDOW_SIZE, ranges);
        size = Math.min(size, Math.max(0, spareTables) * PAGE_2M);
        return size == 0 ? ModuleArena.NONE : new ModuleArena(top - size, size);
    }

    /**
     * Lists the VM's devices in boot info: device i of {@code types} has its registers at
     * {@link #deviceRegisters}(ramSize, i).
     */
    static void listDevices(GuestMemory m, long ramSize, List<Integer> types) {
        if (types.size() > BOOT_INFO_MAX_DEVICES) {
            throw new IllegalArgumentException(types.size() + " devices, boot info holds " + BOOT_INFO_MAX_DEVICES);
        }
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_DEVICE_COUNT_OFFSET, types.size());
        for (int i = 0; i < types.size(); i++) {
            long entry = BOOT_INFO_GPA + BOOT_INFO_DEVICES_OFFSET + (long) i * BOOT_INFO_DEVICE_SIZE;
            m.writeU32(entry + BOOT_INFO_DEVICE_TYPE_OFFSET, types.get(i));
            m.writeU64(entry + BOOT_INFO_DEVICE_MMIO_GPA_OFFSET, deviceRegisters(ramSize, i));
        }
    }

    /** Where device i's 4 KiB of registers start: slot i of the device window. */
    public static long deviceRegisters(long ramSize, int device) {
        return deviceWindow(ramSize) + (long) device * DEVICE_SLOT_SIZE;
    }

    static void writeBootInfo(GuestMemory m, int vcpus, boolean debug, long ramSize, long imageEnd, long cid) {
        m.zero(BOOT_INFO_GPA, PAGE_4K);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_MAGIC_OFFSET, BOOT_INFO_MAGIC);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_VERSION_OFFSET, BOOT_INFO_VERSION);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_VCPU_COUNT_OFFSET, vcpus);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_FLAGS_OFFSET, (debug ? BOOT_FLAG_DEBUG : 0) | BOOT_FLAG_SSE);
        m.writeU64(BOOT_INFO_GPA + BOOT_INFO_RAM_SIZE_OFFSET, ramSize);
        m.writeU64(BOOT_INFO_GPA + BOOT_INFO_IMAGE_END_OFFSET, imageEnd);
        m.writeU64(BOOT_INFO_GPA + BOOT_INFO_STACK_SIZE_OFFSET, STACK_SIZE - STACK_GUARD_SIZE);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_CID_OFFSET, cid);
        m.writeU32(BOOT_INFO_GPA + BOOT_INFO_DEVICE_COUNT_OFFSET, 0);
        m.zero(CONTROL_GPA, PAGE_4K);
    }
}
