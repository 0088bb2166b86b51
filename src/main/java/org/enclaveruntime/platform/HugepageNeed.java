package org.enclaveruntime.platform;

/**
 * The hugepages a plan needs from one pool, and how many must be added to it at start.
 *
 * @param pageSize page size
 * @param node     NUMA node of the pool, or -1 for the system-wide pool
 * @param pages    pages the enclave's memory takes
 * @param total    nr_hugepages of the pool when the plan was made
 * @param free     pages of the pool free and unclaimed when the plan was made
 * @param toAdd    pages to add by raising nr_hugepages (pages - free, at least 0)
 */
public record HugepageNeed(PageSize pageSize, int node, long pages, long total, long free, long toAdd) {
}
