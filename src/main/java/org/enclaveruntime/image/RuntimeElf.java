package org.enclaveruntime.image;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The enclave runtime ELF, checked by every rule of docs/image-format.md ("The runtime ELF") before anything
 * trusts it: `image build`, `image verify`/`describe` and the VMM's boot all parse it here, so an image that
 * verifies is an image that loads. The VMM copies {@link #segments()} into guest RAM as they are; it checks
 * nothing of its own.
 */
public final class RuntimeElf {
    /** The runtime is linked at 1 MiB; below that are the GDT, TSS, boot info and page tables. */
    public static final long LOAD_BASE = 0x10_0000;
    /** Segments start on a page so that each 4 KiB page belongs to one segment and gets its access. */
    public static final long PAGE_SIZE = 0x1000;
    /** No guest RAM reaches this far; it bounds every address before any arithmetic on it. */
    public static final long ADDRESS_LIMIT = 1L << 48;
    static final int EHDR_SIZE = 64;
    static final int PHDR_SIZE = 56;
    static final int MAX_PHDRS = 64;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;

    /** A PT_LOAD's p_flags bit; no other bit is allowed. */
    public enum Access {
        EXECUTE(1), WRITE(2), READ(4);

        private final int bit;

        Access(int bit) {
            this.bit = bit;
        }

        static final int ALL_BITS = 7;

        static Set<Access> of(int flags) {
            Set<Access> set = EnumSet.noneOf(Access.class);
            for (Access a : values()) {
                if ((flags & a.bit) != 0) {
                    set.add(a);
                }
            }
            return Set.copyOf(set);
        }
    }

    /**
     * A PT_LOAD segment to load: the file's bytes [offset, offset + fileSize) go to guest-physical
     * {@code paddr} (= its virtual address), zeros from there up to {@code memSize} (.bss).
     *
     * @param index  its program header's index in the file, as error messages name it
     * @param access what its pages may be used for (p_flags)
     */
    public record Segment(int index, long offset, long paddr, long fileSize, long memSize, Set<Access> access) {
        public Segment {
            access = Set.copyOf(access);
        }

        /** First guest-physical byte after the segment. */
        public long end() {
            return paddr + memSize;
        }

        public boolean readable() {
            return access.contains(Access.READ);
        }

        public boolean writable() {
            return access.contains(Access.WRITE);
        }

        public boolean executable() {
            return access.contains(Access.EXECUTE);
        }

        boolean contains(long address) {
            return address >= paddr && address - paddr < memSize;
        }
    }

    private final ByteBuffer file;
    private final String what;
    private final long entry;
    private final List<Segment> segments;
    private final long imageEnd;

    private RuntimeElf(ByteBuffer file, String what, long entry, List<Segment> segments) {
        this.file = file;
        this.what = what;
        this.entry = entry;
        this.segments = List.copyOf(segments);
        long end = 0;
        for (Segment s : segments) {
            end = Math.max(end, s.end());
        }
        this.imageEnd = ImageHeader.alignUp(end);
    }

    /** Where every vCPU starts (e_entry), inside an executable segment. */
    public long entry() {
        return entry;
    }

    /** The non-empty PT_LOAD segments in program header order; no two share a 4 KiB page. */
    public List<Segment> segments() {
        return segments;
    }

    /** First guest-physical byte after the highest segment, rounded up to 4 KiB (boot_info.image_end). */
    public long imageEnd() {
        return imageEnd;
    }

    /** The bytes to copy to {@code s.paddr()}: a view of the parsed buffer, {@code s.fileSize()} long. */
    public ByteBuffer fileBytes(Segment s) {
        if (!segments.contains(s)) {
            throw new IllegalArgumentException("not a segment of this ELF: " + s);
        }
        return file.slice((int) s.offset(), (int) s.fileSize());
    }

    /**
     * Requires that the runtime ends at or below {@code stacksBottom}, the lowest byte of the vCPU stacks at
     * the top of {@code ramBytes} of guest RAM: the one rule that depends on the enclave's memory.
     *
     * @return this, checked
     * @throws EnclaveException {@link ImageErrors#DOES_NOT_FIT}, saying how much memory would do
     */
    public RuntimeElf requireFits(long ramBytes, long stacksBottom) {
        if (imageEnd > stacksBottom) {
            long stacks = ramBytes - stacksBottom;
            long needed = Math.addExact(imageEnd, stacks);
            long neededMib = (needed + (1 << 20) - 1) >> 20;
            throw new EnclaveException(ImageErrors.DOES_NOT_FIT, what + " needs at least " + neededMib + " MiB ("
                    + needed + " bytes: the runtime ends at 0x" + Long.toHexString(imageEnd) + ", then "
                    + (stacks >> 10) + " KiB of vCPU stacks), but the enclave has " + (ramBytes >> 20) + " MiB ("
                    + ramBytes + " bytes), whose stacks begin at 0x" + Long.toHexString(stacksBottom));
        }
        return this;
    }

    /**
     * Parses and checks {@code elf} (its remaining bytes; its position is left alone, its bytes are shared).
     *
     * @param what names the ELF in error messages, such as "runtime.elf" or "image.bin: RUNTIME section"
     * @throws EnclaveException {@link ImageErrors#BAD_RUNTIME} naming the first rule broken and the field
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
        requireByte(b, what, 4, 2, "EI_CLASS", "ELF64");
        requireByte(b, what, 5, 1, "EI_DATA", "little-endian");
        requireByte(b, what, 6, 1, "EI_VERSION", "the current version");
        int type = Short.toUnsignedInt(b.getShort(16));
        if (type != ET_EXEC) {
            throw bad(what, "is not a static executable (e_type = " + type + ", expected 2 = ET_EXEC; "
                    + "link with -static -no-pie)");
        }
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_X86_64) {
            throw bad(what, "is not for x86-64 (e_machine = " + machine + ", expected 62 = EM_X86_64)");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phentsize != PHDR_SIZE) {
            throw bad(what, "has program headers of " + phentsize + " bytes (e_phentsize), expected 56");
        }
        if (phnum == 0 || phnum > MAX_PHDRS) {
            throw bad(what, "has " + phnum + " program headers (e_phnum), expected 1 to " + MAX_PHDRS);
        }
        if (Long.compareUnsigned(phoff, size) > 0 || (long) phnum * PHDR_SIZE > size - phoff) {
            throw bad(what, "has its program headers (e_phoff " + Long.toUnsignedString(phoff) + ", " + phnum
                    + " entries of 56 bytes) outside the file of " + size + " bytes");
        }
        List<Segment> loads = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) phoff + i * PHDR_SIZE;
            if (b.getInt(at) == PT_LOAD) {
                Segment s = segment(b, what, i, at);
                if (s != null) {
                    loads.add(s);
                }
            }
        }
        if (loads.isEmpty()) {
            throw bad(what, "has no PT_LOAD segment with content: nothing to load");
        }
        // Loaded one after the other, overlapping segments would let a later one overwrite an earlier one.
        for (int i = 0; i < loads.size(); i++) {
            for (int j = i + 1; j < loads.size(); j++) {
                Segment a = loads.get(i);
                Segment c = loads.get(j);
                if (a.paddr() < c.end() && c.paddr() < a.end()) {
                    throw bad(what, "has overlapping PT_LOAD segments " + a.index() + " [0x" + hex(a.paddr())
                            + ", 0x" + hex(a.end()) + ") and " + c.index() + " [0x" + hex(c.paddr()) + ", 0x"
                            + hex(c.end()) + ")");
                }
            }
        }
        if (loads.stream().noneMatch(s -> s.executable() && s.contains(entry))) {
            throw bad(what, "has its entry point 0x" + Long.toUnsignedString(entry, 16)
                    + " (e_entry) outside every executable PT_LOAD segment");
        }
        return new RuntimeElf(b, what, entry, loads);
    }

    /** The PT_LOAD at {@code at}, checked; null for an empty one, which GNU ld may emit at p_paddr 0. */
    private static Segment segment(ByteBuffer b, String what, int index, int at) {
        int flags = b.getInt(at + 4);
        long offset = b.getLong(at + 8);
        long vaddr = b.getLong(at + 16);
        long paddr = b.getLong(at + 24);
        long filesz = b.getLong(at + 32);
        long memsz = b.getLong(at + 40);
        if (filesz == 0 && memsz == 0) {
            return null;
        }
        String name = "PT_LOAD segment " + index;
        long size = b.capacity();
        if ((flags & ~Access.ALL_BITS) != 0) {
            throw bad(what, "has " + name + " with p_flags 0x" + Integer.toHexString(flags)
                    + ": only R (4), W (2) and X (1) are allowed");
        }
        if (Long.compareUnsigned(filesz, memsz) > 0) {
            throw bad(what, "has " + name + " with p_filesz " + Long.toUnsignedString(filesz)
                    + " larger than p_memsz " + Long.toUnsignedString(memsz));
        }
        if (Long.compareUnsigned(offset, size) > 0 || Long.compareUnsigned(filesz, size - offset) > 0) {
            throw bad(what, "has " + name + " (p_offset " + Long.toUnsignedString(offset) + ", p_filesz "
                    + Long.toUnsignedString(filesz) + ") outside the file of " + size + " bytes");
        }
        if (vaddr != paddr) {
            throw bad(what, "has " + name + " with p_vaddr 0x" + Long.toUnsignedString(vaddr, 16)
                    + " different from p_paddr 0x" + Long.toUnsignedString(paddr, 16)
                    + ": the runtime runs identity-mapped (virtual = physical)");
        }
        if (Long.compareUnsigned(paddr, LOAD_BASE) < 0) {
            throw bad(what, "has " + name + " at p_paddr 0x" + hex(paddr)
                    + ", below 1 MiB (0x100000) where the runtime must be linked");
        }
        if (Long.compareUnsigned(paddr, ADDRESS_LIMIT) >= 0
                || Long.compareUnsigned(memsz, ADDRESS_LIMIT - paddr) > 0) {
            throw bad(what, "has " + name + " (p_paddr 0x" + Long.toUnsignedString(paddr, 16) + ", p_memsz 0x"
                    + Long.toUnsignedString(memsz, 16) + ") reaching beyond 2^48, far above any guest RAM");
        }
        if (paddr % PAGE_SIZE != 0) {
            throw bad(what, "has " + name + " at p_paddr 0x" + hex(paddr)
                    + ", not on a 4 KiB page boundary (each page gets one segment's access rights)");
        }
        return new Segment(index, offset, paddr, filesz, memsz, Access.of(flags));
    }

    private static void requireByte(ByteBuffer b, String what, int at, int expected, String field, String meaning) {
        if (b.get(at) != expected) {
            throw bad(what, "is not " + meaning + " (" + field + " = " + b.get(at) + ", expected " + expected + ")");
        }
    }

    private static String hex(long value) {
        return Long.toHexString(value);
    }

    private static EnclaveException bad(String what, String problem) {
        return new EnclaveException(ImageErrors.BAD_RUNTIME, what + " " + problem);
    }
}
