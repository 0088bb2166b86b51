package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.BusDevice;
import org.enclaveruntime.devices.GuestLog;
import org.enclaveruntime.memory.GuestMemory;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Port 0x507 MODMEM of docs/module-runtime.md, section 1: maps and unmaps module arena pages with the rights
 * the runtime asks for (never W and X together), copying or scrubbing them, on behalf of a ring-3 runtime
 * that cannot touch its page tables. A bad request gets its status and a (rate-limited) log line; nothing a
 * guest writes here ends the VMM.
 *
 * <p>Which pages are mapped, with what rights and for which module tag, is kept here (the CPU sets accessed
 * and dirty bits in the entries, so the entries are only ever written). One lock: two vCPUs mapping the same
 * pages at once must not both find them free. MODMEM is rare, but handling it still allocates nothing but the
 * view of the source and, for a module not seen before, the copy of its label.
 */
final class ModuleMemory implements BusDevice {
    static final int PORT = 0x507;
    static final int OP_MAP = 1;
    static final int OP_UNMAP = 2;
    static final int R = 4;
    static final int W = 2;
    static final int X = 1;
    /** Status values (docs/module-runtime.md); 5 is also what the runtime sees when its request was not written. */
    static final int OK = 0;
    static final int E_OP = 1;
    static final int E_RANGE = 2;
    static final int E_SOURCE = 3;
    static final int E_STATE = 4;
    static final int E_REQUEST = 5;

    static final int REQUEST_BYTES = 88;
    static final int OFFSET_OP = 0;
    static final int OFFSET_RIGHTS = 4;
    static final int OFFSET_DST = 8;
    static final int OFFSET_LENGTH = 16;
    static final int OFFSET_SRC = 24;
    static final int OFFSET_TAG = 32;
    static final int OFFSET_STATUS = 36;
    static final int OFFSET_LABEL = 40;
    static final int LABEL_BYTES = 48;

    private static final long PAGE = ModuleArena.PAGE;
    private static final long REGION = 0x200000;
    private static final int ENTRIES_PER_TABLE = (int) (REGION / PAGE);
    /** The first 8 bytes of a label (16 hex digits) name a module in a crash report. */
    private static final int LABEL_SHOWN = 8;

    private final GuestMemory memory;
    private final ModuleArena arena;
    private final GuestLog log;
    /** The static layout as parallel arrays (later ranges win): checking a source walks them without an iterator. */
    private final long[] rangeStarts;
    private final long[] rangeEnds;
    private final long[] rangeFlags;
    /** Per 2 MiB arena region: the GPA of its page table. Per arena page: its rights (0 = not present), its tag. */
    private final long[] tables;
    private final byte[] rights;
    private final int[] tags;
    /** MRENCLAVE of each tag that has mapped pages (tag 0 has none). */
    private final Map<Integer, byte[]> labels = new HashMap<>();
    private final byte[] labelScratch = new byte[LABEL_BYTES];

    ModuleMemory(GuestMemory memory, GuestLayout.SystemArea layout, GuestLog log) {
        this.memory = memory;
        this.arena = layout.arena();
        this.log = log;
        List<IdentityMap.Range> ranges = layout.ranges();
        rangeStarts = new long[ranges.size()];
        rangeEnds = new long[ranges.size()];
        rangeFlags = new long[ranges.size()];
        for (int i = 0; i < ranges.size(); i++) {
            rangeStarts[i] = ranges.get(i).start();
            rangeEnds[i] = ranges.get(i).end();
            rangeFlags[i] = ranges.get(i).flags();
        }
        rights = new byte[arena.pages()];
        tags = new int[arena.pages()];
        tables = new long[(int) (arena.size() / REGION)];
        for (int r = 0; r < tables.length; r++) {
            long region = arena.gpa() + r * REGION;
            long entry = IdentityMap.leafEntry(memory, GuestLayout.PAGE_TABLES_GPA, region);
            if (entry < 0 || memory.readU64(entry) != 0) {
                throw new IllegalStateException("module arena region 0x" + Long.toHexString(region)
                        + " has no 4 KiB page table of its own, or its first page is present");
            }
            tables[r] = entry; // the region's first entry: the arena starts on a region, so that is its table
        }
    }

    @Override
    public long read(int vcpu, long offset, int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    @Override
    public void write(int vcpu, long offset, int size, long value) {
        if (size != 4) {
            log.modmem(vcpu, value, E_REQUEST, "not a 32-bit write; ignored");
            return;
        }
        handle(vcpu, value & 0xffff_ffffL);
    }

    /** Carries out the request at {@code request}; returns the status written (or E_REQUEST when none was). */
    synchronized int handle(int vcpu, long request) {
        if ((request & 7) != 0 || !userWritable(request, REQUEST_BYTES)) {
            log.modmem(vcpu, request, E_REQUEST, "the request is not 8-byte aligned user read/write RAM; "
                    + "no status written");
            return E_REQUEST;
        }
        int op = (int) memory.readU32(request + OFFSET_OP);
        int want = (int) memory.readU32(request + OFFSET_RIGHTS);
        long dst = memory.readU64(request + OFFSET_DST);
        long length = memory.readU64(request + OFFSET_LENGTH);
        long src = memory.readU64(request + OFFSET_SRC);
        int tag = (int) memory.readU32(request + OFFSET_TAG);
        int status = check(vcpu, request, op, want, dst, length, src, tag);
        if (status == OK) {
            if (op == OP_MAP) {
                map(dst, length, src, want, tag, request);
            } else {
                unmap(dst, length, tag);
            }
        }
        memory.writeU32(request + OFFSET_STATUS, status);
        return status;
    }

    private int check(int vcpu, long request, int op, int want, long dst, long length, long src, int tag) {
        if (op != OP_MAP && op != OP_UNMAP) {
            return refuse(vcpu, request, E_OP, "the op is neither 1 MAP nor 2 UNMAP");
        }
        if (op == OP_MAP && ((want & ~(R | W | X)) != 0 || (want & R) == 0 || (want & (W | X)) == (W | X))) {
            return refuse(vcpu, request, E_OP, "MAP rights must be R, R|W or R|X");
        }
        if ((dst & (PAGE - 1)) != 0 || length <= 0 || (length & (PAGE - 1)) != 0 || !arena.contains(dst, length)) {
            return refuse(vcpu, request, E_RANGE, "[dst, dst+length) is not whole pages inside the module arena");
        }
        if (request < dst + length && dst < request + REQUEST_BYTES) {
            return refuse(vcpu, request, E_REQUEST, "the request lies in the range it maps or unmaps");
        }
        if (op == OP_MAP && src != 0
                && (!userWritable(src, length) || (src < dst + length && dst < src + length))) {
            return refuse(vcpu, request, E_SOURCE, "src is not user read/write RAM or overlaps dst");
        }
        int first = page(dst);
        int end = first + (int) (length / PAGE);
        for (int i = first; i < end; i++) {
            if (op == OP_MAP ? rights[i] != 0 : rights[i] == 0 || tags[i] != tag) {
                return refuse(vcpu, request, E_STATE, op == OP_MAP ? "a page of the range is already mapped"
                        : "a page of the range is not mapped or has another tag");
            }
        }
        return OK;
    }

    private int refuse(int vcpu, long request, int status, String why) {
        log.modmem(vcpu, request, status, why);
        return status;
    }

    /** Contents first, then the entries: no vCPU can see a page before it holds what it should. */
    private void map(long dst, long length, long src, int want, int tag, long request) {
        if (src == 0) {
            memory.zero(dst, length);
        } else {
            memory.write(dst, memory.view(src, length));
        }
        if (tag != 0) {
            memory.read(request + OFFSET_LABEL, labelScratch, 0, LABEL_BYTES);
            byte[] known = labels.get(tag);
            if (known == null || !java.util.Arrays.equals(known, labelScratch)) {
                labels.put(tag, labelScratch.clone());
            }
        }
        GuestMemory.fullFence();
        long flags = IdentityMap.userFlags((want & W) != 0, (want & X) != 0);
        int first = page(dst);
        int end = first + (int) (length / PAGE);
        for (int i = first; i < end; i++) {
            rights[i] = (byte) want;
            tags[i] = tag;
            memory.writeU64(entry(i), IdentityMap.entry(arena.gpa() + i * PAGE, flags));
        }
    }

    /**
     * Entries first, then the scrub. Another vCPU may still hold a translation until it flushes its TLB (the
     * runtime's flush generation); what it writes meanwhile lands in a page no one can map before that flush.
     */
    private void unmap(long dst, long length, int tag) {
        int first = page(dst);
        int end = first + (int) (length / PAGE);
        for (int i = first; i < end; i++) {
            memory.writeU64(entry(i), 0);
            rights[i] = 0;
            tags[i] = 0;
        }
        GuestMemory.fullFence();
        memory.zero(dst, length);
        if (tag != 0 && lowestPage(tag) < 0) {
            labels.remove(tag);
        }
    }

    /** The GPA of arena page i's page-table entry. */
    private long entry(int i) {
        return tables[i / ENTRIES_PER_TABLE] + 8L * (i % ENTRIES_PER_TABLE);
    }

    private int page(long gpa) {
        return (int) ((gpa - arena.gpa()) / PAGE);
    }

    /**
     * Whether ring 3 may write every byte of [start, start + length): RAM (never the device window), user
     * read/write by the layout, and in the arena only pages mapped W now. Overflow-safe.
     */
    boolean userWritable(long start, long length) {
        if (length <= 0 || !memory.contains(start, length)) {
            return false;
        }
        for (long page = start & -PAGE; page < start + length; page += PAGE) {
            if (arena.contains(page, 1)) {
                if ((rights[page(page)] & W) == 0) {
                    return false;
                }
            } else if (staticFlags(page) != IdentityMap.USER_RW) {
                return false;
            }
        }
        return true;
    }

    private long staticFlags(long gpa) {
        for (int i = rangeStarts.length - 1; i >= 0; i--) {
            if (gpa >= rangeStarts[i] && gpa < rangeEnds[i]) {
                return rangeFlags[i];
            }
        }
        return IdentityMap.USER_RW;
    }

    private int lowestPage(int tag) {
        for (int i = 0; i < tags.length; i++) {
            if (rights[i] != 0 && tags[i] == tag) {
                return i;
            }
        }
        return -1;
    }

    /**
     * For a crash report: " in module 3 (MRENCLAVE 0123456789abcdef...) at module offset 0x1a2" when
     * {@code rip} is in a page mapped for a module (tag != 0), the offset counted from that module's lowest
     * mapped page; "" otherwise.
     */
    synchronized String attribution(long rip) {
        if (!arena.contains(rip, 1)) {
            return "";
        }
        int i = page(rip);
        if (rights[i] == 0 || tags[i] == 0) {
            return "";
        }
        int tag = tags[i];
        long base = arena.gpa() + lowestPage(tag) * PAGE;
        byte[] label = labels.getOrDefault(tag, new byte[LABEL_BYTES]);
        return " in module " + Integer.toUnsignedString(tag) + " (MRENCLAVE "
                + HexFormat.of().formatHex(label, 0, LABEL_SHOWN) + "...) at module offset 0x"
                + Long.toHexString(rip - base);
    }

    /** The rights of the arena page at {@code gpa} (0: not present), for tests. */
    synchronized int rightsOf(long gpa) {
        return rights[page(gpa)];
    }
}
