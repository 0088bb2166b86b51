package org.enclaveruntime.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Test-side view of an image's bytes, written from docs/image-format.md rather than from the reader:
 * lets tests and the fuzzer change fields and then re-seal the CRC or a section hash, so that the checks
 * behind the CRC and the hashes are reached too.
 */
final class RawImage {
    static final int HEADER = 64;
    static final int ENTRY = 72;

    byte[] bytes;

    RawImage(byte[] bytes) {
        this.bytes = bytes.clone();
    }

    /**
     * An image of these sections (in type order), laid out by the writer but with no check of their
     * content: for tests of what readers do with content the builder would not write.
     */
    static byte[] assemble(java.util.SortedMap<SectionType, byte[]> sections) {
        java.util.Map<SectionType, ByteBuffer> contents = new java.util.EnumMap<>(SectionType.class);
        java.util.List<ImageHeader.Planned> planned = new java.util.ArrayList<>();
        sections.forEach((type, bytes) -> {
            contents.put(type, ByteBuffer.wrap(bytes));
            planned.add(new ImageHeader.Planned(type, bytes.length, Sha384.digest(bytes)));
        });
        return ImageWriter.toBytes(ImageHeader.place(1, 64, planned), contents);
    }

    ByteBuffer le() {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    int sectionCount() {
        return Short.toUnsignedInt(le().getShort(14));
    }

    static int entryAt(int index) {
        return HEADER + index * ENTRY;
    }

    int type(int index) {
        return le().getInt(entryAt(index));
    }

    long offset(int index) {
        return le().getLong(entryAt(index) + 8);
    }

    long size(int index) {
        return le().getLong(entryAt(index) + 16);
    }

    int indexOf(SectionType type) {
        for (int i = 0; i < sectionCount(); i++) {
            if (type(i) == type.code()) {
                return i;
            }
        }
        throw new IllegalArgumentException("no " + type);
    }

    byte[] content(int index) {
        return Arrays.copyOfRange(bytes, (int) offset(index), (int) (offset(index) + size(index)));
    }

    /** CRC-32C of bytes 0..59 and of the table, stored at 60. */
    RawImage reseal() {
        int tableEnd = HEADER + ENTRY * Math.min(sectionCount(), (bytes.length - HEADER) / ENTRY);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 60);
        crc.update(bytes, HEADER, Math.max(0, Math.min(tableEnd, bytes.length) - HEADER));
        le().putInt(60, (int) crc.getValue());
        return this;
    }

    /** Recomputes section {@code index}'s SHA-384 from its bytes, then the CRC. */
    RawImage rehash(int index) throws Exception {
        byte[] h = MessageDigest.getInstance("SHA-384").digest(content(index));
        System.arraycopy(h, 0, bytes, entryAt(index) + 24, 48);
        return reseal();
    }

    RawImage putInt(int at, int value) {
        le().putInt(at, value);
        return this;
    }

    RawImage putShort(int at, int value) {
        le().putShort(at, (short) value);
        return this;
    }

    RawImage putLong(int at, long value) {
        le().putLong(at, value);
        return this;
    }

    RawImage resize(int newLength) {
        bytes = Arrays.copyOf(bytes, newLength);
        return this;
    }
}
