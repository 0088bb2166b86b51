package org.enclaveruntime.platform;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Memory of this machine: /proc/meminfo plus every hugepage pool.
 *
 * @param totalBytes     MemTotal
 * @param availableBytes MemAvailable: what can be allocated without swapping (excludes hugepage pools)
 * @param pools          one system-wide pool per supported page size, then per-node pools where sysfs has them
 * @param nodeFreeBytes  MemFree of each NUMA node (/sys/devices/system/node/nodeN/meminfo), where known
 */
public record MemoryInfo(long totalBytes, long availableBytes, List<HugepagePool> pools, Map<Integer, Long> nodeFreeBytes) {
    public MemoryInfo {
        pools = List.copyOf(pools);
        nodeFreeBytes = Map.copyOf(nodeFreeBytes);
    }

    public MemoryInfo(long totalBytes, long availableBytes, List<HugepagePool> pools) {
        this(totalBytes, availableBytes, pools, Map.of());
    }

    /** Free memory of a node; empty when unknown (no NUMA information). */
    public Optional<Long> nodeFree(int node) {
        return Optional.ofNullable(nodeFreeBytes.get(node));
    }

    /** The system-wide pool of a page size, present when the kernel supports that size. */
    public Optional<HugepagePool> pool(PageSize size) {
        return pool(size, HugepagePool.GLOBAL);
    }

    public Optional<HugepagePool> pool(PageSize size, int node) {
        return pools.stream().filter(p -> p.pageSizeBytes() == size.bytes() && p.node() == node).findFirst();
    }

    public boolean supports(PageSize size) {
        return size == PageSize.SIZE_4K || pool(size).isPresent();
    }
}
