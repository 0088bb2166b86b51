package org.enclaveruntime.platform;

import java.util.List;

/**
 * One online logical CPU as sysfs describes it.
 *
 * @param id       the CPU number (cpuN)
 * @param core     topology/core_id: unique only within its package
 * @param pkg      topology/physical_package_id
 * @param node     the NUMA node whose cpulist holds this CPU (0 on a machine without NUMA information)
 * @param siblings the online hardware threads sharing this CPU's core, including itself, ascending
 */
public record CpuInfo(int id, int core, int pkg, int node, List<Integer> siblings) {
    public CpuInfo {
        siblings = List.copyOf(CpuList.of(siblings).cpus());
        if (!siblings.contains(id)) {
            throw new IllegalArgumentException("CPU " + id + " is missing from its own sibling list " + siblings);
        }
    }
}
