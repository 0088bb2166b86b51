package org.enclaveruntime.platform;

/** What the configuration asks for: a number of CPUs (the planner picks them) or the exact CPUs. */
public sealed interface CpuRequest permits CpuRequest.Count, CpuRequest.Ids {
    /** cpu_count = N. */
    record Count(int count) implements CpuRequest {
    }

    /** cpu_ids = list. */
    record Ids(CpuList ids) implements CpuRequest {
    }

    static CpuRequest count(int n) {
        return new Count(n);
    }

    static CpuRequest ids(CpuList ids) {
        return new Ids(ids);
    }
}
