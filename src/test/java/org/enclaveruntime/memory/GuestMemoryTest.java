package org.enclaveruntime.memory;

import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestMemoryTest {
    private static final long SIZE = 4L << 20;

    @Test
    void readsWhatItWrote() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            m.writeU8(0, 0xAB);
            m.writeU16(2, 0xBEEF);
            m.writeU32(4, 0xDEADBEEFL);
            m.writeU64(SIZE - 8, 0x0123456789ABCDEFL);
            assertEquals(0xAB, m.readU8(0));
            assertEquals(0xBEEF, m.readU16(2));
            assertEquals(0xDEADBEEFL, m.readU32(4));
            assertEquals(0x0123456789ABCDEFL, m.readU64(SIZE - 8));
            assertEquals(0xEF, m.readU8(SIZE - 8), "little-endian");
            byte[] data = {1, 2, 3, 4, 5};
            m.write(0x1000, data, 1, 3);
            byte[] back = new byte[3];
            m.read(0x1000, back, 0, 3);
            assertArrayEquals(new byte[] {2, 3, 4}, back);
            ByteBuffer buffer = ByteBuffer.allocate(3);
            m.read(0x1000, buffer);
            assertEquals(3, buffer.position());
            ByteBuffer direct = ByteBuffer.allocateDirect(2).put((byte) 9).put((byte) 8).flip();
            m.write(0x2000, direct);
            assertEquals(0x0809, m.readU16(0x2000));
            m.zero(0x1000, 3);
            assertEquals(0, m.readU32(0x1000) & 0xffffff);
        }
    }

    @Test
    void everyAccessIsBoundsChecked() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            assertThrows(GuestAddressException.class, () -> m.readU8(SIZE));
            assertThrows(GuestAddressException.class, () -> m.readU8(-1));
            assertThrows(GuestAddressException.class, () -> m.readU16(SIZE - 1));
            assertThrows(GuestAddressException.class, () -> m.readU32(SIZE - 3));
            assertThrows(GuestAddressException.class, () -> m.readU64(SIZE - 7));
            assertThrows(GuestAddressException.class, () -> m.writeU64(Long.MAX_VALUE, 0));
            assertThrows(GuestAddressException.class, () -> m.writeU64(Long.MAX_VALUE - 3, 0));
            assertThrows(GuestAddressException.class, () -> m.writeU32(Long.MIN_VALUE, 0));
            assertThrows(GuestAddressException.class, () -> m.zero(8, Long.MAX_VALUE));
            assertThrows(GuestAddressException.class, () -> m.zero(Long.MAX_VALUE, Long.MAX_VALUE));
            assertThrows(GuestAddressException.class, () -> m.zero(0, -1));
            assertThrows(GuestAddressException.class, () -> m.write(SIZE - 2, new byte[3], 0, 3));
            assertThrows(GuestAddressException.class, () -> m.read(SIZE - 2, ByteBuffer.allocate(3)));
            assertThrows(IndexOutOfBoundsException.class, () -> m.read(0, new byte[3], 2, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> m.read(0, new byte[3], Integer.MAX_VALUE, 2));
            GuestAddressException e = assertThrows(GuestAddressException.class, () -> m.readU64(SIZE - 4));
            assertEquals(SIZE - 4, e.gpa());
            assertTrue(e.getMessage().contains("0x3ffffc"), e.getMessage());
            assertTrue(m.contains(SIZE - 8, 8));
            assertFalse(m.contains(Long.MAX_VALUE, 1));
            m.zero(SIZE, 0);
        }
    }

    @Test
    void sizeMustBeAPageMultiple() {
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> GuestMemory.create(4096 + 1, MemoryBacking.ORDINARY));
        assertEquals(MemoryErrors.GUEST_MEMORY_SIZE, e.code());
        assertThrows(IllegalArgumentException.class, () -> MemoryBacking.hugetlb(4096));
    }

    @Test
    void closeZeroesEveryByteBeforeTheMemoryIsReturned() {
        GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY);
        byte[] pattern = new byte[8192];
        java.util.Arrays.fill(pattern, (byte) 0x5A);
        m.write(0, pattern, 0, pattern.length);
        m.write(SIZE / 2 + 100, pattern, 0, 300);
        m.writeU64(SIZE - 8, -1L);
        int dup = m.dupMemfd();
        assertTrue(dup >= 0);
        try {
            m.close();
            m.close();
            assertThrows(IllegalStateException.class, () -> m.readU8(0));
            long address = Native.mmap(0, SIZE, Native.PROT_READ, Native.MAP_SHARED, dup, 0);
            assertNotEquals(Native.MAP_FAILED, address);
            try {
                Pointer p = Runtime.getSystemRuntime().getMemoryManager().newPointer(address, SIZE);
                byte[] chunk = new byte[1 << 16];
                long nonZero = 0;
                for (long off = 0; off < SIZE; off += chunk.length) {
                    p.get(off, chunk, 0, chunk.length);
                    for (byte b : chunk) {
                        nonZero += b != 0 ? 1 : 0;
                    }
                }
                assertEquals(0, nonZero, "bytes left non-zero after close");
            } finally {
                LibC.INSTANCE.munmap(address, SIZE);
            }
        } finally {
            LibC.INSTANCE.close(dup);
        }
    }

    @Test
    void aViewSeesGuestMemoryBothWaysWithoutACopy() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            ByteBuffer view = m.view(0x3000, 16);
            assertTrue(view.isDirect());
            assertEquals(java.nio.ByteOrder.LITTLE_ENDIAN, view.order());
            assertEquals(16, view.capacity());
            m.writeU32(0x3004, 0xCAFEBABEL);
            assertEquals(0xCAFEBABE, view.getInt(4), "a guest write shows in the view");
            view.putShort(14, (short) 0x1234);
            assertEquals(0x1234, m.readU16(0x300E), "a view write shows in guest memory");
            ByteBuffer last = m.view(SIZE - 3, 3);
            last.put(2, (byte) 0x7F);
            assertEquals(0x7F, m.readU8(SIZE - 1));
            assertEquals(0, m.view(SIZE, 0).capacity());
            ByteBuffer copy = ByteBuffer.allocateDirect(2);
            m.read(0x300E, copy);
            assertEquals(0x1234, copy.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff);
        }
    }

    @Test
    void viewsAreBoundsChecked() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            assertThrows(GuestAddressException.class, () -> m.view(-1, 1));
            assertThrows(GuestAddressException.class, () -> m.view(0, -1));
            assertThrows(GuestAddressException.class, () -> m.view(SIZE, 1));
            assertThrows(GuestAddressException.class, () -> m.view(SIZE - 15, 16));
            assertThrows(GuestAddressException.class, () -> m.view(16, Long.MAX_VALUE));
            assertThrows(GuestAddressException.class, () -> m.view(Long.MAX_VALUE, 2));
            assertThrows(GuestAddressException.class, () -> m.view(-16, 32), "wraps around 2^64");
            assertThrows(GuestAddressException.class, () -> m.view(Long.MIN_VALUE, 0));
            assertThrows(GuestAddressException.class, () -> m.readU16Acquire(SIZE - 1));
            assertThrows(GuestAddressException.class, () -> m.readU16Acquire(-2));
            assertThrows(GuestAddressException.class, () -> m.writeU16Release(SIZE, 0));
        }
        GuestMemory closed = GuestMemory.create(SIZE, MemoryBacking.ORDINARY);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.view(0, 1));
    }

    @Test
    void ringIndexAccessesReadWhatWasWritten() {
        try (GuestMemory m = GuestMemory.create(SIZE, MemoryBacking.ORDINARY)) {
            m.writeU16Release(0x10, 0xFFFE);
            assertEquals(0xFFFE, m.readU16(0x10));
            assertEquals(0xFFFE, m.readU16Acquire(0x10));
            GuestMemory.fullFence();
        }
    }

    /**
     * With no 2 MiB hugepages reserved, a hugetlb-backed guest RAM must fail to map (and say so with E410):
     * proof that the backing really asks for hugetlbfs pages. Skipped when hugepages are free, because
     * then it would succeed (tests must not reserve hugepages behind other users' backs).
     */
    @Test
    void hugetlbBackingReallyAsksForHugepages() throws Exception {
        String meminfo = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/meminfo"));
        java.util.regex.Matcher free = java.util.regex.Pattern.compile("HugePages_Free:\\s+(\\d+)").matcher(meminfo);
        org.junit.jupiter.api.Assumptions.assumeTrue(free.find() && free.group(1).equals("0"),
                "SKIPPED: 2 MiB hugepages are free on this host");
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> GuestMemory.create(4L << 20, MemoryBacking.hugetlb(2L << 20)));
        assertEquals(MemoryErrors.GUEST_MEMORY, e.code());
        assertTrue(e.getMessage().contains("Hugetlb"), e.getMessage());
    }
}
