package org.enclaveruntime.state;

/**
 * Hugepages that the VMM added to the kernel's pool for this enclave and must give back: recorded before the
 * pages are used so that, if the VMM dies, the next `start` or `stop` can return exactly these.
 *
 * @param pageSizeBytes 2 MiB or 1 GiB
 * @param node          NUMA node whose pool was raised, or -1 for the global pool
 * @param added         pages added to nr_hugepages
 */
public record ReservedPages(long pageSizeBytes, int node, int added) {
}
