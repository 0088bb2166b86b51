package org.enclaveruntime.platform;

import java.util.Objects;

/**
 * What the enclave asks of the machine, taken from the configuration.
 *
 * @param cpus               cpu_count or cpu_ids
 * @param memoryBytes        memory: guest RAM
 * @param reserveMemoryBytes reserve_memory: what the primary must keep available
 * @param shareCpus          share_cpus: development only, lets the enclave share CPUs with the primary (no isolation)
 * @param hugepages          hugepages = auto | 2M | 1G | off
 */
public record PartitionRequest(CpuRequest cpus, long memoryBytes, long reserveMemoryBytes, boolean shareCpus,
                               HugepagePolicy hugepages) {
    public static final long DEFAULT_RESERVE_MEMORY = 512L << 20;

    public PartitionRequest {
        Objects.requireNonNull(cpus);
        Objects.requireNonNull(hugepages);
    }
}
