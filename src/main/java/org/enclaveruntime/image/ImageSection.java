package org.enclaveruntime.image;

import java.util.Objects;

/**
 * One entry of the section table: where a section's bytes are in the file and their SHA-384.
 *
 * @param offset from the start of the file, a multiple of 4096
 * @param size   in bytes, at least 1
 */
public record ImageSection(SectionType type, long offset, long size, Sha384 sha384) {
    public ImageSection {
        Objects.requireNonNull(type);
        Objects.requireNonNull(sha384);
    }

    /** First byte after the section. */
    public long end() {
        return Math.addExact(offset, size);
    }
}
