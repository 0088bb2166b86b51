package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The 2M and 1G pools, and whether a request's 2M pages are free already or can likely be added: free
 * physically contiguous 2 MiB blocks are counted from /proc/buddyinfo, where fragmentation shows.
 */
public record HugepagesCheck(Path root, long requestBytes) implements DoctorCheck {
    private static final int ORDER_2M = 9;

    @Override
    public String name() {
        return "hugepages";
    }

    @Override
    public CheckResult run() {
        MemoryInfo m = MemoryReader.read(root);
        List<String> pools = new ArrayList<>();
        for (PageSize size : List.of(PageSize.SIZE_2M, PageSize.SIZE_1G)) {
            m.pool(size).ifPresent(p -> pools.add(size.label() + ": " + p.total() + " pages, " + p.available() + " free"));
        }
        if (m.pool(PageSize.SIZE_2M).isEmpty()) {
            return CheckResult.warn("this kernel has no hugepage pools (/sys/kernel/mm/hugepages is missing)",
                    "Accept ordinary locked memory for the enclave, or use a kernel with CONFIG_HUGETLBFS for hugepages.");
        }
        long needed = requestBytes / PageSize.SIZE_2M.bytes();
        long free = m.pool(PageSize.SIZE_2M).get().available();
        long addable = contiguous2mBlocks();
        String detail = String.join("; ", pools) + (addable >= 0 ? "; about " + addable
                + " more 2M pages can be added now (/proc/buddyinfo)" : "");
        if (addable >= 0 && free + addable < needed) {
            return CheckResult.warn(detail + ", fewer than the " + needed + " that memory = " + (requestBytes >> 20)
                    + "M needs", "Reserve hugepages at boot (hugepagesz=2M hugepages=" + needed + "), or set hugepages = off.");
        }
        return CheckResult.ok(detail);
    }

    /** Free blocks of 2 MiB or larger, in 2 MiB units; -1 when buddyinfo cannot be read. */
    private long contiguous2mBlocks() {
        SysfsFiles sys = new SysfsFiles(root);
        if (!sys.exists("/proc/buddyinfo")) {
            return -1;
        }
        long blocks = 0;
        try {
            for (String line : sys.read("/proc/buddyinfo").split("\n")) {
                // "Node 0, zone   Normal   12 3 ... " : counts of free blocks of order 0, 1, 2 ...
                String[] f = line.trim().split("\\s+");
                for (int order = ORDER_2M; 4 + order < f.length; order++) {
                    blocks += Long.parseLong(f[4 + order]) << (order - ORDER_2M);
                }
            }
        } catch (EnclaveException | NumberFormatException e) {
            return -1;
        }
        return blocks;
    }
}
