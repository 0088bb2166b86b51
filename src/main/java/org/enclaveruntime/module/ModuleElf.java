package org.enclaveruntime.module;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.image.Sha384;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A module's ELF (an unsigned module, or the part of a signed one before its signature), checked by every rule
 * of docs/module-format.md ("The module ELF") that the enclave's loader relies on: `module sign`, `describe` and
 * `verify` parse here, and the loader must apply the same rules (the doc lists them for it). Parsing does not
 * hash; {@link #measurement()} does, so that a fuzzer can parse millions of modules.
 */
public final class ModuleElf {
    /** Modules are read whole into memory; nothing legitimate comes near this. */
    public static final int MAX_FILE_SIZE = 1 << 30;
    public static final long PAGE = 0x1000;
    /** Every module address (p_vaddr + p_memsz, relocation targets) stays below this. */
    public static final long ADDRESS_LIMIT = 1L << 32;
    static final int EHDR_SIZE = 64;
    static final int PHDR_SIZE = 56;
    static final int MAX_PHDRS = 64;
    static final int DYN_SIZE = 16;
    static final int RELA_SIZE = 24;
    static final int SYM_SIZE = 24;
    private static final int ET_DYN = 3;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_INTERP = 3;
    private static final int PT_TLS = 7;
    private static final int FLAG_X = 1;
    private static final int FLAG_W = 2;
    private static final int FLAG_R = 4;

    /** The relocation types the loader applies. */
    public static final int R_X86_64_GLOB_DAT = 6;
    public static final int R_X86_64_JUMP_SLOT = 7;
    public static final int R_X86_64_RELATIVE = 8;
    private static final Map<Integer, String> RELOCATION_NAMES = Map.ofEntries(Map.entry(0, "R_X86_64_NONE"),
            Map.entry(1, "R_X86_64_64"), Map.entry(2, "R_X86_64_PC32"), Map.entry(3, "R_X86_64_GOT32"),
            Map.entry(4, "R_X86_64_PLT32"), Map.entry(5, "R_X86_64_COPY"), Map.entry(6, "R_X86_64_GLOB_DAT"),
            Map.entry(7, "R_X86_64_JUMP_SLOT"), Map.entry(8, "R_X86_64_RELATIVE"), Map.entry(9, "R_X86_64_GOTPCREL"),
            Map.entry(10, "R_X86_64_32"), Map.entry(11, "R_X86_64_32S"), Map.entry(12, "R_X86_64_16"),
            Map.entry(13, "R_X86_64_PC16"), Map.entry(14, "R_X86_64_8"), Map.entry(15, "R_X86_64_PC8"),
            Map.entry(16, "R_X86_64_DTPMOD64"), Map.entry(17, "R_X86_64_DTPOFF64"), Map.entry(18, "R_X86_64_TPOFF64"),
            Map.entry(24, "R_X86_64_PC64"), Map.entry(25, "R_X86_64_GOTOFF64"), Map.entry(36, "R_X86_64_TLSDESC"),
            Map.entry(37, "R_X86_64_IRELATIVE"));

    // Dynamic tags (System V gABI, GNU extensions).
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;
    private static final long DT_PLTRELSZ = 2;
    private static final long DT_STRTAB = 5;
    private static final long DT_SYMTAB = 6;
    private static final long DT_RELA = 7;
    private static final long DT_RELASZ = 8;
    private static final long DT_RELAENT = 9;
    private static final long DT_STRSZ = 10;
    private static final long DT_SYMENT = 11;
    private static final long DT_REL = 17;
    private static final long DT_RELSZ = 18;
    private static final long DT_RELENT = 19;
    private static final long DT_PLTREL = 20;
    private static final long DT_TEXTREL = 22;
    private static final long DT_JMPREL = 23;
    private static final long DT_FLAGS = 30;
    private static final long DT_RELRSZ = 35;
    private static final long DT_RELR = 36;
    private static final long DT_RELRENT = 37;
    private static final long DF_TEXTREL = 4;
    private static final long[] SINGLE_TAGS = {DT_PLTRELSZ, DT_STRTAB, DT_SYMTAB, DT_RELA, DT_RELASZ, DT_RELAENT,
            DT_STRSZ, DT_SYMENT, DT_PLTREL, DT_JMPREL, DT_FLAGS};

    /**
     * A PT_LOAD with content: the file's bytes [offset, offset + fileSize) go to module address {@code vaddr},
     * zeros up to {@code memSize}.
     *
     * @param index its program header's index, as messages name it
     * @param flags p_flags: R 4, W 2, X 1, never W and X together
     */
    public record Segment(int index, long offset, long vaddr, long fileSize, long memSize, int flags) {
        public long end() {
            return vaddr + memSize;
        }

        public boolean writable() {
            return (flags & FLAG_W) != 0;
        }

        public boolean executable() {
            return (flags & FLAG_X) != 0;
        }

        /** "R-X" style, as readelf and `module describe` show it. */
        public String access() {
            return ((flags & FLAG_R) != 0 ? "R" : "-") + (writable() ? "W" : "-") + (executable() ? "X" : "-");
        }

        long pageStart() {
            return vaddr & -PAGE;
        }

        long pageEnd() {
            return (end() + PAGE - 1) & -PAGE;
        }
    }

    /**
     * One relocation the loader applies: write 8 bytes at module address {@code offset}.
     *
     * @param table  ".rela.dyn" (DT_RELA) or ".rela.plt" (DT_JMPREL), with {@code index} the entry in it
     * @param symbol for GLOB_DAT and JUMP_SLOT, the symbol's name; null for RELATIVE
     * @param import true when the symbol is undefined in the module: the runtime's API table must provide it
     */
    public record Relocation(String table, int index, long offset, int type, long addend, String symbol,
                             boolean imported) {
        public String typeName() {
            return ModuleElf.relocationName(type);
        }
    }

    private final byte[] file;
    private final int length;
    private final List<Segment> segments;
    private final long dynamicAddress;
    private final long dynamicSize;
    private final List<Relocation> relocations;
    private final long imageSize;

    private ModuleElf(byte[] file, int length, List<Segment> segments, long dynamicAddress, long dynamicSize,
                      List<Relocation> relocations) {
        this.file = file;
        this.length = length;
        this.segments = List.copyOf(segments);
        this.dynamicAddress = dynamicAddress;
        this.dynamicSize = dynamicSize;
        this.relocations = List.copyOf(relocations);
        Segment last = segments.get(segments.size() - 1);
        this.imageSize = last.pageEnd();
    }

    public List<Segment> segments() {
        return segments;
    }

    public List<Relocation> relocations() {
        return relocations;
    }

    /** The names the runtime's API table must provide, sorted. */
    public List<String> imports() {
        TreeSet<String> names = new TreeSet<>();
        for (Relocation r : relocations) {
            if (r.imported()) {
                names.add(r.symbol());
            }
        }
        return List.copyOf(names);
    }

    /** PT_DYNAMIC's p_vaddr and p_memsz. */
    public long dynamicAddress() {
        return dynamicAddress;
    }

    public long dynamicSize() {
        return dynamicSize;
    }

    /** The module's memory: from address 0 to the end of the highest segment, rounded up to 4 KiB. */
    public long imageSize() {
        return imageSize;
    }

    /**
     * The MRENCLAVE-role measurement (docs/module-format.md, "Measurement"): SHA-384 over "EMODMEAS", the
     * version, the segment count, PT_DYNAMIC's address and size, then per segment in address order its address,
     * memory size, file size, flags and file bytes.
     */
    public Sha384 measurement() {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-384");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-384", e);
        }
        ByteBuffer head = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        head.put("EMODMEAS".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(segments.size())
                .putLong(dynamicAddress).putLong(dynamicSize);
        md.update(head.array());
        for (Segment s : segments) {
            ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(s.vaddr()).putLong(s.memSize()).putLong(s.fileSize()).putInt(s.flags()).putInt(0);
            md.update(b.array());
            md.update(file, (int) s.offset(), (int) s.fileSize());
        }
        return Sha384.of(md.digest());
    }

    /**
     * Parses and checks the first {@code length} bytes of {@code file} (not copied: the caller must not change
     * them while this object is used).
     *
     * @param what names the module in messages
     * @throws EnclaveException with a {@link ModuleErrors} code naming the first rule broken
     */
    public static ModuleElf parse(byte[] file, int length, String what) {
        return new Parser(file, length, what).parse();
    }

    public static ModuleElf parse(byte[] file, String what) {
        return parse(file, file.length, what);
    }

    static String relocationName(int type) {
        String name = RELOCATION_NAMES.get(type);
        return (name == null ? "type" : name) + " (" + Integer.toUnsignedString(type) + ")";
    }

    private static final class Parser {
        private final byte[] bytes;
        private final ByteBuffer b;
        private final long size;
        private final String what;
        private final List<Segment> loads = new ArrayList<>();

        Parser(byte[] file, int length, String what) {
            this.bytes = file;
            this.b = ByteBuffer.wrap(file, 0, length).slice().order(ByteOrder.LITTLE_ENDIAN);
            this.size = length;
            this.what = what;
        }

        ModuleElf parse() {
            if (size < EHDR_SIZE) {
                throw bad(ModuleErrors.NOT_A_MODULE, "is " + size + " bytes, shorter than an ELF64 header (64 bytes)");
            }
            if (b.getInt(0) != 0x464C457F) {
                throw bad(ModuleErrors.NOT_A_MODULE, "is not an ELF file (no \\x7fELF magic)");
            }
            requireByte(4, 2, "EI_CLASS", "ELF64");
            requireByte(5, 1, "EI_DATA", "little-endian");
            requireByte(6, 1, "EI_VERSION", "the current ELF version");
            int type = u16(16);
            if (type != ET_DYN) {
                throw bad(ModuleErrors.NOT_A_MODULE, "is not a shared object (e_type = " + type
                        + ", expected 3 = ET_DYN; link with gcc -fPIC -shared)");
            }
            int machine = u16(18);
            if (machine != EM_X86_64) {
                throw bad(ModuleErrors.NOT_A_MODULE, "is not for x86-64 (e_machine = " + machine
                        + ", expected 62 = EM_X86_64)");
            }
            long phoff = b.getLong(32);
            int phentsize = u16(54);
            int phnum = u16(56);
            if (phentsize != PHDR_SIZE) {
                throw bad(ModuleErrors.NOT_A_MODULE, "has program headers of " + phentsize
                        + " bytes (e_phentsize), expected 56");
            }
            if (phnum == 0 || phnum > MAX_PHDRS) {
                throw bad(ModuleErrors.NOT_A_MODULE, "has " + phnum + " program headers (e_phnum), expected 1 to "
                        + MAX_PHDRS);
            }
            if (!inside(phoff, (long) phnum * PHDR_SIZE, size)) {
                throw bad(ModuleErrors.NOT_A_MODULE, "has its program headers (e_phoff " + Long.toUnsignedString(phoff)
                        + ", " + phnum + " entries of 56 bytes) outside the file of " + size + " bytes");
            }
            // A flag, not a sentinel address: p_vaddr may hold any value, -1 included, and must still count.
            boolean hasDynamic = false;
            long dynAddress = 0;
            long dynSize = 0;
            for (int i = 0; i < phnum; i++) {
                int at = (int) phoff + i * PHDR_SIZE;
                int ptype = b.getInt(at);
                if (ptype == PT_LOAD) {
                    load(i, at);
                } else if (ptype == PT_DYNAMIC) {
                    if (hasDynamic) {
                        throw bad(ModuleErrors.BAD_DYNAMIC, "has more than one PT_DYNAMIC (program header " + i + ")");
                    }
                    hasDynamic = true;
                    dynAddress = b.getLong(at + 16);
                    dynSize = b.getLong(at + 40);
                } else if (ptype == PT_INTERP) {
                    throw bad(ModuleErrors.NOT_A_MODULE, "asks for a program interpreter (PT_INTERP, program header "
                            + i + "): a module is a shared object, not an executable");
                } else if (ptype == PT_TLS) {
                    throw bad(ModuleErrors.BAD_SEGMENTS, "uses thread-local storage (PT_TLS, program header " + i
                            + "), which the loader does not provide");
                }
            }
            if (loads.isEmpty()) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has no PT_LOAD segment with content: nothing to load");
            }
            for (int i = 1; i < loads.size(); i++) {
                Segment prev = loads.get(i - 1);
                Segment cur = loads.get(i);
                if (cur.pageStart() < prev.pageEnd()) {
                    String how = cur.vaddr() < prev.end() && prev.vaddr() < cur.end() ? "overlaps"
                            : cur.vaddr() < prev.vaddr() ? "comes before (PT_LOADs must be in ascending p_vaddr order)"
                            : "shares a 4 KiB page with";
                    throw bad(ModuleErrors.BAD_SEGMENTS, "has PT_LOAD segment " + cur.index() + " [0x"
                            + hex(cur.vaddr()) + ", 0x" + hex(cur.end()) + ") that " + how + " segment " + prev.index()
                            + " [0x" + hex(prev.vaddr()) + ", 0x" + hex(prev.end())
                            + "); each page gets one segment's access rights");
                }
            }
            if (!hasDynamic) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has no PT_DYNAMIC: link it with gcc -shared");
            }
            Segment dynSegment = fileBacked(dynAddress, dynSize, "PT_DYNAMIC", ModuleErrors.BAD_DYNAMIC);
            if (dynSize % DYN_SIZE != 0) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has a PT_DYNAMIC of " + Long.toUnsignedString(dynSize)
                        + " bytes, not a multiple of 16 (one Elf64_Dyn)");
            }
            Dynamic dyn = dynamic(dynSegment, dynAddress, dynSize);
            List<Relocation> relocations = new ArrayList<>();
            relocations(dyn, "DT_RELA", dyn.get(DT_RELA), DT_RELASZ, "DT_RELASZ", ".rela.dyn", relocations);
            if (dyn.has(DT_JMPREL)) {
                if (!dyn.has(DT_PLTREL) || dyn.get(DT_PLTREL) != DT_RELA) {
                    throw bad(ModuleErrors.BAD_DYNAMIC, "has DT_JMPREL without DT_PLTREL = 7 (DT_RELA)");
                }
                relocations(dyn, "DT_JMPREL", dyn.get(DT_JMPREL), DT_PLTRELSZ, "DT_PLTRELSZ", ".rela.plt", relocations);
            }
            return new ModuleElf(bytes, (int) size, loads, dynAddress, dynSize, relocations);
        }

        private void load(int index, int at) {
            int flags = b.getInt(at + 4);
            long offset = b.getLong(at + 8);
            long vaddr = b.getLong(at + 16);
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            long align = b.getLong(at + 48);
            if (filesz == 0 && memsz == 0) {
                return;
            }
            String name = "PT_LOAD segment " + index;
            if ((flags & ~7) != 0) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " with p_flags 0x" + Integer.toHexString(flags)
                        + ": only R (4), W (2) and X (1) are allowed");
            }
            if ((flags & (FLAG_W | FLAG_X)) == (FLAG_W | FLAG_X)) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " with p_flags 0x" + Integer.toHexString(flags)
                        + ", writable and executable; module pages are W^X: keep code and data in separate segments");
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " with p_filesz " + Long.toUnsignedString(filesz)
                        + " larger than p_memsz " + Long.toUnsignedString(memsz));
            }
            if (!inside(offset, filesz, size)) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " (p_offset " + Long.toUnsignedString(offset)
                        + ", p_filesz " + Long.toUnsignedString(filesz) + ") outside the file of " + size + " bytes");
            }
            if (!inside(vaddr, memsz, ADDRESS_LIMIT)) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " (p_vaddr 0x" + Long.toUnsignedString(vaddr, 16)
                        + ", p_memsz 0x" + Long.toUnsignedString(memsz, 16) + ") reaching beyond 4 GiB");
            }
            if (align != 0 && (align & (align - 1)) != 0) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " with p_align " + Long.toUnsignedString(align)
                        + ", not a power of two");
            }
            if (vaddr % PAGE != offset % PAGE) {
                throw bad(ModuleErrors.BAD_SEGMENTS, "has " + name + " misaligned: p_vaddr 0x" + hex(vaddr)
                        + " and p_offset 0x" + hex(offset) + " differ modulo 4096, so it cannot be mapped page by page");
            }
            loads.add(new Segment(index, offset, vaddr, filesz, memsz, flags));
        }

        /** The segment whose file bytes hold [address, address + length), or an error with {@code code}. */
        private Segment fileBacked(long address, long length, String name, ErrorCode code) {
            for (Segment s : loads) {
                if (Long.compareUnsigned(address, s.vaddr()) >= 0 && inside(address - s.vaddr(), length, s.fileSize())) {
                    return s;
                }
            }
            throw bad(code, "has " + name + " at [0x" + Long.toUnsignedString(address, 16) + ", +0x"
                    + Long.toUnsignedString(length, 16) + ") outside the file contents of every PT_LOAD segment");
        }

        private int fileOffset(Segment s, long address) {
            return (int) (s.offset() + (address - s.vaddr()));
        }

        private record Dynamic(Map<Long, Long> values) {
            boolean has(long tag) {
                return values.containsKey(tag);
            }

            long get(long tag) {
                return values.getOrDefault(tag, 0L);
            }
        }

        private Dynamic dynamic(Segment s, long address, long length) {
            Map<Long, Long> values = new HashMap<>();
            int at = fileOffset(s, address);
            int entries = (int) (length / DYN_SIZE);
            boolean ended = false;
            for (int i = 0; i < entries; i++) {
                long tag = b.getLong(at + i * DYN_SIZE);
                long value = b.getLong(at + i * DYN_SIZE + 8);
                if (tag == DT_NULL) {
                    ended = true;
                    break;
                }
                if (tag == DT_NEEDED) {
                    throw bad(ModuleErrors.BAD_DYNAMIC, "needs another shared library (DT_NEEDED, dynamic entry " + i
                            + "); a module imports only from the runtime: link with -nostdlib");
                }
                if (tag == DT_TEXTREL || tag == DT_FLAGS && (value & DF_TEXTREL) != 0) {
                    throw bad(ModuleErrors.TEXT_RELOCATION, "has text relocations (" + (tag == DT_TEXTREL
                            ? "DT_TEXTREL" : "DF_TEXTREL in DT_FLAGS") + ", dynamic entry " + i
                            + "): code would have to be written to; compile every object with -fPIC");
                }
                if (tag == DT_REL || tag == DT_RELSZ || tag == DT_RELENT) {
                    throw bad(ModuleErrors.BAD_DYNAMIC, "has REL relocations (tag " + tag + ", dynamic entry " + i
                            + "); x86-64 modules use RELA only");
                }
                if (tag == DT_RELR || tag == DT_RELRSZ || tag == DT_RELRENT) {
                    throw bad(ModuleErrors.BAD_DYNAMIC, "has packed relative relocations (DT_RELR, tag " + tag
                            + ", dynamic entry " + i + "), which the loader does not apply; link without "
                            + "-z pack-relative-relocs");
                }
                for (long single : SINGLE_TAGS) {
                    if (tag == single && values.put(tag, value) != null) {
                        throw bad(ModuleErrors.BAD_DYNAMIC, "has dynamic tag " + tag + " twice (entry " + i + ")");
                    }
                }
            }
            if (!ended) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has a dynamic section without DT_NULL at its end");
            }
            if (values.containsKey(DT_RELAENT) && values.get(DT_RELAENT) != RELA_SIZE) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has DT_RELAENT " + Long.toUnsignedString(values.get(DT_RELAENT))
                        + ", expected 24 (Elf64_Rela)");
            }
            if (values.containsKey(DT_SYMENT) && values.get(DT_SYMENT) != SYM_SIZE) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has DT_SYMENT " + Long.toUnsignedString(values.get(DT_SYMENT))
                        + ", expected 24 (Elf64_Sym)");
            }
            return new Dynamic(values);
        }

        private void relocations(Dynamic dyn, String tableTag, long address, long sizeTag, String sizeName,
                                 String table, List<Relocation> out) {
            boolean hasTable = dyn.has(tableTag.equals("DT_RELA") ? DT_RELA : DT_JMPREL);
            if (!hasTable) {
                if (dyn.has(sizeTag) && dyn.get(sizeTag) != 0) {
                    throw bad(ModuleErrors.BAD_DYNAMIC, "has " + sizeName + " without " + tableTag);
                }
                return;
            }
            if (!dyn.has(sizeTag)) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has " + tableTag + " without " + sizeName);
            }
            long length = dyn.get(sizeTag);
            if (length % RELA_SIZE != 0) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has " + sizeName + " " + Long.toUnsignedString(length)
                        + ", not a multiple of 24 (Elf64_Rela)");
            }
            Segment s = fileBacked(address, length, table + " (" + tableTag + ", " + sizeName + ")",
                    ModuleErrors.BAD_DYNAMIC);
            int at = fileOffset(s, address);
            int count = (int) (length / RELA_SIZE);
            for (int i = 0; i < count; i++) {
                int e = at + i * RELA_SIZE;
                long offset = b.getLong(e);
                long info = b.getLong(e + 8);
                long addend = b.getLong(e + 16);
                int type = (int) info;
                long sym = info >>> 32;
                String where = table + " entry " + i;
                String symbol = null;
                boolean isImport = false;
                if (type == R_X86_64_RELATIVE) {
                    if (sym != 0) {
                        throw bad(ModuleErrors.BAD_DYNAMIC, "has " + where + ", R_X86_64_RELATIVE with symbol index "
                                + sym + " (must be 0)");
                    }
                } else if (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT) {
                    if (addend != 0) {
                        throw bad(ModuleErrors.BAD_DYNAMIC, "has " + where + ", " + relocationName(type)
                                + " with addend " + addend + " (must be 0: the loader writes the symbol's address)");
                    }
                    Symbol resolved = symbol(dyn, sym, where);
                    symbol = resolved.name();
                    isImport = resolved.undefined();
                } else {
                    String name = sym == 0 ? "" : " against " + safeSymbolName(dyn, sym);
                    throw bad(ModuleErrors.UNSUPPORTED_RELOCATION, "has " + where + " of type "
                            + relocationName(type) + name + " at 0x" + Long.toUnsignedString(offset, 16)
                            + "; the loader applies only R_X86_64_RELATIVE, R_X86_64_GLOB_DAT and R_X86_64_JUMP_SLOT");
                }
                Segment target = null;
                for (Segment t : loads) {
                    if (Long.compareUnsigned(offset, t.vaddr()) >= 0 && inside(offset - t.vaddr(), 8, t.memSize())) {
                        target = t;
                        break;
                    }
                }
                if (target == null || !target.writable()) {
                    throw bad(ModuleErrors.TEXT_RELOCATION, "has " + where + " (" + relocationName(type)
                            + ") writing at 0x" + Long.toUnsignedString(offset, 16) + ", "
                            + (target == null ? "outside every segment" : "in non-writable segment " + target.index())
                            + ": relocations may only write to writable data");
                }
                out.add(new Relocation(table, i, offset, type, addend, symbol, isImport));
            }
        }

        private record Symbol(String name, boolean undefined) {
        }

        /** Dynamic symbol {@code index}, checked against DT_SYMTAB, DT_STRTAB and DT_STRSZ. */
        private Symbol symbol(Dynamic dyn, long index, String where) {
            if (index == 0) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has " + where + " that needs a symbol but names symbol 0");
            }
            if (!dyn.has(DT_SYMTAB) || !dyn.has(DT_STRTAB) || !dyn.has(DT_STRSZ)) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has symbol relocations but no DT_SYMTAB, DT_STRTAB and DT_STRSZ");
            }
            long symtab = dyn.get(DT_SYMTAB);
            Segment ss = fileBacked(symtab, 0, "DT_SYMTAB", ModuleErrors.BAD_DYNAMIC);
            long available = ss.fileSize() - (symtab - ss.vaddr());
            if (Long.compareUnsigned(index, available / SYM_SIZE) >= 0) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has " + where + " naming symbol " + index
                        + ", beyond the segment that holds DT_SYMTAB");
            }
            int at = fileOffset(ss, symtab) + (int) index * SYM_SIZE;
            long nameOffset = Integer.toUnsignedLong(b.getInt(at));
            int shndx = u16(at + 6);
            long value = b.getLong(at + 8);
            long strtab = dyn.get(DT_STRTAB);
            long strsz = dyn.get(DT_STRSZ);
            Segment st = fileBacked(strtab, strsz, "DT_STRTAB (DT_STRSZ " + Long.toUnsignedString(strsz) + ")",
                    ModuleErrors.BAD_DYNAMIC);
            if (nameOffset >= strsz) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has symbol " + index + " whose name offset " + nameOffset
                        + " is outside DT_STRTAB (" + strsz + " bytes)");
            }
            int start = fileOffset(st, strtab);
            int end = start + (int) strsz;
            int p = start + (int) nameOffset;
            int q = p;
            while (q < end && bytes[q] != 0) {
                q++;
            }
            if (q == end || q == p) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has symbol " + index + " with "
                        + (q == p ? "an empty name" : "a name not terminated inside DT_STRTAB"));
            }
            String name = new String(bytes, p, q - p, StandardCharsets.ISO_8859_1);
            boolean undefined = shndx == 0;
            if (!undefined && Long.compareUnsigned(value, loads.get(loads.size() - 1).pageEnd()) >= 0) {
                throw bad(ModuleErrors.BAD_DYNAMIC, "has defined symbol " + name + " at 0x"
                        + Long.toUnsignedString(value, 16) + ", outside the module's memory");
            }
            return new Symbol(name, undefined);
        }

        /** For messages about a relocation that is refused anyway: the name if it can be read, else the index. */
        private String safeSymbolName(Dynamic dyn, long index) {
            try {
                return "symbol " + symbol(dyn, index, "the relocation").name();
            } catch (EnclaveException e) {
                return "symbol " + index;
            }
        }

        private void requireByte(int at, int expected, String field, String meaning) {
            if (b.get(at) != expected) {
                throw bad(ModuleErrors.NOT_A_MODULE, "is not " + meaning + " (" + field + " = " + b.get(at)
                        + ", expected " + expected + ")");
            }
        }

        private int u16(int at) {
            return Short.toUnsignedInt(b.getShort(at));
        }

        private EnclaveException bad(ErrorCode code, String problem) {
            return new EnclaveException(code, what + " " + problem);
        }
    }

    /** [start, start + length) lies in [0, limit), compared without overflow; all values unsigned. */
    static boolean inside(long start, long length, long limit) {
        return Long.compareUnsigned(start, limit) <= 0 && Long.compareUnsigned(length, limit - start) <= 0;
    }

    private static String hex(long v) {
        return Long.toHexString(v);
    }
}
