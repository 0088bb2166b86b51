package org.enclaveruntime.platform;

/**
 * A physical core: the online hardware threads that share it. The unit the enclave gets CPUs in, because
 * a hyperthread shared with the primary leaks through the core's caches and execution units.
 *
 * @param pkg  physical package (socket)
 * @param core core_id within the package
 * @param node NUMA node
 * @param cpus its online threads
 */
public record Core(int pkg, int core, int node, CpuList cpus) {
    public int first() {
        return cpus.cpus().get(0);
    }

    /** "core 1 (CPU2-3)": how messages name a core. */
    public String describe() {
        return "core " + core + (pkg == 0 ? "" : " of package " + pkg) + " (CPU" + cpus.format() + ")";
    }
}
