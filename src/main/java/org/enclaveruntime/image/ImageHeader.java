package org.enclaveruntime.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The header and section table of an image (docs/image-format.md, "Header" and "Section table"): the
 * first 64 + 72·n bytes of the file. This class owns the byte layout of both and the canonical placement
 * of sections, so the builder, the signer and the reader cannot disagree about them.
 */
record ImageHeader(int vcpuCount, int memoryMib, long imageSize, List<ImageSection> sections) {
    static final byte[] MAGIC = "ENCLVIMG".getBytes(StandardCharsets.US_ASCII);
    static final int FORMAT_VERSION = 1;
    static final int HEADER_SIZE = 64;
    static final int ENTRY_SIZE = 72;
    static final int MAX_SECTIONS = SectionType.values().length;
    /** Sections start on page boundaries so that a loader can map them straight from the file. */
    static final int ALIGNMENT = 4096;
    static final int CRC_OFFSET = 60;
    static final int MAX_VCPUS = 1024;
    static final int MIN_MEMORY_MIB = 2;
    static final int MAX_MEMORY_MIB = 1 << 24;

    public ImageHeader {
        sections = List.copyOf(sections);
    }

    /** A section to be placed: its type, length and hash, in the order it goes into the file. */
    record Planned(SectionType type, long size, Sha384 sha384) {
    }

    /** Places sections canonically: the first at the page after the table, each next at the page after the last. */
    static ImageHeader place(int vcpuCount, int memoryMib, List<Planned> planned) {
        List<ImageSection> placed = new ArrayList<>();
        long end = tableEnd(planned.size());
        for (Planned p : planned) {
            long offset = alignUp(end);
            placed.add(new ImageSection(p.type(), offset, p.size(), p.sha384()));
            end = Math.addExact(offset, p.size());
        }
        return new ImageHeader(vcpuCount, memoryMib, end, placed);
    }

    static long tableEnd(int sectionCount) {
        return HEADER_SIZE + (long) ENTRY_SIZE * sectionCount;
    }

    static long alignUp(long value) {
        return Math.multiplyExact(Math.addExact(value, ALIGNMENT - 1) / ALIGNMENT, ALIGNMENT);
    }

    /** The header and table as they are in the file, CRC included. */
    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate((int) tableEnd(sections.size())).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        b.putShort((short) FORMAT_VERSION);
        b.putShort((short) HEADER_SIZE);
        b.putShort((short) ENTRY_SIZE);
        b.putShort((short) sections.size());
        b.putInt(0); // flags
        b.putInt(vcpuCount);
        b.putInt(memoryMib);
        b.putInt(0); // reserved
        b.putLong(imageSize);
        b.position(HEADER_SIZE);
        for (ImageSection s : sections) {
            b.putInt(s.type().code());
            b.putInt(0); // flags
            b.putLong(s.offset());
            b.putLong(s.size());
            s.sha384().writeTo(b);
        }
        b.putInt(CRC_OFFSET, crc(b.array()));
        return b.array();
    }

    /** CRC-32C over header bytes 0..59 and the whole table; the CRC field itself is left out. */
    static int crc(byte[] headerAndTable) {
        CRC32C crc = new CRC32C();
        crc.update(headerAndTable, 0, CRC_OFFSET);
        crc.update(headerAndTable, HEADER_SIZE, headerAndTable.length - HEADER_SIZE);
        return (int) crc.getValue();
    }

    /**
     * The header and table this image had before it was signed: what the signature signs. For an
     * unsigned image this is the image's own header and table.
     */
    ImageHeader unsigned() {
        List<ImageSection> kept = sections.stream().filter(s -> s.type() != SectionType.SIGNATURE).toList();
        long end = kept.isEmpty() ? tableEnd(0) : kept.get(kept.size() - 1).end();
        return new ImageHeader(vcpuCount, memoryMib, end, kept);
    }
}
