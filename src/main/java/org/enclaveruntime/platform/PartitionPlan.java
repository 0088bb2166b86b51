package org.enclaveruntime.platform;

import java.util.List;

/**
 * Which CPUs and memory the enclave gets, and what stays with the primary. Made by {@link PartitionPlanner};
 * printed by `start --dry-run`; carried out by pinning and {@link HugepageReservation}.
 *
 * @param cpuIds           the enclave's CPUs, one vCPU thread pinned to each
 * @param memoryMib        guest RAM in MiB
 * @param pageSize         page size backing guest RAM (4K = ordinary memory, locked)
 * @param numaNode         the NUMA node of the CPUs and memory, or -1 if the CPUs span nodes
 * @param hugepages        per pool: pages needed, existing, free, to add (empty for 4K)
 * @param primaryCpus      CPUs the primary keeps to itself (all online CPUs when shared)
 * @param primaryMemoryMib memory left to the primary: MemTotal minus the enclave's memory
 * @param shared           true when share_cpus made the enclave share CPUs with the primary: NO isolation
 * @param warning          what is not isolated and why, when shared; null otherwise
 * @param fallback         with hugepages = auto and 1G pages still to add: the plan used instead when the
 *                         kernel cannot give them (2M pages); null otherwise
 */
public record PartitionPlan(CpuList cpuIds, long memoryMib, PageSize pageSize, int numaNode,
                            List<HugepageNeed> hugepages, CpuList primaryCpus, long primaryMemoryMib,
                            boolean shared, String warning, PartitionPlan fallback) {
    public PartitionPlan {
        hugepages = List.copyOf(hugepages);
    }

    public PartitionPlan withFallback(PartitionPlan other) {
        return new PartitionPlan(cpuIds, memoryMib, pageSize, numaNode, hugepages, primaryCpus, primaryMemoryMib,
                shared, warning, other);
    }

    /** The text form `start --dry-run` prints. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append("cpu_ids        ").append(cpuIds.format()).append(" (").append(cpuIds.size())
                .append(cpuIds.size() == 1 ? " CPU" : " CPUs").append(shared ? ", SHARED with the primary" : "")
                .append(")\n");
        s.append("memory_mib     ").append(memoryMib).append('\n');
        s.append("page_size      ").append(pageSize.label()).append(pageSize.huge() ? "" : " (ordinary memory, locked)")
                .append('\n');
        s.append("numa_node      ").append(numaNode < 0 ? "none (CPUs span nodes)" : String.valueOf(numaNode)).append('\n');
        for (HugepageNeed n : hugepages) {
            s.append("hugepages      ").append(n.pages()).append(" x ").append(n.pageSize().label())
                    .append(n.node() < 0 ? " system-wide" : " on node " + n.node()).append(": pool has ")
                    .append(n.total()).append(", ").append(n.free()).append(" free, ").append(n.toAdd())
                    .append(" to add\n");
        }
        if (fallback != null) {
            s.append("fallback       ").append(fallback.pageSize().label()).append(" pages if the kernel cannot give the ")
                    .append(pageSize.label()).append(" pages to add\n");
        }
        s.append("primary keeps  CPU").append(primaryCpus.format()).append(", ").append(primaryMemoryMib)
                .append(" MiB\n");
        if (warning != null) {
            s.append("WARNING: ").append(warning).append('\n');
        }
        return s.toString();
    }
}
