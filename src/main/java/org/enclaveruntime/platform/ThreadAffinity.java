package org.enclaveruntime.platform;

/**
 * The CPUs one thread may run on.
 *
 * @param tid  kernel thread id
 * @param cpus its affinity mask
 */
public record ThreadAffinity(int tid, CpuList cpus) {
}
