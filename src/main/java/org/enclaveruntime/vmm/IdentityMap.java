package org.enclaveruntime.vmm;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Identity page tables (virtual = physical) with per-page protections: 2 MiB pages where a whole 2 MiB
 * region has the default protection (user RW, NX), 4 KiB pages in every region some {@link Range} touches.
 */
final class IdentityMap {
    private IdentityMap() {
    }

    private static final long PRESENT = 0x1;
    private static final long WRITABLE = 0x2;
    private static final long USER = 0x4;
    private static final long LARGE = 0x80;
    private static final long NO_EXECUTE = 1L << 63;
    private static final long ADDRESS = 0x000f_ffff_ffff_f000L;
    /** Upper levels allow everything: the CPU combines the levels, so the leaf entry alone decides. */
    private static final long TABLE = PRESENT | WRITABLE | USER;

    static final long USER_RW = PRESENT | WRITABLE | USER | NO_EXECUTE;
    static final long USER_RO = PRESENT | USER | NO_EXECUTE;
    static final long USER_RX = PRESENT | USER;
    static final long SUPERVISOR_RW = PRESENT | WRITABLE | NO_EXECUTE;
    static final long SUPERVISOR_RO = PRESENT | NO_EXECUTE;
    static final long SUPERVISOR_RX = PRESENT;
    static final long ABSENT = 0;
    /** The leaf bits of a user page with module rights R (always), W, X: W^X is the caller's business. */
    static long userFlags(boolean writable, boolean executable) {
        return PRESENT | USER | (writable ? WRITABLE : 0) | (executable ? 0 : NO_EXECUTE);
    }


    private static final long PAGE_4K = 0x1000;
    private static final long PAGE_2M = 0x200000;
    private static final long GIB = 1L << 30;
    private static final int ENTRIES = 512;

    private static final int PF_X = 1;
    private static final int PF_W = 2;

    /** [start, end) gets the leaf entry bits {@code flags} (0: not present); later ranges win. */
    record Range(long start, long end, long flags) {
        static Range absent(long start, long end) {
            return new Range(start, end, ABSENT);
        }

        boolean contains(long gpa) {
            return gpa >= start && gpa < end;
        }
    }

    /**
     * User pages for the image by each segment's p_flags: executable only with PF_X, writable only with
     * PF_W. The parser guarantees that segments start on a page of their own and are never both writable and
     * executable; a page two segments shared would get both segments' rights.
     */
    static List<Range> imageRanges(List<RuntimeElf.Segment> segments) {
        TreeMap<Long, Integer> pageFlags = new TreeMap<>();
        for (RuntimeElf.Segment s : segments) {
            int flags = (s.writable() ? PF_W : 0) | (s.executable() ? PF_X : 0);
            for (long page = s.paddr() & -PAGE_4K; page < s.end(); page += PAGE_4K) {
                pageFlags.merge(page, flags, (a, b) -> a | b);
            }
        }
        List<Range> ranges = new ArrayList<>();
        pageFlags.forEach((page, flags) -> {
            long entry = PRESENT | USER | ((flags & PF_W) != 0 ? WRITABLE : 0) | ((flags & PF_X) != 0 ? 0 : NO_EXECUTE);
            Range last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
            if (last != null && last.end() == page && last.flags() == entry) {
                ranges.set(ranges.size() - 1, new Range(last.start(), page + PAGE_4K, entry));
            } else {
                ranges.add(new Range(page, page + PAGE_4K, entry));
            }
        });
        return ranges;
    }

    /**
     * Writes PML4, PDPT, page directories and page tables into [tablesStart, tablesEnd) for [0, mappedEnd),
     * which is a multiple of 2 MiB; CR3 = tablesStart.
     *
     * @throws EnclaveException INVALID_VM_SPEC if the tables do not fit
     */
    static void write(GuestMemory m, long tablesStart, long tablesEnd, long mappedEnd, List<Range> ranges) {
        m.zero(tablesStart, tablesEnd - tablesStart);
        Allocator tables = new Allocator(tablesStart, tablesEnd, mappedEnd);
        long pml4 = tables.next();
        long pdpt = tables.next();
        m.writeU64(pml4, pdpt | TABLE);
        long gigabytes = (mappedEnd + GIB - 1) / GIB;
        long firstPd = 0;
        for (long g = 0; g < gigabytes; g++) {
            long pd = tables.next();
            firstPd = g == 0 ? pd : firstPd;
            m.writeU64(pdpt + 8 * g, pd | TABLE);
        }
        TreeSet<Long> fineRegions = fineRegions(mappedEnd, ranges);
        for (long region = 0; region < mappedEnd / PAGE_2M; region++) {
            long pde = firstPd + 8 * region; // the directories are consecutive pages
            long base = region * PAGE_2M;
            if (!fineRegions.contains(region)) {
                m.writeU64(pde, base | LARGE | USER_RW);
                continue;
            }
            long pt = tables.next();
            m.writeU64(pde, pt | TABLE);
            // Only the few ranges that touch this region are looked at per page (the VMM boots on a cold JVM,
            // where 64 MiB of arena is 16384 page lookups); a region one range covers whole is filled at once.
            List<Range> here = touching(ranges, base, base + PAGE_2M);
            Range last = here.isEmpty() ? null : here.get(here.size() - 1);
            if (last != null && last.start() <= base && last.end() >= base + PAGE_2M) {
                if (last.flags() != ABSENT) {
                    for (int i = 0; i < ENTRIES; i++) {
                        m.writeU64(pt + 8L * i, (base + i * PAGE_4K) | last.flags());
                    }
                }
                continue;
            }
            for (int i = 0; i < ENTRIES; i++) {
                long gpa = base + i * PAGE_4K;
                long flags = flagsOf(gpa, here);
                if (flags != ABSENT) {
                    m.writeU64(pt + 8L * i, gpa | flags);
                }
            }
        }
    }

    /** The ranges that overlap [start, end), in their order (later ones still win). */
    private static List<Range> touching(List<Range> ranges, long start, long end) {
        List<Range> touching = new ArrayList<>();
        for (Range r : ranges) {
            if (r.start() < end && r.end() > start) {
                touching.add(r);
            }
        }
        return touching;
    }

    /** The 2 MiB regions (by index) that some range touches: each gets a page table of 4 KiB entries. */
    private static TreeSet<Long> fineRegions(long mappedEnd, List<Range> ranges) {
        TreeSet<Long> fineRegions = new TreeSet<>();
        for (Range r : ranges) {
            long last = Math.min(r.end(), mappedEnd) - 1;
            for (long region = r.start() / PAGE_2M; region <= last / PAGE_2M && r.start() < mappedEnd; region++) {
                fineRegions.add(region);
            }
        }
        return fineRegions;
    }

    /** Pages {@link #write} takes for [0, mappedEnd) with these ranges: PML4, PDPT, directories, tables. */
    static long tablePages(long mappedEnd, List<Range> ranges) {
        return 2 + (mappedEnd + GIB - 1) / GIB + fineRegions(mappedEnd, ranges).size();
    }

    /**
     * The address of the 4 KiB-page entry that maps {@code gpa} in the tables at {@code cr3}, or -1 when a
     * level is not present or a 2 MiB page maps it. Only for tables the VMM wrote (their entries are trusted).
     */
    static long leafEntry(GuestMemory m, long cr3, long gpa) {
        long table = cr3;
        for (int level = 3; level > 0; level--) {
            long e = m.readU64(table + 8 * ((gpa >>> (12 + 9 * level)) & 511));
            if ((e & PRESENT) == 0 || (level == 1 && (e & LARGE) != 0)) {
                return -1;
            }
            table = e & ADDRESS;
        }
        return table + 8 * ((gpa >>> 12) & 511);
    }

    /** A 4 KiB leaf entry for the identity page at {@code gpa} (the CPU's accessed/dirty bits left clear). */
    static long entry(long gpa, long flags) {
        return flags == ABSENT ? 0 : gpa | flags;
    }

    private static long flagsOf(long gpa, List<Range> ranges) {
        for (int i = ranges.size() - 1; i >= 0; i--) {
            if (ranges.get(i).contains(gpa)) {
                return ranges.get(i).flags();
            }
        }
        return USER_RW;
    }

    /** Hands out the pages of the page-table area in order. */
    private static final class Allocator {
        private final long end;
        private final long mappedEnd;
        private long next;

        Allocator(long start, long end, long mappedEnd) {
            this.next = start;
            this.end = end;
            this.mappedEnd = mappedEnd;
        }

        long next() {
            if (next + PAGE_4K > end) {
                throw new EnclaveException(VmmErrors.INVALID_VM_SPEC, "the page tables for " + (mappedEnd >> 20)
                        + " MiB of guest memory, the runtime image and the vCPU stacks need more than the "
                        + ((end - GuestLayout.PAGE_TABLES_GPA) >> 10) + " KiB at 0x"
                        + Long.toHexString(GuestLayout.PAGE_TABLES_GPA)
                        + " the layout has for them: give the enclave less memory or fewer vCPUs");
            }
            long page = next;
            next += PAGE_4K;
            return page;
        }
    }
}
