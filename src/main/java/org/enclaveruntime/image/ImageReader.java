package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads and checks an image held in a buffer, in the order docs/image-format.md ("Reading an image")
 * gives: header, CRC, table, layout, section set, padding, hashes, then content. Every offset comes from
 * the file, so every bound is checked against the buffer before it is used, with overflow-safe arithmetic.
 * Nothing but {@link EnclaveException} with an {@link ImageErrors} code leaves this class.
 */
final class ImageReader {
    private static final int MAX_CMDLINE = 4096;
    private static final ByteBuffer ZEROS = ByteBuffer.allocate(ImageHeader.ALIGNMENT).asReadOnlyBuffer();

    private final ByteBuffer file;
    private final String origin;
    private final long size;

    private ImageReader(ByteBuffer file, String origin) {
        this.file = file.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.origin = origin;
        this.size = this.file.capacity();
    }

    static EnclaveImage read(ByteBuffer file, String origin) {
        return new ImageReader(file, origin).read();
    }

    private EnclaveImage read() {
        int sectionCount = readFixedHeader();
        long tableEnd = ImageHeader.tableEnd(sectionCount);
        if (tableEnd > size) {
            throw fail(ImageErrors.BAD_LAYOUT, "the file is " + size + " bytes, too short for the header and its "
                    + sectionCount + "-entry section table (" + tableEnd + " bytes): truncated");
        }
        byte[] headerAndTable = new byte[(int) tableEnd];
        file.get(0, headerAndTable);
        int storedCrc = file.getInt(ImageHeader.CRC_OFFSET);
        int crc = ImageHeader.crc(headerAndTable);
        if (crc != storedCrc) {
            throw fail(ImageErrors.CRC_MISMATCH, String.format("the CRC-32C of header and section table is %08x, "
                    + "the header says %08x", crc, storedCrc));
        }
        ImageHeader header = readHeaderFields(sectionCount);
        checkSectionSet(header.sections());
        checkPadding(header);
        Map<SectionType, ByteBuffer> contents = new EnumMap<>(SectionType.class);
        Map<SectionType, Sha384> hashes = new EnumMap<>(SectionType.class);
        for (ImageSection s : header.sections()) {
            ByteBuffer content = slice(s.offset(), s.size());
            Sha384 actual = Sha384.digest(content);
            if (!actual.equals(s.sha384())) {
                throw fail(ImageErrors.HASH_MISMATCH, "the " + s.type() + " section (offset " + s.offset() + ", "
                        + s.size() + " bytes) has SHA-384 " + actual.hex() + ", the section table says "
                        + s.sha384().hex());
            }
            contents.put(s.type(), content);
            hashes.put(s.type(), actual);
        }
        return checkContent(header, contents, hashes);
    }

    /** Checks magic, version and fixed sizes; returns the section count. */
    private int readFixedHeader() {
        if (size < ImageHeader.HEADER_SIZE) {
            throw fail(ImageErrors.BAD_HEADER, "the file is " + size + " bytes, shorter than the 64-byte header");
        }
        byte[] magic = new byte[ImageHeader.MAGIC.length];
        file.get(0, magic);
        if (!Arrays.equals(magic, ImageHeader.MAGIC)) {
            throw fail(ImageErrors.BAD_HEADER, "not an enclave image: it starts with "
                    + printable(magic) + ", not \"ENCLVIMG\"");
        }
        int version = u16(8);
        if (version != ImageHeader.FORMAT_VERSION) {
            throw fail(ImageErrors.UNSUPPORTED_VERSION, "format version " + version + "; this enclavectl reads "
                    + "version " + ImageHeader.FORMAT_VERSION + " only");
        }
        if (u16(10) != ImageHeader.HEADER_SIZE || u16(12) != ImageHeader.ENTRY_SIZE) {
            throw fail(ImageErrors.BAD_HEADER, "header size " + u16(10) + " and entry size " + u16(12)
                    + "; version 1 has 64 and 72");
        }
        int count = u16(14);
        if (count < 1 || count > ImageHeader.MAX_SECTIONS) {
            throw fail(ImageErrors.BAD_HEADER, "section count " + count + "; expected 1 to " + ImageHeader.MAX_SECTIONS);
        }
        return count;
    }

    private ImageHeader readHeaderFields(int sectionCount) {
        long flags = u32(16);
        long reserved = u32(28);
        for (int at = 40; at < ImageHeader.CRC_OFFSET; at += 4) {
            reserved |= u32(at);
        }
        if (flags != 0 || reserved != 0) {
            throw fail(ImageErrors.BAD_HEADER, "header flags 0x" + Long.toHexString(flags) + " or reserved bytes "
                    + "are not zero; version 1 defines none");
        }
        long vcpus = u32(20);
        long memoryMib = u32(24);
        if (vcpus < 1 || vcpus > ImageHeader.MAX_VCPUS) {
            throw fail(ImageErrors.BAD_HEADER, "default vCPU count " + vcpus + "; expected 1 to " + ImageHeader.MAX_VCPUS);
        }
        if (memoryMib < ImageHeader.MIN_MEMORY_MIB || memoryMib > ImageHeader.MAX_MEMORY_MIB) {
            throw fail(ImageErrors.BAD_HEADER, "default memory " + memoryMib + " MiB; expected "
                    + ImageHeader.MIN_MEMORY_MIB + " to " + ImageHeader.MAX_MEMORY_MIB);
        }
        long imageSize = file.getLong(32);
        if (imageSize != size) {
            throw fail(ImageErrors.BAD_LAYOUT, "the header says the image is " + Long.toUnsignedString(imageSize)
                    + " bytes, the file is " + size + " bytes: " + (Long.compareUnsigned(imageSize, size) > 0
                    ? "truncated" : "extended"));
        }
        List<ImageSection> sections = new ArrayList<>();
        long previousEnd = ImageHeader.tableEnd(sectionCount);
        for (int i = 0; i < sectionCount; i++) {
            int at = ImageHeader.HEADER_SIZE + i * ImageHeader.ENTRY_SIZE;
            ImageSection s = readEntry(i, at, previousEnd);
            sections.add(s);
            previousEnd = s.end();
        }
        if (previousEnd != size) {
            throw fail(ImageErrors.BAD_LAYOUT, "the last section ends at " + previousEnd + " but the file has "
                    + size + " bytes");
        }
        return new ImageHeader((int) vcpus, (int) memoryMib, imageSize, sections);
    }

    private ImageSection readEntry(int index, int at, long previousEnd) {
        long code = u32(at);
        SectionType type = SectionType.fromCode(code).orElseThrow(() -> fail(ImageErrors.UNKNOWN_SECTION,
                "section " + index + " has unknown type " + code + "; version 1 knows 1 to 6 and skips nothing"));
        String name = "section " + index + " (" + type + ")";
        long flags = u32(at + 4);
        if (flags != 0) {
            throw fail(ImageErrors.UNKNOWN_SECTION, name + " has flags 0x" + Long.toHexString(flags)
                    + "; version 1 defines none");
        }
        long offset = file.getLong(at + 8);
        long length = file.getLong(at + 16);
        // u64 fields: a negative long is a value of 2^63 or more, beyond any file.
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw fail(ImageErrors.BAD_LAYOUT, name + " at offset " + Long.toUnsignedString(offset) + " with "
                    + Long.toUnsignedString(length) + " bytes lies outside the file of " + size + " bytes");
        }
        if (length == 0) {
            throw fail(ImageErrors.BAD_LAYOUT, name + " is empty; empty sections are left out, not stored");
        }
        if (offset < previousEnd) {
            throw fail(ImageErrors.BAD_LAYOUT, name + " at offset " + offset + " overlaps what comes before it, "
                    + "which ends at " + previousEnd);
        }
        long expected = ImageHeader.alignUp(previousEnd);
        if (offset != expected) {
            throw fail(ImageErrors.BAD_LAYOUT, name + " starts at offset " + offset + "; it must start at "
                    + expected + ", the first 4 KiB boundary after what comes before it");
        }
        byte[] hash = new byte[Sha384.LENGTH];
        file.get(at + 24, hash);
        return new ImageSection(type, offset, length, Sha384.of(hash));
    }

    private void checkSectionSet(List<ImageSection> sections) {
        SectionType previous = null;
        for (ImageSection s : sections) {
            if (previous != null && s.type().code() <= previous.code()) {
                throw fail(ImageErrors.SECTION_SET, s.type() == previous
                        ? "the " + s.type() + " section appears twice"
                        : "the " + s.type() + " section comes after " + previous + "; sections are in type order");
            }
            previous = s.type();
        }
        // RUNTIME is required even next to a KERNEL: with it always first, no section can be retyped (say
        // RUNTIME into KERNEL) without changing the registers, since every accepted set of boot sections
        // feeds pcr0..pcr2 a different sequence (docs/image-format.md, "Why RUNTIME is required").
        if (!has(sections, SectionType.RUNTIME)) {
            throw fail(ImageErrors.SECTION_SET, "there is no RUNTIME section: nothing to boot");
        }
        if (!has(sections, SectionType.KERNEL)
                && (has(sections, SectionType.CMDLINE) || has(sections, SectionType.INITRD))) {
            throw fail(ImageErrors.SECTION_SET, "CMDLINE and INITRD are for a KERNEL, and there is none");
        }
        if (!has(sections, SectionType.METADATA)) {
            throw fail(ImageErrors.SECTION_SET, "there is no METADATA section");
        }
    }

    /** Bytes outside every section (after the table, between sections) must be zero. */
    private void checkPadding(ImageHeader header) {
        long from = ImageHeader.tableEnd(header.sections().size());
        for (ImageSection s : header.sections()) {
            int length = (int) (s.offset() - from); // less than 4096: the layout check placed every section
            int at = file.slice((int) from, length).mismatch(ZEROS.slice(0, length));
            if (at >= 0) {
                throw fail(ImageErrors.BAD_LAYOUT, "the padding byte at offset " + (from + at) + ", before the "
                        + s.type() + " section, is not zero");
            }
            from = s.end();
        }
    }

    private EnclaveImage checkContent(ImageHeader header, Map<SectionType, ByteBuffer> contents,
                                      Map<SectionType, Sha384> hashes) {
        RuntimeElf runtime = RuntimeElf.parse(contents.get(SectionType.RUNTIME), origin + ": RUNTIME section");
        ByteBuffer cmdline = contents.get(SectionType.CMDLINE);
        if (cmdline != null) {
            checkCmdline(cmdline);
        }
        ImageMetadata metadata = ImageMetadata.fromJson(contents.get(SectionType.METADATA), origin);
        Optional<ImageSignature> signature = Optional.ofNullable(contents.get(SectionType.SIGNATURE))
                .map(b -> ImageSignature.decodeAndCheck(b, header.unsigned().encode(), origin + ": SIGNATURE section"));
        // After the signature: a signed image changed since signing is reported as that, not as bad metadata.
        metadata.requireInputsMatch(header.sections().stream().filter(t -> t.type().boots()).toList(), origin);
        Measurements measurements = Measurements.compute(hashes, signature.map(ImageSignature::signerFingerprint));
        return new EnclaveImage(origin, header, contents, runtime, metadata, signature, measurements);
    }

    private void checkCmdline(ByteBuffer cmdline) {
        if (cmdline.remaining() > MAX_CMDLINE) {
            throw fail(ImageErrors.BAD_CONTENT, "the CMDLINE section is " + cmdline.remaining() + " bytes; at most "
                    + MAX_CMDLINE);
        }
        for (int i = 0; i < cmdline.remaining(); i++) {
            int c = cmdline.get(cmdline.position() + i) & 0xff;
            if (c < 0x20 || c > 0x7e) {
                throw fail(ImageErrors.BAD_CONTENT, "the CMDLINE section has byte 0x" + Integer.toHexString(c)
                        + " at " + i + "; only printable ASCII is allowed");
            }
        }
    }

    private static boolean has(List<ImageSection> sections, SectionType type) {
        return sections.stream().anyMatch(s -> s.type() == type);
    }

    private ByteBuffer slice(long offset, long length) {
        // Bounds were checked against the file in readEntry, and the file is at most 2^31 - 1 bytes.
        return file.slice((int) offset, (int) length).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private int u16(int at) {
        return Short.toUnsignedInt(file.getShort(at));
    }

    private long u32(int at) {
        return Integer.toUnsignedLong(file.getInt(at));
    }

    private static String printable(byte[] bytes) {
        StringBuilder s = new StringBuilder("\"");
        for (byte b : bytes) {
            s.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff));
        }
        return s.append('"').toString();
    }

    private EnclaveException fail(ErrorCode code, String problem) {
        return new EnclaveException(code, origin + ": " + problem);
    }

}
