package org.enclaveruntime.platform;

/**
 * One hugepage pool: the system-wide pool of a page size (node = -1) or one NUMA node's share of it.
 *
 * @param pageSizeBytes page size
 * @param node          NUMA node, or -1 for the system-wide pool
 * @param total         nr_hugepages: pages the pool holds
 * @param free          free_hugepages: not yet faulted in by anyone (reserved ones included)
 * @param reserved      resv_hugepages: promised to a mapping but not yet faulted in (system-wide only; 0 per node)
 * @param surplus       surplus_hugepages: allocated above nr_hugepages through overcommit
 */
public record HugepagePool(long pageSizeBytes, int node, long total, long free, long reserved, long surplus) {
    public static final int GLOBAL = -1;

    /** Pages nobody has a claim on: free minus reserved. */
    public long available() {
        return Math.max(0, free - reserved);
    }

    public String label() {
        return PageSize.ofBytes(pageSizeBytes).map(PageSize::label).orElse(pageSizeBytes / 1024 + "kB");
    }
}
