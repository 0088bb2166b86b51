package org.enclaveruntime.memory;

/**
 * What backs guest RAM: ordinary shared memory, or hugetlbfs pages of a given size (2 MiB or 1 GiB), which
 * the platform code reserves. Both are a memfd, so the rest of the VMM does not care which.
 */
public sealed interface MemoryBacking {
    MemoryBacking ORDINARY = new Ordinary();

    static MemoryBacking hugetlb(long pageSize) {
        return new Hugetlb(pageSize);
    }

    /** The granularity guest RAM size must be a multiple of. */
    long pageSize();

    record Ordinary() implements MemoryBacking {
        @Override
        public long pageSize() {
            return 4096;
        }
    }

    record Hugetlb(long pageSize) implements MemoryBacking {
        public Hugetlb {
            if (pageSize != 2L << 20 && pageSize != 1L << 30) {
                throw new IllegalArgumentException("hugetlb page size must be 2 MiB or 1 GiB, not " + pageSize);
            }
        }
    }
}
