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
 */
public record PartitionPlan(CpuList cpuIds, long memoryMib, PageSize pageSize, int numaNode,
                            List<HugepageNeed> hugepages, CpuList primaryCpus, long primaryMemoryMib,
                            boolean shared, String warning) {
    public PartitionPlan {
        hugepages = List.copyOf(hugepages);
    }
}
