package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decides which CPUs and memory the enclave gets. Pure: reads nothing and reserves nothing, so that
 * `start --dry-run` shows exactly what `start` would do, and every rule is testable on fake topologies.
 *
 * <p>The rules: CPUs in whole cores only; never the core that holds CPU0; one NUMA node when possible
 * (the node with the most free cores, then the lowest id); the primary keeps at least one whole core and
 * reserve_memory. share_cpus relaxes only the CPU rules, and only when the strict plan is impossible.
 */
public final class PartitionPlanner {
    private static final long MIB = 1L << 20;

    private PartitionPlanner() {
    }

    public static PartitionPlan plan(PartitionRequest request, Topology topology, MemoryInfo memory) {
        PartitionPlan plan;
        try {
            plan = plan(request, topology, memory, true);
        } catch (EnclaveException e) {
            if (request.hugepages() != HugepagePolicy.AUTO || e.code() != PlatformErrors.NOT_ENOUGH_MEMORY) {
                throw e;
            }
            // Memory that does not fit as 1G pages to add may fit as free 2M pages; if not, the 2M error
            // suggests a memory value in MiB, which auto can use, rather than in whole GiB.
            return plan(request, topology, memory, false);
        }
        if (request.hugepages() == HugepagePolicy.AUTO && plan.pageSize() == PageSize.SIZE_1G
                && plan.hugepages().stream().anyMatch(n -> n.toAdd() > 0)) {
            // The kernel may not find a free, physically contiguous GiB at run time: say now what auto takes then.
            PartitionPlan without;
            try {
                without = plan(request, topology, memory, false);
            } catch (EnclaveException e) {
                without = null;
            }
            return plan.withFallback(without);
        }
        return plan;
    }

    private static PartitionPlan plan(PartitionRequest request, Topology topology, MemoryInfo memory,
                                      boolean autoMayTakeGiant) {
        validate(request);
        CpuChoice cpus = request.cpus() instanceof CpuRequest.Count c
                ? byCount(c.count(), request.shareCpus(), topology)
                : byIds(((CpuRequest.Ids) request.cpus()).ids(), request.shareCpus(), topology);
        int node = nodeOf(cpus.cpus(), topology);
        PageSize pageSize = pageSize(request, memory, node, topology, autoMayTakeGiant);
        List<HugepageNeed> needs = new ArrayList<>();
        if (pageSize.huge()) {
            HugepageNeed need = need(request.memoryBytes(), pageSize, poolNode(node, topology, memory, pageSize), memory);
            if (need.node() >= 0 && need.toAdd() * pageSize.bytes() > memory.nodeFree(need.node()).orElse(Long.MAX_VALUE)) {
                // The node cannot hold the pages to add: take them system-wide (the kernel spreads them over
                // nodes) rather than fail; remote memory is slower, not wrong.
                need = need(request.memoryBytes(), pageSize, HugepagePool.GLOBAL, memory);
            }
            needs.add(need);
        }
        checkMemory(request, memory, pageSize, needs);
        CpuList primary = cpus.shared() ? topology.onlineCpus() : topology.onlineCpus().minus(cpus.cpus());
        long primaryMib = Math.max(0, memory.totalBytes() - request.memoryBytes()) / MIB;
        return new PartitionPlan(cpus.cpus(), request.memoryBytes() / MIB, pageSize, node, needs, primary,
                primaryMib, cpus.shared(), cpus.warning(), null);
    }

    private record CpuChoice(CpuList cpus, boolean shared, String warning) {
    }

    private static void validate(PartitionRequest r) {
        if (r.cpus() instanceof CpuRequest.Count c && c.count() < 1) {
            throw new EnclaveException(PlatformErrors.INVALID_REQUEST, "cpu_count = " + c.count()
                    + ": the enclave needs at least 1 CPU; set cpu_count = 1 or more");
        }
        if (r.cpus() instanceof CpuRequest.Ids i && i.ids().isEmpty()) {
            throw new EnclaveException(PlatformErrors.INVALID_REQUEST, "cpu_ids is empty: list at least one CPU");
        }
        if (r.memoryBytes() <= 0 || r.memoryBytes() % MIB != 0) {
            throw new EnclaveException(PlatformErrors.INVALID_REQUEST, "memory = " + r.memoryBytes()
                    + " bytes: memory must be a positive whole number of MiB (for example memory = 512M)");
        }
        if (r.reserveMemoryBytes() < 0) {
            throw new EnclaveException(PlatformErrors.INVALID_REQUEST, "reserve_memory = " + r.reserveMemoryBytes()
                    + " bytes: reserve_memory must not be negative");
        }
    }

    // ---- CPUs -------------------------------------------------------------------------------------------

    private static CpuChoice byCount(int n, boolean share, Topology topology) {
        Core primary = topology.primaryCore();
        List<Core> spare = topology.cores().stream().filter(c -> !c.equals(primary)).toList();
        int most = spare.stream().mapToInt(c -> c.cpus().size()).sum();
        Optional<CpuList> strict = n <= most ? wholeCores(n, spare, topology) : Optional.empty();
        if (strict.isPresent()) {
            return new CpuChoice(strict.get(), false, null);
        }
        if (share) {
            return sharedByCount(n, topology, primary);
        }
        String asked = "cpu_count = " + n + " asks for " + n + (n == 1 ? " CPU" : " CPUs") + " in whole cores; "
                + "this instance has " + topology.describe() + " and the primary keeps " + primary.describe();
        if (n > most) {
            String remedy = most == 0
                    ? "no CPU can go to the enclave: use an instance with at least 2 cores, or, for development "
                    + "only, set share_cpus = true (the enclave then shares CPUs with the primary: no isolation)"
                    : "at most " + most + (most == 1 ? " CPU" : " CPUs") + " can go to the enclave: set cpu_count = "
                    + largestReachable(most, spare);
            throw new EnclaveException(PlatformErrors.NOT_ENOUGH_CPUS, asked + "; " + remedy);
        }
        TreeSet<Integer> reachable = reachableSums(spare);
        Integer below = reachable.lower(n);
        Integer above = reachable.higher(n);
        String choices = (below != null && below > 0 ? "cpu_count = " + below : "")
                + (below != null && below > 0 && above != null ? " or " : "")
                + (above != null ? "cpu_count = " + above : "");
        throw new EnclaveException(PlatformErrors.NOT_WHOLE_CORES, asked + "; " + n
                + " is not a sum of whole cores (" + threadCounts(spare) + "): set " + choices);
    }

    private static CpuChoice sharedByCount(int n, Topology topology, Core primary) {
        CpuList online = topology.onlineCpus();
        if (n > online.size()) {
            throw new EnclaveException(PlatformErrors.NOT_ENOUGH_CPUS, "cpu_count = " + n + " asks for " + n
                    + " CPUs; this instance has " + topology.describe() + ", only " + online.size()
                    + " online CPUs even with share_cpus = true: set cpu_count = " + online.size());
        }
        // Spare cores first, then the primary's core from its highest thread down, so CPU0 comes last.
        List<Integer> order = new ArrayList<>(online.minus(primary.cpus()).cpus());
        List<Integer> primaryThreads = new ArrayList<>(primary.cpus().cpus());
        primaryThreads.sort(Comparator.reverseOrder());
        order.addAll(primaryThreads);
        CpuList chosen = CpuList.of(order.subList(0, n));
        return new CpuChoice(chosen, true, sharedWarning(chosen, topology, primary));
    }

    private static CpuChoice byIds(CpuList ids, boolean share, Topology topology) {
        CpuList online = topology.onlineCpus();
        CpuList missing = ids.minus(online);
        if (!missing.isEmpty()) {
            CpuList offline = missing.intersect(topology.present());
            String what = offline.isEmpty() ? "does not exist on this instance" : "is offline";
            throw new EnclaveException(PlatformErrors.CPU_NOT_ONLINE, "cpu_ids = " + ids.format() + ": CPU"
                    + missing.format() + " " + what + "; online CPUs are " + online.format() + " ("
                    + topology.describe() + "): use only online CPUs in cpu_ids");
        }
        Core primary = topology.primaryCore();
        CpuList onPrimary = ids.intersect(primary.cpus());
        List<String> broken = new ArrayList<>();
        CpuList siblingsMissing = CpuList.empty();
        for (Core core : topology.cores()) {
            CpuList mine = ids.intersect(core.cpus());
            if (!mine.isEmpty() && !mine.equals(core.cpus()) && !core.equals(primary)) {
                siblingsMissing = siblingsMissing.union(core.cpus().minus(mine));
                broken.add(core.describe() + " also has CPU" + core.cpus().minus(mine).format());
            }
        }
        if (share && (!onPrimary.isEmpty() || !broken.isEmpty())) {
            return new CpuChoice(ids, true, sharedWarning(ids, topology, primary));
        }
        if (!onPrimary.isEmpty()) {
            CpuList rest = ids.minus(primary.cpus());
            throw new EnclaveException(PlatformErrors.PRIMARY_CORE, "cpu_ids = " + ids.format() + " includes CPU"
                    + onPrimary.format() + " of " + primary.describe() + ", which the primary keeps; this instance has "
                    + topology.describe() + ": " + (rest.isEmpty() ? "choose CPUs of other cores"
                    : "remove it: cpu_ids = " + rest.format()));
        }
        if (!broken.isEmpty()) {
            throw new EnclaveException(PlatformErrors.NOT_WHOLE_CORES, "cpu_ids = " + ids.format()
                    + " is not whole cores: " + String.join("; ", broken) + ": add CPU" + siblingsMissing.format()
                    + " (cpu_ids = " + ids.union(siblingsMissing).format() + ")");
        }
        return new CpuChoice(ids, false, null);
    }

    private static String sharedWarning(CpuList chosen, Topology topology, Core primary) {
        return "share_cpus = true: the enclave runs on CPU" + chosen.format() + ", sharing cores with the primary VM"
                + (chosen.intersect(primary.cpus()).isEmpty() ? "" : ", including " + primary.describe())
                + ", on an instance with " + topology.describe() + ". The enclave is NOT isolated from the primary; "
                + "use this for development and tests only.";
    }

    /**
     * Picks whole cores adding up to exactly n CPUs, from a single NUMA node if any can (most spare cores
     * first, then the lowest node id), else across nodes; within a node the lowest-numbered cores.
     */
    private static Optional<CpuList> wholeCores(int n, List<Core> spare, Topology topology) {
        Map<Integer, List<Core>> byNode = new TreeMap<>();
        for (Core c : spare) {
            byNode.computeIfAbsent(c.node(), k -> new ArrayList<>()).add(c);
        }
        List<Integer> nodes = new ArrayList<>(byNode.keySet());
        nodes.sort(Comparator.comparingInt((Integer k) -> -byNode.get(k).size()).thenComparingInt(k -> k));
        for (int node : nodes) {
            Optional<CpuList> inNode = subsetSum(n, byNode.get(node));
            if (inNode.isPresent()) {
                return inNode;
            }
        }
        List<Core> ordered = new ArrayList<>();
        nodes.forEach(k -> ordered.addAll(byNode.get(k)));
        return subsetSum(n, ordered);
    }

    /**
     * Cores whose thread counts add up to exactly n, preferring earlier cores. Cores usually all have the
     * same thread count, but an offline sibling leaves a one-thread core, so a plain greedy pick can miss.
     */
    private static Optional<CpuList> subsetSum(int n, List<Core> cores) {
        int k = cores.size();
        // feasible[i][s]: cores i..k-1 can make exactly s.
        boolean[][] feasible = new boolean[k + 1][n + 1];
        feasible[k][0] = true;
        for (int i = k - 1; i >= 0; i--) {
            int size = cores.get(i).cpus().size();
            for (int s = 0; s <= n; s++) {
                feasible[i][s] = feasible[i + 1][s] || (s >= size && feasible[i + 1][s - size]);
            }
        }
        if (!feasible[0][n]) {
            return Optional.empty();
        }
        CpuList chosen = CpuList.empty();
        int left = n;
        for (int i = 0; i < k && left > 0; i++) {
            int size = cores.get(i).cpus().size();
            if (left >= size && feasible[i + 1][left - size]) {
                chosen = chosen.union(cores.get(i).cpus());
                left -= size;
            }
        }
        return Optional.of(chosen);
    }

    private static TreeSet<Integer> reachableSums(List<Core> cores) {
        TreeSet<Integer> sums = new TreeSet<>(List.of(0));
        for (Core c : cores) {
            for (int s : new ArrayList<>(sums)) {
                sums.add(s + c.cpus().size());
            }
        }
        return sums;
    }

    private static int largestReachable(int atMost, List<Core> cores) {
        Integer best = reachableSums(cores).floor(atMost);
        return best == null ? 0 : best;
    }

    private static String threadCounts(List<Core> cores) {
        TreeSet<Integer> sizes = new TreeSet<>(cores.stream().map(c -> c.cpus().size()).toList());
        return sizes.size() == 1 ? "each spare core has " + sizes.first() + " threads"
                : "spare cores have " + sizes.stream().map(String::valueOf).reduce((a, b) -> a + " or " + b).orElse("")
                + " threads";
    }

    private static int nodeOf(CpuList cpus, Topology topology) {
        TreeSet<Integer> nodes = new TreeSet<>();
        for (int id : cpus.cpus()) {
            topology.cpu(id).ifPresent(c -> nodes.add(c.node()));
        }
        return nodes.size() == 1 ? nodes.first() : -1;
    }

    // ---- memory -----------------------------------------------------------------------------------------

    private static PageSize pageSize(PartitionRequest r, MemoryInfo memory, int node, Topology topology,
                                     boolean autoMayTakeGiant) {
        long bytes = r.memoryBytes();
        return switch (r.hugepages()) {
            case OFF -> PageSize.SIZE_4K;
            case SIZE_1G -> explicitSize(PageSize.SIZE_1G, bytes, memory);
            case SIZE_2M -> explicitSize(PageSize.SIZE_2M, bytes, memory);
            case AUTO -> {
                // Pages already free in a pool (reserved at boot) first, 1G before 2M. Else 1G whenever memory is
                // whole GiB and the kernel has a 1G pool: the pages are asked for at start and, if the kernel
                // cannot find free contiguous GiBs, the plan's fallback (2M) is used instead.
                boolean wholeGiB = bytes % PageSize.SIZE_1G.bytes() == 0;
                boolean whole2M = bytes % PageSize.SIZE_2M.bytes() == 0 && memory.supports(PageSize.SIZE_2M);
                if (wholeGiB && freeIn(PageSize.SIZE_1G, node, topology, memory) >= bytes) {
                    yield PageSize.SIZE_1G;
                }
                if (whole2M && freeIn(PageSize.SIZE_2M, node, topology, memory) >= bytes) {
                    yield PageSize.SIZE_2M;
                }
                if (autoMayTakeGiant && wholeGiB && memory.supports(PageSize.SIZE_1G)) {
                    yield PageSize.SIZE_1G;
                }
                if (whole2M) {
                    yield PageSize.SIZE_2M;
                }
                yield PageSize.SIZE_4K;
            }
        };
    }

    private static PageSize explicitSize(PageSize size, long bytes, MemoryInfo memory) {
        if (!memory.supports(size)) {
            throw new EnclaveException(PlatformErrors.PAGE_SIZE_UNAVAILABLE, "hugepages = " + size.label()
                    + ": this kernel has no " + size.label() + " hugepage pool (no /sys/kernel/mm/hugepages/"
                    + size.sysfsName() + "): set hugepages = auto");
        }
        if (bytes % size.bytes() != 0) {
            long lower = bytes / size.bytes() * size.bytes() / MIB;
            long upper = (bytes / size.bytes() + 1) * size.bytes() / MIB;
            throw new EnclaveException(PlatformErrors.PAGE_SIZE_UNAVAILABLE, "hugepages = " + size.label()
                    + " needs memory to be a multiple of " + size.label() + ", but memory = " + bytes / MIB
                    + "M: set memory = " + (lower > 0 ? lower + "M or " : "") + upper + "M, or hugepages = auto");
        }
        return size;
    }

    /** Bytes of free pages of {@code size} in the pool a plan on {@code node} would take them from. */
    private static long freeIn(PageSize size, int node, Topology topology, MemoryInfo memory) {
        return memory.pool(size, poolNode(node, topology, memory, size)).map(HugepagePool::available).orElse(0L)
                * size.bytes();
    }

    /** Per-node pools only matter when there is more than one node and the CPUs sit in one of them. */
    private static int poolNode(int node, Topology topology, MemoryInfo memory, PageSize size) {
        if (node >= 0 && topology.nodes().size() > 1 && memory.pool(size, node).isPresent()) {
            return node;
        }
        return HugepagePool.GLOBAL;
    }

    private static HugepageNeed need(long bytes, PageSize size, int node, MemoryInfo memory) {
        long pages = bytes / size.bytes();
        HugepagePool pool = memory.pool(size, node).orElse(new HugepagePool(size.bytes(), node, 0, 0, 0, 0));
        long free = pool.available();
        return new HugepageNeed(size, node, pages, pool.total(), free, Math.max(0, pages - free));
    }

    private static void checkMemory(PartitionRequest r, MemoryInfo memory, PageSize size, List<HugepageNeed> needs) {
        long freeHuge = needs.stream().mapToLong(n -> Math.min(n.free(), n.pages()) * size.bytes()).sum();
        long fromOrdinary = r.memoryBytes() - freeHuge;
        long need = fromOrdinary + r.reserveMemoryBytes();
        if (need <= memory.availableBytes() && r.memoryBytes() + r.reserveMemoryBytes() <= memory.totalBytes()) {
            return;
        }
        long poolFree = needs.stream().mapToLong(n -> n.free() * size.bytes()).sum();
        long most = Math.min(memory.availableBytes() + poolFree, memory.totalBytes()) - r.reserveMemoryBytes();
        long unit = Math.max(size.bytes(), MIB);
        long mostMib = Math.max(0, most) / unit * unit / MIB;
        String huge = size.huge() ? " plus " + poolFree / MIB + " MiB of free " + size.label() + " hugepages" : "";
        String remedy = mostMib > 0 ? "at most " + mostMib + " MiB can go to the enclave: set memory = " + mostMib + "M"
                + " (or lower reserve_memory)"
                : "nothing can go to the enclave: free memory on the primary or lower reserve_memory";
        throw new EnclaveException(PlatformErrors.NOT_ENOUGH_MEMORY, "memory = " + r.memoryBytes() / MIB
                + "M with reserve_memory = " + r.reserveMemoryBytes() / MIB + "M needs " + (r.memoryBytes()
                + r.reserveMemoryBytes()) / MIB + " MiB; this instance has " + memory.totalBytes() / MIB
                + " MiB in total and " + memory.availableBytes() / MIB + " MiB available now" + huge + "; " + remedy);
    }
}
