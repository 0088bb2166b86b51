package org.enclaveruntime.config;

import java.util.List;

/** Which CPUs the enclave gets: any N of them (cpu_count), or exactly these (cpu_ids). */
public sealed interface CpuSelection {
    /** How many CPUs the enclave gets, either way. */
    int size();

    record Count(int n) implements CpuSelection {
        public Count {
            if (n < 1) {
                throw new IllegalArgumentException("cpu count must be positive: " + n);
            }
        }

        @Override
        public int size() {
            return n;
        }
    }

    /** @param ids sorted, without repeats */
    record Ids(List<Integer> ids) implements CpuSelection {
        public Ids {
            ids = List.copyOf(ids);
            if (ids.isEmpty()) {
                throw new IllegalArgumentException("cpu id list must not be empty");
            }
        }

        @Override
        public int size() {
            return ids.size();
        }
    }
}
