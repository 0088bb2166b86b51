package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Adds the hugepages a plan is missing by raising nr_hugepages, and gives back exactly what was added.
 *
 * <p>Everything is relative: we add N and later subtract the N the kernel actually gave, never write an
 * absolute value remembered from before. That keeps pages other users added or reserved at boot in place
 * even when they changed the pool while the enclave ran. Its limit: each change is a read-modify-write of
 * a sysfs file, which is not atomic across processes. Two programs changing the same pool at the same
 * instant can lose one update (and our read-back would then miscount what we were given). Within this
 * process a lock serialises the changes; across processes, enclavectl's run lock makes start and stop
 * exclusive, so only a foreign program writing nr_hugepages in the same millisecond can interfere.
 * Lowering nr_hugepages below the pages in use is harmless: the kernel keeps those as surplus pages and
 * frees them when their users let go.
 */
public final class HugepageReservation {
    private static final Logger LOG = LoggerFactory.getLogger(HugepageReservation.class);
    private static final Object LOCK = new Object();

    private final HugepagePoolControl pools;
    private final Path root;

    /** Pools below {@code root}: "/" in production. */
    public HugepageReservation(Path root) {
        this(HugepagePoolControl.sysfs(new SysfsFiles(root)), root);
    }

    /** {@code pools} of the machine below {@code root}, whose boot id the grants carry. */
    HugepageReservation(HugepagePoolControl pools, Path root) {
        this.pools = pools;
        this.root = root;
    }

    /**
     * Adds what the plan's pools are missing. All or nothing: if any pool cannot get its pages, every page
     * added so far is given back before the error is thrown.
     *
     * @return what was added, to store in the state file and give back at stop; empty if nothing was missing
     */
    public List<HugepageGrant> reserve(PartitionPlan plan) {
        List<HugepageGrant> grants = new ArrayList<>();
        try {
            for (HugepageNeed need : plan.hugepages()) {
                if (need.toAdd() > 0) {
                    grants.add(add(need.pageSize(), need.node(), need.toAdd()));
                }
            }
            return grants;
        } catch (RuntimeException e) {
            releaseAll(grants, e);
            throw e;
        }
    }

    /** What a start reserved: the plan it carries out and the pages it added to give back at stop. */
    public record Reserved(PartitionPlan plan, List<HugepageGrant> grants) {
    }

    /**
     * Like {@link #reserve}, but when the kernel cannot give the pages of a plan that has a fallback
     * (hugepages = auto asking for 1G pages), what it gave is returned and the fallback (2M) is reserved.
     */
    public Reserved reserveOrFallBack(PartitionPlan plan) {
        try {
            return new Reserved(plan, reserve(plan));
        } catch (EnclaveException e) {
            if (plan.fallback() == null || e.code() != PlatformErrors.HUGEPAGES_NOT_GRANTED) {
                throw e;
            }
            LOG.info("hugepages = auto: {} pages not to be had ({}); using {} pages", plan.pageSize().label(),
                    e.getMessage(), plan.fallback().pageSize().label());
            return new Reserved(plan.fallback(), reserve(plan.fallback()));
        }
    }

    /**
     * Raises one pool by {@code pages}. If the kernel gives fewer, what it gave is given back and the error
     * says how many were asked and got.
     */
    public HugepageGrant add(PageSize size, int node, long pages) {
        if (!size.huge() || pages <= 0 || pages > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot add " + pages + " pages of " + size);
        }
        synchronized (LOCK) {
            long before = pools.read(size, node);
            long got;
            try {
                pools.write(size, node, before + pages);
            } finally {
                // Read back even when the write failed: the kernel may have added some pages before failing.
                got = pools.read(size, node) - before;
            }
            // More than asked means someone else raised the pool at the same moment: those pages are theirs.
            HugepageGrant grant = new HugepageGrant(size.bytes(), node, (int) Math.max(0, Math.min(got, pages)),
                    BootId.current(root));
            LOG.debug("{}: asked for {} more pages, got {}", pools.describe(size, node), pages, got);
            if (got < pages) {
                release(grant);
                throw new EnclaveException(PlatformErrors.HUGEPAGES_NOT_GRANTED, "asked the kernel for " + pages
                        + " more " + size.label() + " hugepages (" + pools.describe(size, node) + ": " + before + " -> "
                        + (before + pages) + ") but it gave " + Math.max(0, got) + ", so memory is too fragmented or "
                        + "too small; the " + Math.max(0, got) + " given were returned. Reserve them at boot "
                        + "(kernel command line: hugepagesz=" + size.label() + " hugepages=" + (before + pages)
                        + ") or set hugepages = off");
            }
            return grant;
        }
    }

    /**
     * Lowers the pool by what the grant added, never below zero. A grant from another boot is dropped: the
     * pool it raised was reset by the reboot, and lowering today's pool would take pages reserved at boot.
     */
    public void release(HugepageGrant grant) {
        if (grant.added() <= 0) {
            return;
        }
        if (!BootId.isCurrent(grant.bootId(), root)) {
            LOG.warn("not giving back {} {} hugepages recorded in boot {}: this is boot {}, whose pools started "
                    + "afresh", grant.added(), grant.pageSize().label(), grant.bootId(), BootId.current(root));
            return;
        }
        PageSize size = grant.pageSize();
        synchronized (LOCK) {
            long now = pools.read(size, grant.node());
            long target = Math.max(0, now - grant.added());
            pools.write(size, grant.node(), target);
            long after = pools.read(size, grant.node());
            if (after != target) {
                LOG.warn("{}: lowered to {} but it reads {}", pools.describe(size, grant.node()), target, after);
            }
        }
    }

    /** Gives back every grant, continuing past failures; the first failure is thrown at the end. */
    public void releaseAll(List<HugepageGrant> grants) {
        EnclaveException first = null;
        for (HugepageGrant g : grants) {
            try {
                release(g);
            } catch (EnclaveException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void releaseAll(List<HugepageGrant> grants, RuntimeException cause) {
        try {
            releaseAll(grants);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
