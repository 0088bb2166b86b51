package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * What the VMM needs from the runtime ELF (docs/guest-abi.md): its entry point and its PT_LOAD segments.
 * Parsing checks only what loading relies on; everything is bounds-checked against the buffer.
 */
public record RuntimeElf(long entry, List<LoadSegment> segments) {
    /** The runtime is linked at 1 MiB; below that are the GDT, boot info and page tables. */
    public static final long LOAD_BASE = 0x10_0000;
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int MAX_PHDRS = 64;
    private static final int PT_LOAD = 1;
    private static final int PF_X = 1;

    /**
     * One PT_LOAD segment: copy {@code fileSize} bytes from {@code fileOffset} of the ELF to guest-physical
     * {@code physAddr}, zero the rest up to {@code memSize}.
     */
    public record LoadSegment(long fileOffset, long physAddr, long virtAddr, long fileSize, long memSize, int flags) {
        public long physEnd() {
            return physAddr + memSize;
        }
    }

    public RuntimeElf {
        segments = List.copyOf(segments);
    }

    /** First guest-physical byte after the highest segment, rounded up to 4 KiB (boot_info.image_end). */
    public long imageEnd() {
        long end = LOAD_BASE;
        for (LoadSegment s : segments) {
            end = Math.max(end, s.physEnd());
        }
        return ImageHeader.alignUp(end);
    }

    /**
     * Parses and checks {@code elf} (its remaining bytes; position unchanged).
     *
     * @param what names the ELF in error messages, such as "runtime.elf" or "image.bin: RUNTIME section"
     */
    public static RuntimeElf parse(ByteBuffer elf, String what) {
        ByteBuffer b = elf.slice().order(ByteOrder.LITTLE_ENDIAN);
        long size = b.remaining();
        if (size < EHDR_SIZE) {
            throw bad(what, "is " + size + " bytes, shorter than an ELF64 header (64 bytes)");
        }
        if (b.getInt(0) != 0x464C457F) {
            throw bad(what, "is not an ELF file (no \\x7fELF magic)");
        }
        if (b.get(4) != 2) {
            throw bad(what, "is not ELF64 (EI_CLASS = " + b.get(4) + ", expected 2)");
        }
        if (b.get(5) != 1) {
            throw bad(what, "is not little-endian (EI_DATA = " + b.get(5) + ", expected 1)");
        }
        int type = Short.toUnsignedInt(b.getShort(16));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != 62) {
            throw bad(what, "is not for x86-64 (e_machine = " + machine + ", expected 62)");
        }
        if (type != 2) {
            throw bad(what, "is not a static executable (e_type = " + type + ", expected 2 = ET_EXEC; "
                    + "link with -static -no-pie)");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phentsize != PHDR_SIZE) {
            throw bad(what, "has program headers of " + phentsize + " bytes, expected 56");
        }
        if (phnum == 0 || phnum > MAX_PHDRS) {
            throw bad(what, "has " + phnum + " program headers, expected 1 to " + MAX_PHDRS);
        }
        if (phoff < 0 || phoff > size || (long) phnum * PHDR_SIZE > size - phoff) {
            throw bad(what, "has its program headers (offset " + phoff + ", " + phnum + " entries) outside "
                    + "the file of " + size + " bytes");
        }
        List<LoadSegment> loads = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) phoff + i * PHDR_SIZE;
            if (b.getInt(at) != PT_LOAD) {
                continue;
            }
            LoadSegment s = new LoadSegment(b.getLong(at + 8), b.getLong(at + 24), b.getLong(at + 16),
                    b.getLong(at + 32), b.getLong(at + 40), b.getInt(at + 4));
            checkSegment(what, i, s, size);
            loads.add(s);
        }
        if (loads.isEmpty()) {
            throw bad(what, "has no PT_LOAD segment: nothing to load");
        }
        // The loader copies segments in order; overlapping ones would let a later one overwrite an earlier.
        for (int i = 0; i < loads.size(); i++) {
            for (int j = i + 1; j < loads.size(); j++) {
                LoadSegment a = loads.get(i);
                LoadSegment c = loads.get(j);
                if (a.physAddr() < c.physEnd() && c.physAddr() < a.physEnd()) {
                    throw bad(what, "has overlapping PT_LOAD segments at 0x" + Long.toHexString(a.physAddr())
                            + " and 0x" + Long.toHexString(c.physAddr()));
                }
            }
        }
        boolean entryLoaded = loads.stream().anyMatch(s -> (s.flags() & PF_X) != 0
                && Long.compareUnsigned(entry, s.virtAddr()) >= 0
                && Long.compareUnsigned(entry - s.virtAddr(), s.memSize()) < 0);
        if (!entryLoaded) {
            throw bad(what, "has its entry point 0x" + Long.toHexString(entry)
                    + " outside every executable PT_LOAD segment");
        }
        return new RuntimeElf(entry, loads);
    }

    private static void checkSegment(String what, int index, LoadSegment s, long size) {
        String name = "PT_LOAD segment " + index;
        if (s.fileOffset() < 0 || s.fileSize() < 0 || s.fileOffset() > size || s.fileSize() > size - s.fileOffset()) {
            throw bad(what, "has " + name + " (offset " + s.fileOffset() + ", " + s.fileSize()
                    + " bytes) outside the file of " + size + " bytes");
        }
        if (Long.compareUnsigned(s.fileSize(), s.memSize()) > 0) {
            throw bad(what, "has " + name + " with p_filesz " + s.fileSize() + " larger than p_memsz " + s.memSize());
        }
        if (Long.compareUnsigned(s.physAddr(), LOAD_BASE) < 0) {
            throw bad(what, "has " + name + " at physical address 0x" + Long.toHexString(s.physAddr())
                    + ", below 1 MiB (0x100000) where the runtime must be linked");
        }
        // Guest RAM is far below 2^62 bytes; anything near the top is a damaged or hostile header.
        long limit = 1L << 48;
        if (Long.compareUnsigned(s.physAddr(), limit) >= 0 || Long.compareUnsigned(s.memSize(), limit) >= 0
                || Long.compareUnsigned(s.virtAddr(), limit) >= 0) {
            throw bad(what, "has " + name + " with an address or size beyond 2^48 (p_paddr 0x"
                    + Long.toHexString(s.physAddr()) + ", p_memsz 0x" + Long.toHexString(s.memSize()) + ")");
        }
    }

    private static EnclaveException bad(String what, String problem) {
        return new EnclaveException(ImageErrors.BAD_RUNTIME, what + " " + problem);
    }
}
