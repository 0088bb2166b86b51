package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The enclave runtime as an ELF64 executable, validated completely before anything is copied into guest
 * RAM: the file comes with the image and is not trusted to be well-formed.
 */
public final class RuntimeElf {
    private static final int EHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int MAX_PHDRS = 64;
    private static final int ET_EXEC = 2;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PF_X = 1;
    private static final int PF_W = 2;
    private static final long PAGE = 0x1000;

    /**
     * A PT_LOAD segment: file bytes [offset, offset+fileSize) at gpa, zero-filled up to memSize; flags are its
     * p_flags (PF_X 1, PF_W 2, PF_R 4), which decide its pages' protection.
     */
    public record Segment(long gpa, long offset, long fileSize, long memSize, int flags) {
        long end() {
            return gpa + memSize;
        }
    }

    private final byte[] file;
    private final long entry;
    private final List<Segment> segments;
    private final long imageEnd;

    private RuntimeElf(byte[] file, long entry, List<Segment> segments, long imageEnd) {
        this.file = file;
        this.entry = entry;
        this.segments = segments;
        this.imageEnd = imageEnd;
    }

    public long entry() {
        return entry;
    }

    public List<Segment> segments() {
        return segments;
    }

    /** First free guest-physical address after the loaded image, 4 KiB aligned. */
    public long imageEnd() {
        return imageEnd;
    }

    /**
     * Parses and checks an ELF file for loading into [{@code lowest}, {@code limit}) of guest RAM.
     *
     * @throws EnclaveException INVALID_RUNTIME_ELF naming the field at fault
     */
    public static RuntimeElf parse(byte[] file, long lowest, long limit) {
        if (file == null || file.length < EHDR_SIZE) {
            throw bad("file is " + (file == null ? "missing" : file.length + " bytes") + ", shorter than an ELF header");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x464c457f) {
            throw bad("no ELF magic (\\x7fELF) at offset 0");
        }
        if (file[4] != 2) {
            throw bad("EI_CLASS is " + file[4] + ", not 2 (64-bit)");
        }
        if (file[5] != 1) {
            throw bad("EI_DATA is " + file[5] + ", not 1 (little-endian)");
        }
        if (file[6] != 1) {
            throw bad("EI_VERSION is " + file[6] + ", not 1");
        }
        int type = b.getShort(16) & 0xffff;
        if (type != ET_EXEC) {
            throw bad("e_type is " + type + ", not ET_EXEC (2): the runtime must be a static executable");
        }
        int machine = b.getShort(18) & 0xffff;
        if (machine != EM_X86_64) {
            throw bad("e_machine is " + machine + ", not EM_X86_64 (62)");
        }
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xffff;
        int phnum = b.getShort(56) & 0xffff;
        if (phentsize != PHDR_SIZE) {
            throw bad("e_phentsize is " + phentsize + ", not " + PHDR_SIZE);
        }
        if (phnum == 0 || phnum > MAX_PHDRS) {
            throw bad("e_phnum is " + phnum + "; expected 1 to " + MAX_PHDRS + " program headers");
        }
        if (phoff < 0 || phoff > file.length || (long) phnum * PHDR_SIZE > file.length - phoff) {
            throw bad("program headers at e_phoff " + phoff + " (" + phnum + " x " + PHDR_SIZE
                    + " bytes) extend past the end of the " + file.length + "-byte file");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int p = (int) (phoff + (long) i * PHDR_SIZE);
            if (b.getInt(p) != PT_LOAD) {
                continue;
            }
            long offset = b.getLong(p + 8);
            long vaddr = b.getLong(p + 16);
            long paddr = b.getLong(p + 24);
            long filesz = b.getLong(p + 32);
            long memsz = b.getLong(p + 40);
            int flags = b.getInt(p + 4);
            String which = "PT_LOAD segment " + i;
            if (memsz == 0 && filesz == 0) {
                continue; // GNU ld may emit an empty segment at p_paddr 0: nothing to load
            }
            if (vaddr != paddr) {
                throw bad(which + ": p_vaddr 0x" + Long.toHexString(vaddr) + " differs from p_paddr 0x"
                        + Long.toHexString(paddr) + "; the runtime runs identity-mapped");
            }
            if (filesz < 0 || memsz < 0 || filesz > memsz) {
                throw bad(which + ": p_filesz " + filesz + " and p_memsz " + memsz + " are inconsistent");
            }
            if (offset < 0 || offset > file.length || filesz > file.length - offset) {
                throw bad(which + ": file bytes [" + offset + ", +" + filesz + ") lie outside the "
                        + file.length + "-byte file");
            }
            if (paddr < lowest || paddr > limit || memsz > limit - paddr) {
                throw bad(which + ": [0x" + Long.toHexString(paddr) + ", +0x" + Long.toHexString(memsz)
                        + ") is outside the loadable guest range [0x" + Long.toHexString(lowest) + ", 0x"
                        + Long.toHexString(limit) + ") (above 1 MiB, below the vCPU stacks)");
            }
            if ((flags & PF_W) != 0 && (flags & PF_X) != 0) {
                throw bad(which + ": p_flags 0x" + Integer.toHexString(flags) + " make it writable and executable;"
                        + " the runtime's pages are W^X: link code and data into separate segments");
            }
            segments.add(new Segment(paddr, offset, filesz, memsz, flags));
        }
        if (segments.isEmpty()) {
            throw bad("no PT_LOAD segment");
        }
        segments.sort(Comparator.comparingLong(Segment::gpa));
        for (int i = 1; i < segments.size(); i++) {
            Segment below = segments.get(i - 1);
            Segment above = segments.get(i);
            if (above.gpa() < below.end()) {
                throw bad("PT_LOAD segments at 0x" + Long.toHexString(below.gpa()) + " and 0x"
                        + Long.toHexString(above.gpa()) + " overlap");
            }
            boolean sharePage = (above.gpa() & -PAGE) < below.end();
            int shared = below.flags() | above.flags();
            if (sharePage && (shared & PF_W) != 0 && (shared & PF_X) != 0) {
                throw bad("PT_LOAD segments at 0x" + Long.toHexString(below.gpa()) + " and 0x"
                        + Long.toHexString(above.gpa()) + " share a 4 KiB page that would be writable and"
                        + " executable; the runtime's pages are W^X: start the writable segment on a new page");
            }
        }
        boolean entryLoaded = segments.stream().anyMatch(s -> entry >= s.gpa() && entry < s.end());
        if (!entryLoaded) {
            throw bad("entry point 0x" + Long.toHexString(entry) + " is not inside any PT_LOAD segment");
        }
        long end = segments.get(segments.size() - 1).end();
        long imageEnd = (end + 0xfff) & ~0xfffL;
        if (imageEnd > limit) {
            throw bad("the image ends at 0x" + Long.toHexString(end) + ", too close to the vCPU stacks at 0x"
                    + Long.toHexString(limit));
        }
        return new RuntimeElf(file, entry, List.copyOf(segments), imageEnd);
    }

    /** Copies every segment into guest RAM and zeroes its bss part. */
    public void load(GuestMemory memory) {
        for (Segment s : segments) {
            memory.zero(s.gpa(), s.memSize());
            memory.write(s.gpa(), file, (int) s.offset(), (int) s.fileSize());
        }
    }

    private static EnclaveException bad(String what) {
        return new EnclaveException(VmmErrors.INVALID_RUNTIME_ELF, "runtime ELF: " + what);
    }
}
