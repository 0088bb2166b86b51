package org.enclaveruntime.vmm;

import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.memory.GuestMemory;

/**
 * Copies a parsed runtime into guest RAM (docs/guest-abi.md, "Loading the image"). Every check is the
 * parser's ({@link RuntimeElf#parse} and {@link RuntimeElf#requireFits}), shared with `image verify`, so that
 * what verifies is what loads; this class only copies.
 */
final class RuntimeLoader {
    private RuntimeLoader() {
    }

    /** Each segment's file bytes at its address, then zeros up to its memory size (.bss). */
    static void load(RuntimeElf elf, GuestMemory memory) {
        for (RuntimeElf.Segment s : elf.segments()) {
            memory.write(s.paddr(), elf.fileBytes(s));
            memory.zero(s.paddr() + s.fileSize(), s.memSize() - s.fileSize());
        }
    }
}
