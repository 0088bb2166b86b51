package org.enclaveruntime.vmm;

import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page tables GuestLayout writes, walked as the CPU walks them: every address of the memory map in
 * docs/guest-abi.md has the protection the document gives it.
 */
class GuestLayoutTest {
    private static final long RAM = 64L << 20;
    private static final int VCPUS = 3;
    private static final long P = 1, W = 2, U = 4, LARGE = 0x80, NX = 1L << 63;

    /** The leaf entry's P, R/W, U/S and NX bits for {@code gpa} (0 when some level is not present). */
    static long leaf(GuestMemory m, long gpa) {
        long table = GuestLayout.PAGE_TABLES_GPA;
        for (int level = 3; level >= 0; level--) {
            long e = m.readU64(table + 8 * ((gpa >>> (12 + 9 * level)) & 511));
            if ((e & P) == 0) {
                return 0;
            }
            if (level == 0 || (level == 1 && (e & LARGE) != 0)) {
                assertEquals(gpa & ~(level == 1 ? 0x1fffffL : 0xfffL), e & 0x000f_ffff_ffff_f000L & ~(level == 1
                        ? 0x1ff000L : 0), "identity mapping of 0x" + Long.toHexString(gpa));
                return e & (P | W | U | NX);
            }
            assertEquals(P | W | U, e & (P | W | U | NX), "upper levels allow everything");
            table = e & 0x000f_ffff_ffff_f000L;
        }
        throw new AssertionError();
    }

    @Test
    void devicesAreListedInBootInfoAtTheirWindowSlots() {
        try (GuestMemory m = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            GuestLayout.writeBootInfo(m, 1, false, RAM, GuestLayout.IMAGE_GPA + 0x4000, 3);
            assertEquals(0, m.readU32(GuestLayout.BOOT_INFO_GPA + 44), "no devices until listed");
            GuestLayout.listDevices(m, RAM, java.util.List.of(GuestLayout.DEVICE_TYPE_VSOCK, 7));
            assertEquals(2, m.readU32(GuestLayout.BOOT_INFO_GPA + 44));
            assertEquals(1, m.readU32(GuestLayout.BOOT_INFO_GPA + 48), "type of device 0 (docs/guest-abi.md: 1 = vsock)");
            assertEquals(RAM, m.readU64(GuestLayout.BOOT_INFO_GPA + 56), "device 0 at the start of the window");
            assertEquals(7, m.readU32(GuestLayout.BOOT_INFO_GPA + 64));
            assertEquals(RAM + 0x1000, m.readU64(GuestLayout.BOOT_INFO_GPA + 72), "device 1 one 4 KiB slot up");
        }
    }

    @Test
    void everyRegionHasTheProtectionOfTheMemoryMap() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(twoSegmentElf()), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, VCPUS));
        try (GuestMemory m = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            GuestLayout.writeSystemArea(m, VCPUS, false, RAM, elf, 3);
            assertEquals(0, leaf(m, 0), "null page");
            assertEquals(P | W | NX, leaf(m, GuestLayout.GDT_GPA));
            assertEquals(P | W | NX, leaf(m, GuestLayout.GDT_GPA + 0x1fff));
            assertEquals(P | NX, leaf(m, GuestLayout.IDT_GPA));
            assertEquals(P, leaf(m, GuestLayout.FAULT_STUB_GPA), "fault stub: supervisor, read-only, executable");
            assertEquals(0, leaf(m, 0x5000));
            assertEquals(P | U | NX, leaf(m, GuestLayout.BOOT_INFO_GPA), "boot info: user read-only");
            assertEquals(P | W | U | NX, leaf(m, GuestLayout.CONTROL_GPA));
            assertEquals(P | W | NX, leaf(m, 0xa000), "the flush stacks");
            assertEquals(0, leaf(m, 0xc000));
            assertEquals(P | W | NX, leaf(m, GuestLayout.PAGE_TABLES_GPA));
            assertEquals(P | W | NX, leaf(m, GuestLayout.PAGE_TABLES_END - 1));
            assertEquals(P | W | NX, leaf(m, GuestLayout.tss(VCPUS - 1)));
            assertEquals(P | W | NX, leaf(m, GuestLayout.IO_BITMAP_GPA + GuestLayout.IO_BITMAP_BYTES));
            assertEquals(P | W | NX, leaf(m, GuestLayout.faultStackTop(VCPUS - 1) - 1));
            assertEquals(0, leaf(m, GuestLayout.faultStackTop(VCPUS - 1) + 0x1000), "no fault stack beyond the last vCPU");
            assertEquals(P | W | NX, leaf(m, GuestLayout.FLUSH_STACKS_GPA), "flush stacks: supervisor-only");
            assertEquals(0, leaf(m, GuestLayout.FLUSH_STACKS_GPA + 0x1000), "no flush stack beyond the last vCPU");
            assertEquals(P | U, leaf(m, GuestLayout.IMAGE_GPA), "text: R+X");
            assertEquals(P | U | NX, leaf(m, GuestLayout.IMAGE_GPA + 0x1000), "rodata: R");
            assertEquals(P | W | U | NX, leaf(m, GuestLayout.IMAGE_GPA + 0x2000), "data: RW+NX");
            assertEquals(P | W | U | NX, leaf(m, GuestLayout.IMAGE_GPA + 0x3000), "free RAM after the image");
            assertEquals(P | W | U | NX, leaf(m, 0x200000), "RAM in 2 MiB pages");
            for (int i = 0; i < VCPUS; i++) {
                long guard = GuestLayout.stackGuard(RAM, i);
                assertEquals(0, leaf(m, guard), "guard of vCPU " + i);
                assertEquals(0, leaf(m, guard + 0xfff), "guard of vCPU " + i);
                assertEquals(P | W | U | NX, leaf(m, guard + 0x1000), "stack of vCPU " + i);
                assertEquals(P | W | U | NX, leaf(m, GuestLayout.stackTop(RAM, i) - 8), "stack top of vCPU " + i);
            }
            assertEquals(P | W | U | NX, leaf(m, RAM), "device window");
            assertEquals(P | W | U | NX, leaf(m, RAM + GuestLayout.DEVICE_WINDOW_SIZE - 1), "device window");
            assertEquals(0, leaf(m, RAM + GuestLayout.DEVICE_WINDOW_SIZE), "nothing above the device window");
        }
    }

    @Test
    void eachVcpuHasItsOwnTssAndFaultStackAndSharesTheBitmap() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(twoSegmentElf()), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, 255));
        try (GuestMemory m = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            GuestLayout.writeSystemArea(m, 255, false, RAM, elf, 3);
            for (int i : new int[] {0, 1, 254}) {
                long tss = GuestLayout.tss(i);
                assertEquals(GuestLayout.faultStackTop(i), m.readU64(tss + 0x24), "IST1 of vCPU " + i);
                assertEquals(GuestLayout.faultStackTop(i), m.readU64(tss + 4), "RSP0 of vCPU " + i);
                assertEquals(GuestLayout.flushStackTop(i), m.readU64(tss + 0x2c), "IST2 of vCPU " + i);
                assertEquals(GuestLayout.IO_BITMAP_GPA, tss + m.readU16(tss + 0x66), "I/O map of vCPU " + i);
                assertEquals(0xff, m.readU8(tss + GuestLayout.tssLimit(i)), "the byte after the bitmap");
                long descriptor = GuestLayout.GDT_GPA + GuestLayout.tssSelector(i);
                long low = m.readU64(descriptor);
                long base = ((low >>> 16) & 0xffffff) | (((low >>> 56) & 0xff) << 24) | (m.readU64(descriptor + 8) << 32);
                assertEquals(tss, base, "TSS descriptor of vCPU " + i);
                assertEquals(0x89, (low >>> 40) & 0xff, "available 64-bit TSS");
            }
            assertTrue(GuestLayout.gdtLimit(255) < GuestLayout.GDT_BYTES, "255 TSS descriptors fit the GDT");
            assertTrue(GuestLayout.tss(255) <= GuestLayout.IO_BITMAP_GPA, "255 TSSes fit below the bitmap");
            assertTrue(GuestLayout.faultStackTop(254) <= GuestLayout.IMAGE_GPA, "255 fault stacks fit below 1 MiB");
            assertTrue(GuestLayout.flushStackTop(254) <= 0xE000, "255 flush stacks fit below 0xE000");
            assertEquals(0, leaf(m, 0xE000), "nothing mapped after the flush stacks");
        }
    }

    /**
     * Vector 0x20 is the TLB flush gate: ring 3 may raise it (DPL 3), it runs on IST2 and its stub reloads
     * CR3; the exception gates keep DPL 0 and IST1; no other vector is present.
     */
    @Test
    void theFlushGateIsUserCallableOnItsOwnStack() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(twoSegmentElf()), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, VCPUS));
        try (GuestMemory m = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            GuestLayout.writeSystemArea(m, VCPUS, false, RAM, elf, 3);
            for (int vector = 0; vector < 256; vector++) {
                long low = m.readU64(GuestLayout.IDT_GPA + 16L * vector);
                long type = (low >>> 40) & 0xff;
                if (vector == 0x20) {
                    assertEquals(0xEE, type, "present, DPL 3, 64-bit interrupt gate");
                    assertEquals(2, (low >>> 32) & 7, "IST2");
                    assertEquals(GuestLayout.SELECTOR_CODE0, (low >>> 16) & 0xffff);
                    long handler = (low & 0xffff) | (((low >>> 48) & 0xffff) << 16)
                            | (m.readU64(GuestLayout.IDT_GPA + 16L * vector + 8) << 32);
                    byte[] code = new byte[10];
                    m.read(handler, code, 0, code.length);
                    // push %rax; mov %cr3,%rax; mov %rax,%cr3; pop %rax; iretq
                    assertEquals("500f20d80f22d85848cf", java.util.HexFormat.of().formatHex(code));
                    assertTrue(handler >= GuestLayout.FAULT_STUB_GPA && handler + 10 <= GuestLayout.FAULT_STUB_GPA + 0x1000);
                } else if (vector < 32 && vector != 8) {
                    assertEquals(0x8E, type, "exception gate " + vector + ": DPL 0");
                    assertEquals(1, (low >>> 32) & 7, "exception gate " + vector + ": IST1");
                } else {
                    assertEquals(0, type, "vector " + vector + " not present");
                }
            }
        }
    }

    /** R+X at 1 MiB, R at +4 KiB, R+W (with bss) at +8 KiB. */
    static byte[] twoSegmentElf() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 + 3 * 56 + 0x30)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long low = GuestLayout.IMAGE_GPA;
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(low).putLong(64).putLong(0);
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 3);
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);
        int data = 64 + 3 * 56;
        int[] flags = {5, 4, 6};
        for (int i = 0; i < 3; i++) {
            long gpa = low + 0x1000L * i;
            b.putInt(1).putInt(flags[i]).putLong(data + 0x10L * i).putLong(gpa).putLong(gpa).putLong(0x10)
                    .putLong(i == 2 ? 0x800 : 0x10).putLong(0x1000);
        }
        return b.array();
    }
}
