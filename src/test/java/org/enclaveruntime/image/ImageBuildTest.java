package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageBuildTest {
    @TempDir
    Path dir;

    @Test
    void gccBuiltRuntimeRoundTripsThroughAFile() throws Exception {
        Path elf = TestElf.compiled(dir);
        Path out = dir.resolve("image.bin");
        EnclaveImage built = new ImageBuilder().runtime(elf).name("demo").version("1.2.3").writeTo(out);
        EnclaveImage read = EnclaveImage.open(out);

        assertArrayEquals(Files.readAllBytes(elf), bytes(read.runtimeElf()));
        assertEquals(built.measurements(), read.measurements());
        assertEquals(ReferenceMeasurements.of(Files.readAllBytes(out)), ReferenceMeasurements.of(read.measurements()));
        assertEquals("demo", read.metadata().name());
        assertEquals("1.2.3", read.metadata().version());
        assertEquals(List.of(SectionType.RUNTIME, SectionType.METADATA),
                read.sections().stream().map(ImageSection::type).toList());
        for (ImageSection s : read.sections()) {
            assertEquals(0, s.offset() % 4096, s.type() + " is page-aligned");
        }
        assertEquals(Files.size(out), read.size());
        assertEquals(ReferenceMeasurements.sha384(Files.readAllBytes(elf)).length, 48);
        assertEquals(HexOf.sha384(Files.readAllBytes(elf)), read.metadata().inputs().get(0).sha384());
        assertEquals("runtime.elf", read.metadata().inputs().get(0).file());
        RuntimeElf runtime = read.runtime();
        assertTrue(runtime.entry() >= RuntimeElf.LOAD_BASE);
        assertTrue(read.signature().isEmpty());
        assertEquals("0".repeat(96), read.measurements().pcr8().hex());
        assertEquals("0".repeat(96), read.measurements().pcr2().hex());
    }

    @Test
    void loadedImageDoesNotChangeWhenTheFileIs() throws Exception {
        Path out = dir.resolve("image.bin");
        new ImageBuilder().runtime(TestElf.minimal(3000, 9), "rt.elf").writeTo(out);
        EnclaveImage loaded = EnclaveImage.load(out);
        byte[] before = bytes(loaded.runtimeElf());
        try (var ch = java.nio.channels.FileChannel.open(out, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xcc}), 4096 + 1000); // in place, same inode
        }
        assertArrayEquals(before, bytes(loaded.runtimeElf()));
        assertEquals(ImageErrors.HASH_MISMATCH, assertThrows(EnclaveException.class, () -> EnclaveImage.load(out)).code());
    }

    @Test
    void sameInputsGiveTheSameBytes() {
        byte[] elf = TestElf.minimal(3000, 1);
        byte[] a = new ImageBuilder().runtime(elf, "rt.elf").name("n").version("v").toBytes();
        byte[] b = new ImageBuilder().runtime(elf, "rt.elf").name("n").version("v").toBytes();
        assertArrayEquals(a, b);
        assertFalse(new String(a, StandardCharsets.ISO_8859_1).contains("source_date_epoch"));
    }

    @Test
    void sourceDateEpochIsRecordedAndChangesOnlyMetadata() throws Exception {
        byte[] elf = TestElf.minimal(3000, 1);
        EnclaveImage plain = EnclaveImage.parse(new ImageBuilder().runtime(elf, "rt.elf").toBytes());
        byte[] dated1 = new ImageBuilder().runtime(elf, "rt.elf").sourceDateEpoch("1700000000").toBytes();
        byte[] dated2 = new ImageBuilder().runtime(elf, "rt.elf").sourceDateEpoch("1700000000").toBytes();
        assertArrayEquals(dated1, dated2);
        EnclaveImage dated = EnclaveImage.parse(dated1);
        assertEquals(1700000000L, dated.metadata().sourceDateEpoch());
        assertEquals("2023-11-14T22:13:20Z", java.time.Instant.ofEpochSecond(1700000000L).toString());
        assertEquals(java.time.Instant.ofEpochSecond(1700000000L).toString(), dated.metadata().buildTime());
        assertNull(plain.metadata().sourceDateEpoch());
        // Metadata is not measured: a timestamp or a new name does not move the registers.
        assertEquals(plain.measurements(), dated.measurements());
        assertNotEquals(plain.sections().get(1).sha384(), dated.sections().get(1).sha384());
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> new ImageBuilder().sourceDateEpoch("yesterday"));
        assertEquals(ImageErrors.BAD_BUILD_INPUT, e.code());
    }

    @Test
    void kernelInitrdAndCmdlineFeedTheDocumentedRegisters() throws Exception {
        Path kernel = Files.write(dir.resolve("bzImage"), "not really a kernel".getBytes());
        Path initrd = Files.write(dir.resolve("initrd.img"), new byte[5000]);
        byte[] bytes = new ImageBuilder().runtime(TestElf.minimal(100, 2), "rt.elf").kernel(kernel).initrd(initrd)
                .cmdline("console=ttyS0 quiet").toBytes();
        EnclaveImage image = EnclaveImage.parse(bytes);
        assertEquals(List.of(SectionType.RUNTIME, SectionType.KERNEL, SectionType.CMDLINE, SectionType.INITRD,
                SectionType.METADATA), image.sections().stream().map(ImageSection::type).toList());
        assertEquals(ReferenceMeasurements.of(bytes), ReferenceMeasurements.of(image.measurements()));
        assertNotEquals(image.measurements().pcr0(), image.measurements().pcr1());
        assertNotEquals(Sha384.zero(), image.measurements().pcr2());
        assertEquals("console=ttyS0 quiet", new String(bytes(image.content(SectionType.CMDLINE).orElseThrow()), StandardCharsets.US_ASCII));
    }

    @Test
    void headerDefaultsAndFit() {
        byte[] elf = TestElf.minimal(100, 3);
        EnclaveImage image = EnclaveImage.parse(new ImageBuilder().runtime(elf, "rt").memoryMib(128).vcpuCount(4)
                .toBytes());
        assertEquals(128, image.defaultMemoryMib());
        assertEquals(4, image.defaultVcpuCount());
        long needed = image.runtime().imageEnd() + 4 * 65536;
        assertEquals(needed, image.requiredMemoryBytes(4));
        image.requireFits(needed);
        EnclaveException e = assertThrows(EnclaveException.class, () -> image.requireFits(needed - 1));
        assertEquals(ImageErrors.DOES_NOT_FIT, e.code());
        assertTrue(e.getMessage().contains("needs at least 2 MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("256 KiB of vCPU stacks"), e.getMessage());
        EnclaveException small = assertThrows(EnclaveException.class,
                () -> new ImageBuilder().runtime(elf, "rt").memoryMib(2).vcpuCount(1024).toBytes());
        assertEquals(ImageErrors.DOES_NOT_FIT, small.code());
    }

    @Test
    void builderRefusesBadInputsWithTheirName() {
        byte[] elf = TestElf.minimal(100, 4);
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().toBytes());
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().runtime(dir.resolve("missing.elf")));
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().runtime(elf, "rt").cmdline("a").toBytes());
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().vcpuCount(0));
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().memoryMib(1));
        assertCode(ImageErrors.BAD_BUILD_INPUT, () -> new ImageBuilder().name(" "));

        byte[] notElf = "#!/bin/sh\necho hello\n".repeat(10).getBytes();
        EnclaveException e = assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(notElf, "x.sh").toBytes());
        assertTrue(e.getMessage().contains("x.sh") && e.getMessage().contains("not an ELF"), e.getMessage());
        byte[] dyn = elf.clone();
        dyn[16] = 3; // ET_DYN
        assertTrue(assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(dyn, "pie").toBytes())
                .getMessage().contains("ET_EXEC"));
        byte[] arm = elf.clone();
        arm[18] = (byte) 183; // EM_AARCH64
        assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(arm, "arm").toBytes());
        byte[] elf32 = elf.clone();
        elf32[4] = 1;
        assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(elf32, "32").toBytes());
        byte[] noLoad = elf.clone();
        noLoad[TestElf.EHDR] = 4; // PT_NOTE
        assertTrue(assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(noLoad, "n").toBytes())
                .getMessage().contains("PT_LOAD"));
        byte[] low = elf.clone();
        ByteBuffer.wrap(low).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(TestElf.EHDR + 16, 0x8000)
                .putLong(TestElf.EHDR + 24, 0x8000);
        assertTrue(assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(low, "l").toBytes())
                .getMessage().contains("below 1 MiB"));
        byte[] twice = elf.clone(); // a second PT_LOAD, over the code bytes, at the same addresses as the first
        ByteBuffer t = ByteBuffer.wrap(twice).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        t.putShort(56, (short) 2);
        t.put(TestElf.EHDR + TestElf.PHDR, twice, TestElf.EHDR, TestElf.PHDR);
        assertTrue(assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(twice, "t").toBytes())
                .getMessage().contains("overlapping PT_LOAD"));
        byte[] cut = Arrays.copyOf(elf, 100);
        assertCode(ImageErrors.BAD_RUNTIME, () -> new ImageBuilder().runtime(cut, "cut").toBytes());
    }

    static EnclaveException assertCode(org.enclaveruntime.errors.ErrorCode code, org.junit.jupiter.api.function.Executable run) {
        EnclaveException e = assertThrows(EnclaveException.class, run);
        assertEquals(code, e.code(), e.getMessage());
        return e;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static final class HexOf {
        static String sha384(byte[] data) throws Exception {
            return java.util.HexFormat.of().formatHex(ReferenceMeasurements.sha384(data));
        }
    }
}
