package org.enclaveruntime.platform;

import java.nio.file.Path;

/**
 * Hugepages this program added to a pool, and therefore owes back. Plain data so that the state file can
 * hold it: after a crash the next start or stop gives back exactly what the dead run added.
 *
 * @param pageSizeBytes page size of the pool
 * @param node          NUMA node of the pool, or -1 for the system-wide pool
 * @param added         pages added to nr_hugepages by us (what the kernel actually gave, not what was asked)
 * @param bootId        /proc/sys/kernel/random/boot_id when the pages were added: the pools start afresh at
 *                      each boot, so a grant from another boot (a run_dir that survived a reboot) owes nothing
 *                      and is never given back; null when the boot id could not be read (fake trees)
 */
public record HugepageGrant(long pageSizeBytes, int node, int added, String bootId) {
    public PageSize pageSize() {
        return PageSize.ofBytes(pageSizeBytes).orElseThrow(
                () -> new IllegalArgumentException("not a hugepage size: " + pageSizeBytes));
    }

    /** Gives the pages back on this machine: lowers nr_hugepages by {@code added}, if this boot added them. */
    public void release() {
        release(Path.of("/"));
    }

    public void release(Path root) {
        new HugepageReservation(root).release(this);
    }
}
