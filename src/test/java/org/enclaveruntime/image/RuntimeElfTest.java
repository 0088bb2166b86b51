package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.RuntimeElf.Access;
import org.enclaveruntime.image.RuntimeElf.Segment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static org.enclaveruntime.image.TestElf.EHDR;
import static org.enclaveruntime.image.TestElf.PHDR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime ELF rules of docs/image-format.md, one by one, on the parser that `image verify` and the boot
 * share (RuntimeElfDifferentialTest shows that they do share it).
 */
class RuntimeElfTest {
    private static final int TEXT = EHDR;
    private static final int DATA = EHDR + PHDR;
    private static final int STACK = EHDR + 2 * PHDR;

    @TempDir
    Path dir;

    private static byte[] patched(Consumer<ByteBuffer> patch) {
        byte[] b = TestElf.twoSegments();
        patch.accept(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
        return b;
    }

    private static RuntimeElf parse(byte[] elf) {
        return RuntimeElf.parse(ByteBuffer.wrap(elf), "t.elf");
    }

    private static void refused(byte[] elf, String expected) {
        EnclaveException e = assertThrows(EnclaveException.class, () -> parse(elf));
        assertEquals(ImageErrors.BAD_RUNTIME, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith("t.elf ") && e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void returnsTheSegmentsWithTheirAccessTheEntryAndTheEnd() {
        byte[] file = TestElf.twoSegments();
        RuntimeElf elf = parse(file);
        assertEquals(TestElf.ENTRY, elf.entry());
        assertEquals(List.of(
                new Segment(0, 0, TestElf.TEXT, TestElf.TEXT_SIZE, TestElf.TEXT_SIZE, Set.of(Access.READ, Access.EXECUTE)),
                new Segment(1, TestElf.TEXT_SIZE, TestElf.DATA, TestElf.DATA_FILE_SIZE, TestElf.DATA_MEM_SIZE,
                        Set.of(Access.READ, Access.WRITE))), elf.segments());
        Segment data = elf.segments().get(1);
        assertTrue(data.readable() && data.writable() && !data.executable());
        assertEquals(TestElf.DATA + 0x2000, elf.imageEnd(), "data ends at +0x1040, rounded up to a page");
        ByteBuffer bytes = elf.fileBytes(data);
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        assertArrayEquals(Arrays.copyOfRange(file, TestElf.TEXT_SIZE, TestElf.TEXT_SIZE + TestElf.DATA_FILE_SIZE), copy);
    }

    @Test
    void readsWhatGccLinks() throws Exception {
        byte[] file = Files.readAllBytes(TestElf.compiled(dir));
        RuntimeElf elf = parse(file);
        assertTrue(elf.segments().stream().anyMatch(s -> s.executable() && !s.writable()), elf.segments().toString());
        assertTrue(elf.segments().stream().noneMatch(s -> s.writable() && s.executable()), elf.segments().toString());
    }

    @Test
    void skipsEmptyLoadSegmentsAndOtherTypes() {
        // GNU ld gives an empty output section's segment p_paddr 0; it loads nothing, so it is not looked at.
        RuntimeElf elf = parse(patched(b -> TestElf.programHeader(b, 2, 1, 0xFFFF, 0, 0, 0, 0)));
        assertEquals(2, elf.segments().size());
        assertEquals(2, parse(patched(b -> b.putInt(STACK, 4))).segments().size(), "PT_NOTE");
    }

    @Test
    void refusesEveryBrokenHeaderRule() {
        refused(new byte[10], "shorter than an ELF64 header");
        refused(Arrays.copyOf(TestElf.twoSegments(), 63), "shorter than an ELF64 header");
        refused(patched(b -> b.put(0, (byte) 0)), "no \\x7fELF magic");
        refused(patched(b -> b.put(4, (byte) 1)), "EI_CLASS = 1");
        refused(patched(b -> b.put(5, (byte) 2)), "EI_DATA = 2");
        refused(patched(b -> b.put(6, (byte) 0)), "EI_VERSION = 0");
        refused(patched(b -> b.putShort(16, (short) 3)), "ET_EXEC");
        refused(patched(b -> b.putShort(18, (short) 183)), "e_machine = 183");
        refused(patched(b -> b.putShort(54, (short) 32)), "e_phentsize");
        refused(patched(b -> b.putShort(56, (short) 0)), "0 program headers");
        refused(patched(b -> b.putShort(56, (short) 65)), "65 program headers");
        refused(patched(b -> b.putLong(32, Long.MAX_VALUE)), "outside the file");
        refused(patched(b -> b.putLong(32, -56)), "outside the file");
        refused(patched(b -> b.putLong(32, TestElf.TEXT_SIZE + TestElf.DATA_FILE_SIZE - 2 * PHDR)), "outside the file");
        refused(patched(b -> b.putInt(TEXT, 4).putInt(DATA, 4)), "no PT_LOAD segment");
        refused(patched(b -> b.putLong(24, TestElf.DATA + 4)), "outside every executable");
        refused(patched(b -> b.putLong(24, TestElf.TEXT + TestElf.TEXT_SIZE)), "outside every executable");
        refused(patched(b -> b.putLong(24, TestElf.TEXT - 1)), "outside every executable");
        refused(patched(b -> b.putLong(24, -1)), "outside every executable");
    }

    @Test
    void refusesEveryBrokenSegmentRule() {
        refused(patched(b -> b.putInt(DATA + 4, 0x10006)), "p_flags 0x10006");
        refused(patched(b -> b.putLong(DATA + 32, 0x2000)), "p_filesz 8192 larger than p_memsz 4160");
        refused(patched(b -> b.putLong(DATA + 32, -1)), "larger than p_memsz");
        refused(patched(b -> b.putLong(DATA + 32, TestElf.DATA_FILE_SIZE + 1)), "outside the file");
        refused(patched(b -> b.putLong(DATA + 8, Long.MAX_VALUE - 10)), "outside the file");
        refused(patched(b -> b.putLong(DATA + 8, -0x20L)), "outside the file");
        refused(patched(b -> b.putLong(DATA + 16, TestElf.DATA + 0x1000)), "p_vaddr 0x102000 different from p_paddr");
        refused(patched(b -> b.putLong(DATA + 16, 0x1000).putLong(DATA + 24, 0x1000)), "below 1 MiB");
        refused(patched(b -> b.putLong(DATA + 16, -4096L).putLong(DATA + 24, -4096L)), "beyond 2^48");
        refused(patched(b -> b.putLong(DATA + 16, 1L << 48).putLong(DATA + 24, 1L << 48)), "beyond 2^48");
        refused(patched(b -> b.putLong(DATA + 40, (1L << 48) - TestElf.DATA + 1)), "beyond 2^48");
        refused(patched(b -> b.putLong(DATA + 40, Long.MAX_VALUE)), "beyond 2^48");
        refused(patched(b -> b.putLong(DATA + 16, TestElf.DATA + 0x10).putLong(DATA + 24, TestElf.DATA + 0x10)),
                "not on a 4 KiB page boundary");
        refused(patched(b -> b.putLong(DATA + 16, TestElf.TEXT).putLong(DATA + 24, TestElf.TEXT)),
                "overlapping PT_LOAD segments 0 [0x100000, 0x100200) and 1 [0x100000, 0x101040)");
        refused(patched(b -> b.putLong(TEXT + 40, 0x1001)), "overlapping PT_LOAD segments 0");
        // The same program header twice: the second copy overlaps the first.
        refused(patched(b -> b.put(STACK, b.array(), TEXT, PHDR)), "overlapping PT_LOAD segments 0");
    }

    @Test
    void fitsBelowTheStacksOrSaysHowMuchMemoryItNeeds() {
        RuntimeElf elf = parse(TestElf.twoSegments());
        long stacks = 3 * 64 * 1024;
        elf.requireFits(elf.imageEnd() + stacks, elf.imageEnd());
        long ram = elf.imageEnd() + stacks - 1;
        EnclaveException e = assertThrows(EnclaveException.class, () -> elf.requireFits(ram, ram - stacks));
        assertEquals(ImageErrors.DOES_NOT_FIT, e.code());
        long needed = elf.imageEnd() + stacks;
        assertTrue(e.getMessage().startsWith("t.elf needs at least " + ((needed + (1 << 20) - 1) >> 20) + " MiB ("
                + needed + " bytes: the runtime ends at 0x" + Long.toHexString(elf.imageEnd()) + ", then 192 KiB"),
                e.getMessage());
    }

    @Test
    void fileBytesOnlyForItsOwnSegments() {
        RuntimeElf elf = parse(TestElf.twoSegments());
        Segment foreign = new Segment(0, 0, TestElf.TEXT, 1 << 20, 1 << 20, Set.of());
        assertThrows(IllegalArgumentException.class, () -> elf.fileBytes(foreign));
    }
}
