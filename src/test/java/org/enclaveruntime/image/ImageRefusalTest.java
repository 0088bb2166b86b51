package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each way the reader refuses an image, with its code and a message that names the fault. */
class ImageRefusalTest {
    private static final byte[] GOOD = new ImageBuilder().runtime(TestElf.minimal(2000, 7), "rt.elf")
            .name("t").version("1").toBytes();

    @TempDir
    Path dir;

    private static RawImage good() {
        return new RawImage(GOOD);
    }

    private static EnclaveException refused(ErrorCode code, RawImage image, String... messageParts) {
        EnclaveException e = assertThrows(EnclaveException.class, () -> EnclaveImage.parse(image.bytes));
        assertEquals(code, e.code(), e.getMessage());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void theGoodImageIsAccepted() {
        EnclaveImage.parse(GOOD);
    }

    @Test
    void header() {
        refused(ImageErrors.BAD_HEADER, good().resize(10), "shorter than the 64-byte header");
        refused(ImageErrors.BAD_HEADER, good().putInt(0, 0x7f454c46), "not an enclave image");
        refused(ImageErrors.UNSUPPORTED_VERSION, good().putShort(8, 2).reseal(), "format version 2");
        refused(ImageErrors.BAD_HEADER, good().putShort(10, 128).reseal(), "header size 128");
        refused(ImageErrors.BAD_HEADER, good().putShort(14, 0).reseal(), "section count 0");
        refused(ImageErrors.BAD_HEADER, good().putShort(14, 7).reseal(), "section count 7");
        refused(ImageErrors.BAD_HEADER, good().putInt(16, 1).reseal(), "flags");
        refused(ImageErrors.BAD_HEADER, good().putInt(44, 1).reseal(), "reserved");
        refused(ImageErrors.BAD_HEADER, good().putInt(20, 0).reseal(), "vCPU count 0");
        refused(ImageErrors.BAD_HEADER, good().putInt(24, 1).reseal(), "memory 1 MiB");
    }

    @Test
    void crc() {
        refused(ImageErrors.CRC_MISMATCH, good().putInt(24, 128), "CRC-32C");
        RawImage flippedHash = good();
        flippedHash.bytes[RawImage.entryAt(0) + 30] ^= 1;
        refused(ImageErrors.CRC_MISMATCH, flippedHash);
    }

    @Test
    void layout() {
        int size = GOOD.length;
        refused(ImageErrors.BAD_LAYOUT, good().resize(size - 1), "truncated");
        refused(ImageErrors.BAD_LAYOUT, good().resize(size + 4096), "extended");
        refused(ImageErrors.BAD_LAYOUT, good().resize(100), "too short for the header and its 2-entry section table");
        int metadata = good().indexOf(SectionType.METADATA);
        int runtime = good().indexOf(SectionType.RUNTIME);
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(metadata) + 16, 1L << 40).reseal(),
                "outside the file");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(metadata) + 16, -1).reseal(),
                "18446744073709551615 bytes lies outside the file");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(metadata) + 8, Long.MAX_VALUE).reseal(),
                "outside the file");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(runtime) + 8, 0).reseal(), "overlaps");
        RawImage overlap = good();
        overlap.putLong(RawImage.entryAt(metadata) + 8, overlap.offset(runtime) + 16).reseal();
        refused(ImageErrors.BAD_LAYOUT, overlap, "overlaps");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(runtime) + 8, 4100).reseal(),
                "must start at 4096");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(RawImage.entryAt(runtime) + 16, 0).reseal(), "empty");
        refused(ImageErrors.BAD_LAYOUT, good().putLong(32, size + 10L).resize(size + 10).reseal(),
                "last section ends at " + size);
        RawImage padding = good();
        padding.bytes[4000] = 1;
        refused(ImageErrors.BAD_LAYOUT, padding, "padding byte at offset 4000");
    }

    @Test
    void sectionTypesAndSet() throws Exception {
        int metadata = good().indexOf(SectionType.METADATA);
        refused(ImageErrors.UNKNOWN_SECTION, good().putInt(RawImage.entryAt(metadata), 99).reseal(), "unknown type 99");
        refused(ImageErrors.UNKNOWN_SECTION, good().putInt(RawImage.entryAt(metadata) + 4, 1).reseal(), "flags");
        refused(ImageErrors.SECTION_SET, good().putInt(RawImage.entryAt(metadata), 1).reseal(), "appears twice");
        refused(ImageErrors.SECTION_SET, good().putInt(RawImage.entryAt(metadata), 4).putInt(RawImage.entryAt(0), 5)
                .reseal(), "comes after");
        refused(ImageErrors.SECTION_SET, good().putInt(RawImage.entryAt(0), 3).reseal(), "no RUNTIME section");
        refused(ImageErrors.SECTION_SET, good().putInt(RawImage.entryAt(metadata), 6).reseal(), "no METADATA");
        // Runtime and CMDLINE without KERNEL: the set is refused before content is looked at.
        refused(ImageErrors.SECTION_SET, good().putInt(RawImage.entryAt(metadata), 3).reseal(), "for a KERNEL");
    }

    @Test
    void hashes() throws Exception {
        RawImage content = good();
        content.bytes[(int) content.offset(0) + 200] ^= 0x40;
        refused(ImageErrors.HASH_MISMATCH, content, "RUNTIME section", "SHA-384");
        RawImage table = good();
        table.bytes[RawImage.entryAt(1) + 24] ^= 1;
        refused(ImageErrors.HASH_MISMATCH, table.reseal(), "METADATA");
    }

    @Test
    void content() throws Exception {
        RawImage elf = good();
        elf.bytes[(int) elf.offset(0) + 18] = 40; // e_machine ARM, hash re-sealed: only the ELF check stands
        refused(ImageErrors.BAD_RUNTIME, elf.rehash(0), "RUNTIME section", "x86-64");

        RawImage json = good();
        int m = json.indexOf(SectionType.METADATA);
        json.bytes[(int) json.offset(m)] = '[';
        refused(ImageErrors.BAD_CONTENT, json.rehash(m), "METADATA");

        String text = new String(good().content(m), StandardCharsets.UTF_8).replace("\"format\":1", "\"format\":2");
        RawImage format = good();
        System.arraycopy(text.getBytes(StandardCharsets.UTF_8), 0, format.bytes, (int) format.offset(m), text.length());
        refused(ImageErrors.BAD_CONTENT, format.rehash(m), "format must be 1");
    }

    @Test
    void cmdlineMustBePrintable() throws Exception {
        Path kernel = Files.write(dir.resolve("k"), new byte[] {1, 2, 3});
        RawImage image = new RawImage(new ImageBuilder().runtime(TestElf.minimal(10, 1), "rt").kernel(kernel)
                .cmdline("console=ttyS0").toBytes());
        int c = image.indexOf(SectionType.CMDLINE);
        image.bytes[(int) image.offset(c) + 3] = '\n';
        refused(ImageErrors.BAD_CONTENT, image.rehash(c), "CMDLINE", "0xa");
    }

    @Test
    void files() throws Exception {
        EnclaveException missing = assertThrows(EnclaveException.class, () -> EnclaveImage.open(dir.resolve("nope.bin")));
        assertEquals(ImageErrors.UNREADABLE, missing.code());
        assertTrue(missing.getMessage().contains("nope.bin"));
        assertEquals(ImageErrors.UNREADABLE, assertThrows(EnclaveException.class, () -> EnclaveImage.open(dir)).code());
        Path empty = Files.createFile(dir.resolve("empty.bin"));
        assertEquals(ImageErrors.BAD_HEADER, assertThrows(EnclaveException.class, () -> EnclaveImage.open(empty)).code());
        Path file = Files.write(dir.resolve("image.bin"), GOOD);
        assertTrue(EnclaveImage.open(file).origin().endsWith("image.bin"));
    }
}
