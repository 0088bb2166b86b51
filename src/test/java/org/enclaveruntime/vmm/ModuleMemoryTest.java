package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MODMEM device of docs/module-runtime.md, section 1, on plain guest memory laid out as for a VM: every
 * status a request can get, the page-table entries a MAP and an UNMAP leave (read back as the CPU walks
 * them), the copy and the scrub, and crash attribution.
 */
class ModuleMemoryTest {
    private static final long RAM = 64L << 20;
    private static final int VCPUS = 2;
    private static final long PAGE = 0x1000;
    private static final long P = 1, W = 2, U = 4, NX = 1L << 63;
    /** Free RAM after the test image (text, rodata, data at 1 MiB + 0, 4, 8 KiB): user RW. */
    private static final long HEAP = GuestLayout.IMAGE_GPA + 0x10000;
    private static final long REQUEST = HEAP;
    private static final long SOURCE = HEAP + 0x1000;
    private static final int TAG = 7;

    private GuestMemory m;
    private GuestLog log;
    private ModuleMemory modmem;
    private ModuleArena arena;

    @BeforeEach
    void layOut() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(GuestLayoutTest.twoSegmentElf()), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, VCPUS));
        m = GuestMemory.create(RAM, MemoryBacking.ORDINARY);
        GuestLayout.SystemArea layout = GuestLayout.writeSystemArea(m, VCPUS, false, RAM, elf, 3);
        arena = layout.arena();
        log = new GuestLog();
        modmem = new ModuleMemory(m, layout, log);
    }

    @AfterEach
    void close() {
        log.close();
        m.close();
    }

    /** Writes a request at {@code at} (status preset to 0xFFFFFFFF) and hands it to the device. */
    private int request(long at, int op, int rights, long dst, long length, long src, int tag) {
        m.writeU32(at + ModuleMemory.OFFSET_OP, op);
        m.writeU32(at + ModuleMemory.OFFSET_RIGHTS, rights);
        m.writeU64(at + ModuleMemory.OFFSET_DST, dst);
        m.writeU64(at + ModuleMemory.OFFSET_LENGTH, length);
        m.writeU64(at + ModuleMemory.OFFSET_SRC, src);
        m.writeU32(at + ModuleMemory.OFFSET_TAG, tag);
        m.writeU32(at + ModuleMemory.OFFSET_STATUS, 0xFFFF_FFFFL);
        for (int i = 0; i < ModuleMemory.LABEL_BYTES; i++) {
            m.writeU8(at + ModuleMemory.OFFSET_LABEL + i, i + 1);
        }
        modmem.write(0, 0, 4, at);
        return (int) m.readU32(at + ModuleMemory.OFFSET_STATUS);
    }

    private int map(long dst, long length, long src, int rights, int tag) {
        return request(REQUEST, ModuleMemory.OP_MAP, rights, dst, length, src, tag);
    }

    private int unmap(long dst, long length, int tag) {
        return request(REQUEST, ModuleMemory.OP_UNMAP, 0, dst, length, 0, tag);
    }

    private long page(int i) {
        return arena.gpa() + i * PAGE;
    }

    private byte[] bytes(long gpa, int length) {
        byte[] b = new byte[length];
        m.read(gpa, b, 0, length);
        return b;
    }

    @Test
    void theArenaIsInBootInfoJustBelowTheStacksAndNotPresent() {
        assertEquals(3, m.readU32(GuestLayout.BOOT_INFO_GPA + 4), "boot info version");
        assertEquals(arena.gpa(), m.readU64(GuestLayout.BOOT_INFO_GPA + 304));
        assertEquals(arena.size(), m.readU64(GuestLayout.BOOT_INFO_GPA + 312));
        assertEquals(RAM / 4, arena.size(), "a quarter of 64 MiB");
        assertEquals(GuestLayout.stacksBottom(RAM, VCPUS) & -0x200000L, arena.end(), "ends at the stacks' 2 MiB");
        for (long gpa = arena.gpa(); gpa < arena.end(); gpa += PAGE) {
            assertEquals(0, GuestLayoutTest.leaf(m, gpa), "arena page 0x" + Long.toHexString(gpa));
        }
        assertEquals(P | W | U | NX, GuestLayoutTest.leaf(m, arena.gpa() - PAGE), "RAM below the arena");
        assertEquals(P | W | U | NX, GuestLayoutTest.leaf(m, arena.end()), "RAM above the arena");
    }

    @Test
    void mapCopiesTheSourceAndGivesEachPageItsRights() {
        byte[] code = new byte[3 * (int) PAGE];
        for (int i = 0; i < code.length; i++) {
            code[i] = (byte) (i * 7 + 3);
        }
        m.write(SOURCE, code, 0, code.length);
        assertEquals(0, map(page(0), 2 * PAGE, SOURCE, ModuleMemory.R | ModuleMemory.X, TAG));
        assertEquals(0, map(page(2), PAGE, SOURCE + 2 * PAGE, ModuleMemory.R | ModuleMemory.W, TAG));
        assertEquals(0, map(page(3), PAGE, SOURCE, ModuleMemory.R, 0));
        assertArrayEquals(code, bytes(page(0), code.length));
        assertEquals(P | U, GuestLayoutTest.leaf(m, page(0)), "R+X");
        assertEquals(P | U, GuestLayoutTest.leaf(m, page(1)), "R+X");
        assertEquals(P | W | U | NX, GuestLayoutTest.leaf(m, page(2)), "R+W");
        assertEquals(P | U | NX, GuestLayoutTest.leaf(m, page(3)), "R");
        assertEquals(0, GuestLayoutTest.leaf(m, page(4)), "the page after the ranges");
        assertEquals(ModuleMemory.R | ModuleMemory.X, modmem.rightsOf(page(1)));
    }

    @Test
    void mapWithoutSourceFillsZerosAndUnmapScrubs() {
        m.write(page(5), new byte[] {1, 2, 3}, 0, 3); // what a stale write through an old translation leaves
        assertEquals(0, map(page(5), PAGE, 0, ModuleMemory.R | ModuleMemory.W, TAG));
        assertArrayEquals(new byte[(int) PAGE], bytes(page(5), (int) PAGE));
        m.write(page(5), new byte[] {9, 9, 9}, 0, 3); // the module's own data
        assertEquals(0, unmap(page(5), PAGE, TAG));
        assertEquals(0, GuestLayoutTest.leaf(m, page(5)), "not present after UNMAP");
        assertArrayEquals(new byte[(int) PAGE], bytes(page(5), (int) PAGE), "scrubbed");
        assertEquals(0, map(page(5), PAGE, 0, ModuleMemory.R, TAG), "the range can be mapped again");
    }

    @Test
    void badOpsAndRightsAreStatusOne() {
        assertEquals(ModuleMemory.E_OP, request(REQUEST, 0, ModuleMemory.R, page(0), PAGE, 0, 0));
        assertEquals(ModuleMemory.E_OP, request(REQUEST, 3, ModuleMemory.R, page(0), PAGE, 0, 0));
        for (int rights : new int[] {0, ModuleMemory.W, ModuleMemory.X, ModuleMemory.W | ModuleMemory.X,
                ModuleMemory.R | ModuleMemory.W | ModuleMemory.X, ModuleMemory.R | 8, -1}) {
            assertEquals(ModuleMemory.E_OP, map(page(0), PAGE, 0, rights, 0), "rights " + rights);
        }
        assertEquals(0, GuestLayoutTest.leaf(m, page(0)), "nothing mapped");
    }

    @Test
    void rangesOutsideTheArenaOrMisalignedAreStatusTwo() {
        long[][] cases = {
            {page(0) + 8, PAGE}, {page(0), 0}, {page(0), 100}, {page(0), PAGE + 1}, {arena.gpa() - PAGE, PAGE},
            {arena.gpa() - PAGE, 2 * PAGE}, {arena.end() - PAGE, 2 * PAGE}, {arena.end(), PAGE},
            {page(0), -PAGE}, {page(1), Long.MIN_VALUE}, {-PAGE, 2 * PAGE}, {0, PAGE}, {HEAP, PAGE},
        };
        for (long[] c : cases) {
            String what = "dst 0x" + Long.toHexString(c[0]) + " length 0x" + Long.toHexString(c[1]);
            assertEquals(ModuleMemory.E_RANGE, map(c[0], c[1], 0, ModuleMemory.R, 0), "MAP " + what);
            assertEquals(ModuleMemory.E_RANGE, unmap(c[0], c[1], 0), "UNMAP " + what);
        }
        assertEquals(0, map(arena.end() - PAGE, PAGE, 0, ModuleMemory.R, 0), "the arena's last page");
    }

    @Test
    void sourcesOutsideUserReadWriteRamAreStatusThree() {
        assertEquals(0, map(page(0), PAGE, 0, ModuleMemory.R | ModuleMemory.X, TAG));
        assertEquals(0, map(page(1), PAGE, 0, ModuleMemory.R | ModuleMemory.W, TAG));
        long[] bad = {
            GuestLayout.BOOT_INFO_GPA, GuestLayout.PAGE_TABLES_GPA, GuestLayout.IDT_GPA, GuestLayout.FAULT_STUB_GPA,
            GuestLayout.GDT_GPA, GuestLayout.tss(0), GuestLayout.FLUSH_STACKS_GPA, GuestLayout.FAULT_STACKS_GPA,
            PAGE, // null page: not mapped
            GuestLayout.IMAGE_GPA, // text
            GuestLayout.IMAGE_GPA + PAGE, // rodata
            GuestLayout.IMAGE_GPA + PAGE - 8, // straddles text and rodata
            GuestLayout.stackGuard(RAM, 0), GuestLayout.stackGuard(RAM, 1) - 16, // a guard, or running into one
            RAM - 16, RAM, RAM + PAGE, // the device window
            -PAGE, Long.MAX_VALUE - 10, // wrap-around
            page(0), // mapped R+X
            page(0) + 0x800, // R+X, then R+W
            page(2), page(1) + 8, // not mapped, or running into a page that is not
        };
        for (long src : bad) {
            assertEquals(ModuleMemory.E_SOURCE, map(page(10), PAGE, src, ModuleMemory.R, 0),
                    "src 0x" + Long.toHexString(src));
        }
        assertEquals(0, GuestLayoutTest.leaf(m, page(10)), "nothing mapped");
        long[] good = {GuestLayout.CONTROL_GPA, GuestLayout.IMAGE_GPA + 2 * PAGE + 8, HEAP + 3,
                GuestLayout.stackTop(RAM, 1) - PAGE, page(1)};
        int i = 10;
        for (long src : good) {
            assertEquals(0, map(page(i++), PAGE, src, ModuleMemory.R, 0), "src 0x" + Long.toHexString(src));
        }
    }

    @Test
    void aSourceOverlappingTheDestinationIsStatusThree() {
        assertEquals(0, map(page(1), PAGE, 0, ModuleMemory.R | ModuleMemory.W, 0));
        // page 1 is a valid source, but not for a range that includes it (it is also present: 3 comes first).
        assertEquals(ModuleMemory.E_SOURCE, map(page(0), 2 * PAGE, page(1), ModuleMemory.R, 0));
    }

    @Test
    void pagesInTheWrongStateAreStatusFour() {
        assertEquals(0, map(page(0), 2 * PAGE, 0, ModuleMemory.R, TAG));
        assertEquals(ModuleMemory.E_STATE, map(page(1), 2 * PAGE, 0, ModuleMemory.R, TAG), "MAP over page 1");
        assertEquals(0, GuestLayoutTest.leaf(m, page(2)), "a refused MAP maps nothing");
        assertEquals(ModuleMemory.E_STATE, unmap(page(0), 2 * PAGE, TAG + 1), "UNMAP with another tag");
        assertEquals(ModuleMemory.E_STATE, unmap(page(0), 3 * PAGE, TAG), "UNMAP of a page not present");
        assertEquals(P | U | NX, GuestLayoutTest.leaf(m, page(0)), "a refused UNMAP unmaps nothing");
        assertEquals(P | U | NX, GuestLayoutTest.leaf(m, page(1)));
        assertEquals(0, unmap(page(0), 2 * PAGE, TAG));
    }

    @Test
    void requestsAtBadAddressesAreNotWrittenOrGetStatusFive() {
        for (long at : new long[] {HEAP + 4, GuestLayout.BOOT_INFO_GPA, GuestLayout.IMAGE_GPA + PAGE,
                GuestLayout.PAGE_TABLES_GPA, GuestLayout.IMAGE_GPA + 2 * PAGE - 8, page(0), RAM - 8, RAM, 0xFFFF_FFF8L}) {
            m.writeU32(HEAP + 4 + ModuleMemory.OFFSET_OP, ModuleMemory.OP_MAP); // a valid request, but misaligned
            m.writeU32(HEAP + 4 + ModuleMemory.OFFSET_RIGHTS, ModuleMemory.R);
            m.writeU64(HEAP + 4 + ModuleMemory.OFFSET_DST, page(0));
            m.writeU64(HEAP + 4 + ModuleMemory.OFFSET_LENGTH, PAGE);
            long from = Math.min(at, RAM - 256);
            byte[] before = bytes(from, 256);
            assertEquals(ModuleMemory.E_REQUEST, modmem.handle(0, at), "request at 0x" + Long.toHexString(at));
            assertArrayEquals(before, bytes(from, 256), "nothing written for a request at 0x" + Long.toHexString(at));
            assertEquals(0, GuestLayoutTest.leaf(m, page(0)), "nothing mapped");
        }
        assertEquals(0, map(page(4), PAGE, 0, ModuleMemory.R | ModuleMemory.W, 0));
        long inside = page(4) + 0x100;
        assertEquals(ModuleMemory.E_REQUEST, request(inside, ModuleMemory.OP_UNMAP, 0, page(4), PAGE, 0, 0));
        assertEquals(P | W | U | NX, GuestLayoutTest.leaf(m, page(4)), "still mapped");
        assertEquals(0, request(page(4), ModuleMemory.OP_MAP, ModuleMemory.R, page(5), PAGE, 0, 0),
                "a request in an arena page mapped W is fine");
        // A 16-bit write, or a 64-bit one, is no request at all.
        m.writeU32(REQUEST + ModuleMemory.OFFSET_STATUS, 0xFFFF_FFFFL);
        modmem.write(0, 0, 2, REQUEST);
        modmem.write(0, 0, 8, REQUEST);
        assertEquals(0xFFFF_FFFFL, m.readU32(REQUEST + ModuleMemory.OFFSET_STATUS), "untouched by odd widths");
        assertTrue(log.total() > 0, "refusals are logged");
    }

    @Test
    void crashesInModuleCodeNameTheModuleAndOffset() {
        assertEquals(0, map(page(8), PAGE, 0, ModuleMemory.R | ModuleMemory.W, 0));
        assertEquals(0, map(page(10), 2 * PAGE, 0, ModuleMemory.R | ModuleMemory.X, TAG));
        assertEquals(0, map(page(12), PAGE, 0, ModuleMemory.R | ModuleMemory.W, TAG));
        assertEquals(" in module 7 (MRENCLAVE 0102030405060708...) at module offset 0x1010",
                modmem.attribution(page(11) + 0x10));
        assertEquals(" in module 7 (MRENCLAVE 0102030405060708...) at module offset 0x2008",
                modmem.attribution(page(12) + 8));
        assertEquals("", modmem.attribution(page(8) + 8), "tag 0 is the runtime's");
        assertEquals("", modmem.attribution(page(9)), "not mapped");
        assertEquals("", modmem.attribution(GuestLayout.IMAGE_GPA), "the runtime image");
        assertEquals("", modmem.attribution(-1), "nowhere");
        assertEquals(0, unmap(page(10), 2 * PAGE, TAG));
        assertEquals(" in module 7 (MRENCLAVE 0102030405060708...) at module offset 0x8",
                modmem.attribution(page(12) + 8), "counted from the lowest range still mapped");
    }

    /**
     * MODMEM is rare, but a guest may still repeat it: MAP/UNMAP without a source and refused requests
     * allocate nothing (the thread's allocated bytes as HotSpot counts them; the bound is far below one
     * object per request).
     */
    @Test
    void requestsWithoutSourceAllocateNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        long tid = Thread.currentThread().getId();
        int rounds = 20_000;
        long[] growth = new long[2];
        for (int pass = 0; pass < 2; pass++) { // the first pass warms up
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < rounds; i++) {
                map(page(0), 2 * PAGE, 0, ModuleMemory.R | ModuleMemory.W, 0);
                unmap(page(0), 2 * PAGE, 0);
                map(page(0), PAGE, 0, ModuleMemory.W, 0);
                map(page(0), PAGE, GuestLayout.BOOT_INFO_GPA, ModuleMemory.R, 0);
                modmem.handle(0, HEAP + 4);
            }
            growth[pass] = threads.getThreadAllocatedBytes(tid) - before;
        }
        assertTrue(growth[1] < 16 * 1024, growth[1] + " bytes allocated for " + 5 * rounds + " requests");
    }

    @Test
    void aVmWithoutSpareTablesGetsASmallerArenaOrNone() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(GuestLayoutTest.twoSegmentElf()), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, VCPUS));
        java.util.List<IdentityMap.Range> ranges = new java.util.ArrayList<>(IdentityMap.imageRanges(elf.segments()));
        long big = GuestLayout.MAX_RAM;
        ModuleArena full = GuestLayout.moduleArena(big, 1, elf.imageEnd(), ranges);
        long spareAtMax = (GuestLayout.PAGE_TABLES_END - GuestLayout.PAGE_TABLES_GPA) / PAGE
                - IdentityMap.tablePages(big + GuestLayout.DEVICE_WINDOW_SIZE, ranges);
        assertEquals(Math.min(GuestLayout.MODULE_ARENA_MAX, spareAtMax * 0x200000), full.size(),
                "at the largest RAM only the spare tables count");
        assertTrue(full.size() < GuestLayout.MODULE_ARENA_MAX, "the budget is short at " + (big >> 30) + " GiB");
        // Many finely mapped regions leave no table at all: no arena, and the VM is not refused for it.
        for (long r = 0; r < 200; r++) {
            ranges.add(IdentityMap.Range.absent(r * 0x200000 + 0x1000, r * 0x200000 + 0x2000));
        }
        assertEquals(ModuleArena.NONE, GuestLayout.moduleArena(big, 1, elf.imageEnd(), ranges));
        assertEquals(ModuleArena.NONE, GuestLayout.moduleArena(4L << 20, 1, elf.imageEnd(), java.util.List.of()),
                "4 MiB: a quarter is less than 2 MiB");
        ModuleArena halfFree = GuestLayout.moduleArena(16L << 20, 1, 9L << 20, java.util.List.of());
        assertEquals(new ModuleArena(12L << 20, 2L << 20), halfFree, "at most half the RAM between image and stacks");
        assertEquals(ModuleArena.NONE, GuestLayout.moduleArena(16L << 20, 1, 11L << 20, java.util.List.of()),
                "3 MiB between image and stacks: half of it is less than 2 MiB");
    }
}
