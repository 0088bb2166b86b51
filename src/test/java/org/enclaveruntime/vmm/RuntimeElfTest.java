package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeElfTest {
    private static final long LOW = GuestLayout.IMAGE_GPA;
    private static final long LIMIT = 8L << 20;

    private static byte[] good() {
        return TestGuests.elf(new byte[100], LOW, LOW + 4);
    }

    private static byte[] patched(Consumer<ByteBuffer> patch) {
        byte[] b = good();
        patch.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
        return b;
    }

    private static void refused(byte[] file, String expected) {
        EnclaveException e = assertThrows(EnclaveException.class, () -> RuntimeElf.parse(file, LOW, LIMIT));
        assertEquals(VmmErrors.INVALID_RUNTIME_ELF, e.code());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void acceptsAWellFormedExecutable() {
        RuntimeElf elf = RuntimeElf.parse(good(), LOW, LIMIT);
        assertEquals(LOW + 4, elf.entry());
        assertEquals(1, elf.segments().size());
        assertEquals(LOW + 0x1000, elf.imageEnd(), "100 file bytes + 64 bss, rounded to 4 KiB");
    }

    @Test
    void refusesEveryMalformedField() {
        refused(new byte[10], "shorter than an ELF header");
        refused(null, "missing");
        refused(patched(b -> b.put(0, (byte) 0)), "no ELF magic");
        refused(patched(b -> b.put(4, (byte) 1)), "EI_CLASS");
        refused(patched(b -> b.put(5, (byte) 2)), "EI_DATA");
        refused(patched(b -> b.putShort(16, (short) 3)), "ET_EXEC");
        refused(patched(b -> b.putShort(18, (short) 3)), "EM_X86_64");
        refused(patched(b -> b.putShort(54, (short) 32)), "e_phentsize");
        refused(patched(b -> b.putShort(56, (short) 0)), "e_phnum");
        refused(patched(b -> b.putLong(32, Long.MAX_VALUE)), "program headers");
        refused(patched(b -> b.putLong(32, 200)), "program headers");
        refused(patched(b -> b.putInt(64, 4)), "no PT_LOAD");
        refused(patched(b -> b.putLong(64 + 16, LOW + 0x1000)), "identity-mapped");
        refused(patched(b -> b.putLong(64 + 32, 1000)), "inconsistent");
        refused(patched(b -> b.putLong(64 + 8, Long.MAX_VALUE - 10)), "outside the");
        refused(patched(b -> b.putLong(64 + 8, 500).putLong(64 + 32, 100).putLong(64 + 40, 100)), "outside the");
        refused(patched(b -> b.putLong(64 + 16, 0x1000).putLong(64 + 24, 0x1000)), "outside the loadable");
        refused(patched(b -> b.putLong(64 + 40, LIMIT)), "outside the loadable");
        refused(patched(b -> b.putLong(64 + 40, Long.MAX_VALUE)), "outside the loadable");
        refused(patched(b -> b.putLong(64 + 16, -4096L).putLong(64 + 24, -4096L)), "outside the loadable");
        refused(patched(b -> b.putLong(24, LOW + 0x5000)), "entry point");
        refused(patched(b -> b.putInt(64 + 4, 7)), "writable and executable");
    }

    @Test
    void keepsEachSegmentsFlagsAndRefusesAPageThatWouldBeWritableAndExecutable() {
        assertEquals(5, RuntimeElf.parse(good(), LOW, LIMIT).segments().get(0).flags());
        refused(twoSegments(LOW + 0x800), "share a 4 KiB page that would be writable and executable");
        RuntimeElf apart = RuntimeElf.parse(twoSegments(LOW + 0x1000), LOW, LIMIT);
        assertEquals(java.util.List.of(5, 6), apart.segments().stream().map(RuntimeElf.Segment::flags).toList());
    }

    /** R+X code at LOW and R+W data at {@code dataGpa}, 0x100 bytes each. */
    private static byte[] twoSegments(long dataGpa) {
        ByteBuffer b = ByteBuffer.allocate(64 + 2 * 56 + 0x200).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1).putLong(LOW).putLong(64).putLong(0);
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 2);
        b.putShort((short) 64).putShort((short) 0).putShort((short) 0);
        b.putInt(1).putInt(5).putLong(176).putLong(LOW).putLong(LOW).putLong(0x100).putLong(0x100).putLong(0x1000);
        b.putInt(1).putInt(6).putLong(176 + 0x100).putLong(dataGpa).putLong(dataGpa).putLong(0x100).putLong(0x100)
                .putLong(0x1000);
        return b.array();
    }

    @Test
    void bootRefusesABadImageAndInvalidSettings() {
        var backing = org.enclaveruntime.memory.MemoryBacking.ORDINARY;
        EnclaveException e = assertThrows(EnclaveException.class, () -> VmBuilder.boot(new VmSpec(1, 16L << 20,
                new byte[3], false, null, 3, java.util.List.of(), backing)));
        assertEquals(VmmErrors.INVALID_RUNTIME_ELF, e.code());
        byte[] elf = TestGuests.elf(TestGuests.EXIT_7);
        for (VmSpec bad : new VmSpec[] {
                new VmSpec(0, 16L << 20, elf, false, null, 3, java.util.List.of(), backing),
                new VmSpec(1, (16L << 20) + 4096, elf, false, null, 3, java.util.List.of(), backing),
                new VmSpec(1, 16L << 20, elf, false, null, 2, java.util.List.of(), backing),
                new VmSpec(2, 16L << 20, elf, false, null, 3, java.util.List.of(0), backing),
                new VmSpec(1, 16L << 20, elf, false, null, 3, java.util.List.of(-1), backing),
                new VmSpec(1, 1L << 40, elf, false, null, 3, java.util.List.of(), backing)}) {
            EnclaveException x = assertThrows(EnclaveException.class, () -> VmBuilder.boot(bad), bad.toString());
            assertEquals(VmmErrors.INVALID_VM_SPEC, x.code(), x.getMessage());
        }
    }
}
