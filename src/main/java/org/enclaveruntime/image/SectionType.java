package org.enclaveruntime.image;

import java.util.Optional;

/**
 * The section types of format version 1. The numeric order is the order of sections in the table and in
 * the file, and the order in which boot sections are measured. A type not listed here is refused.
 */
public enum SectionType {
    /** The enclave runtime ELF (docs/guest-abi.md); what our VMM boots. */
    RUNTIME(1, true),
    /** A Linux kernel (bzImage or vmlinux), for hosts that boot a kernel in the enclave. */
    KERNEL(2, true),
    /** The kernel command line: printable ASCII, no terminator. */
    CMDLINE(3, true),
    /** An initial RAM disk for the kernel. */
    INITRD(4, true),
    /** JSON describing the build (name, version, builder, inputs); informational, not measured. */
    METADATA(5, false),
    /** Certificate chain and ECDSA P-384 signature; always last. */
    SIGNATURE(6, false);

    private final int code;
    private final boolean boots;

    SectionType(int code, boolean boots) {
        this.code = code;
        this.boots = boots;
    }

    public int code() {
        return code;
    }

    /** Whether the section is part of what the enclave boots (and so of pcr0). */
    public boolean boots() {
        return boots;
    }

    public static Optional<SectionType> fromCode(long code) {
        for (SectionType t : values()) {
            if (t.code == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
