package org.enclaveruntime.platform;

/** What the configuration asks for: a number of CPUs (the planner picks them) or the exact CPUs. */
public sealed interface CpuRequest permits CpuRequest.Count, CpuRequest.Ids {
    /** How many CPUs the enclave gets, either way. */
    int size();

    /** cpu_count = N. */
    record Count(int count) implements CpuRequest {
        @Override
        public int size() {
            return count;
        }
    }

    /** cpu_ids = list. */
    record Ids(CpuList ids) implements CpuRequest {
        @Override
        public int size() {
            return ids.size();
        }
    }

    static CpuRequest count(int n) {
        return new Count(n);
    }

    static CpuRequest ids(CpuList ids) {
        return new Ids(ids);
    }
}
