package org.enclaveruntime.platform;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Optional;

/** The page sizes guest memory can be backed by on x86-64, largest first. */
public enum PageSize {
    SIZE_1G(1L << 30, "1G"),
    SIZE_2M(2L << 20, "2M"),
    SIZE_4K(4096, "4K");

    private final long bytes;
    private final String label;

    PageSize(long bytes, String label) {
        this.bytes = bytes;
        this.label = label;
    }

    public long bytes() {
        return bytes;
    }

    @JsonValue
    public String label() {
        return label;
    }

    public boolean huge() {
        return this != SIZE_4K;
    }

    /** The directory name of this size's pool under /sys/kernel/mm/hugepages: "hugepages-2048kB". */
    public String sysfsName() {
        return "hugepages-" + (bytes / 1024) + "kB";
    }

    public static Optional<PageSize> ofBytes(long bytes) {
        for (PageSize p : values()) {
            if (p.bytes == bytes) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return label;
    }
}
