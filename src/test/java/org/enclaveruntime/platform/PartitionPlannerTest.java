package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionPlannerTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    private int trees;

    private PartitionPlan plan(Function<Path, FakeSysfs> tree, PartitionRequest request) {
        // A fresh tree per plan: fixtures written over each other would mix their files.
        Path root = tree.apply(dir.resolve("tree" + trees++)).root();
        return PartitionPlanner.plan(request, TopologyReader.read(root), MemoryReader.read(root));
    }

    private static PartitionRequest count(int n) {
        return new PartitionRequest(CpuRequest.count(n), 1024 * MIB, 512 * MIB, false, HugepagePolicy.AUTO);
    }

    /** NUMA pool choices are about 2M pages: with auto the empty 1G pools would be asked first. */
    private static PartitionRequest count2M(int n) {
        return new PartitionRequest(CpuRequest.count(n), 1024 * MIB, 512 * MIB, false, HugepagePolicy.SIZE_2M);
    }

    private static PartitionRequest ids(String ids) {
        return new PartitionRequest(CpuRequest.ids(CpuList.parse(ids)), 1024 * MIB, 512 * MIB, false,
                HugepagePolicy.AUTO);
    }

    private static PartitionRequest shared(CpuRequest cpus) {
        return new PartitionRequest(cpus, 1024 * MIB, 512 * MIB, true, HugepagePolicy.AUTO);
    }

    private static PartitionRequest memory(long bytes, HugepagePolicy policy) {
        return new PartitionRequest(CpuRequest.count(1), bytes, 512 * MIB, false, policy);
    }

    private EnclaveException refused(ErrorCode code, Function<Path, FakeSysfs> tree, PartitionRequest request,
                                     String... mentions) {
        EnclaveException e = assertThrows(EnclaveException.class, () -> plan(tree, request));
        assertSame(code, e.code(), e.getMessage());
        for (String m : mentions) {
            assertTrue(e.getMessage().contains(m), "message should mention '" + m + "': " + e.getMessage());
        }
        return e;
    }

    // ---- this machine's shape: 2 cores, no hyperthreading --------------------------------------------

    @Test
    void twoCoresGiveTheSecondCore() {
        PartitionPlan p = plan(FakeSysfs::twoCores, count(1));
        assertEquals(CpuList.of(1), p.cpuIds());
        assertEquals(CpuList.of(0), p.primaryCpus());
        assertEquals(0, p.numaNode());
        assertFalse(p.shared());
        assertNull(p.warning());
        assertEquals(1024, p.memoryMib());
        assertEquals(24_105 - 1024, p.primaryMemoryMib());
    }

    @Test
    void twoCoresRefuseEveryCpu() {
        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::twoCores, count(2),
                "cpu_count = 2 asks for 2 CPUs", "2 cores (CPU0-1, no hyperthreading)", "core 0 (CPU0)",
                "at most 1 CPU", "set cpu_count = 1");
        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::twoCores, count(4), "cpu_count = 4", "at most 1 CPU");
    }

    @Test
    void twoCoresRefuseCpu0AndUnknownCpus() {
        refused(PlatformErrors.PRIMARY_CORE, FakeSysfs::twoCores, ids("0-1"), "CPU0", "core 0", "cpu_ids = 1");
        refused(PlatformErrors.CPU_NOT_ONLINE, FakeSysfs::twoCores, ids("1,5"), "CPU5", "does not exist", "0-1");
        assertEquals(CpuList.of(1), plan(FakeSysfs::twoCores, ids("1")).cpuIds());
    }

    @Test
    void shareCpusIsOptInAndSaysSoLoudly() {
        PartitionPlan p = plan(FakeSysfs::twoCores, shared(CpuRequest.count(2)));
        assertEquals(CpuList.of(0, 1), p.cpuIds());
        assertTrue(p.shared());
        assertTrue(p.warning().contains("NOT isolated"), p.warning());
        assertTrue(p.warning().contains("CPU0-1"), p.warning());
        assertEquals(CpuList.of(0, 1), p.primaryCpus());

        PartitionPlan explicit = plan(FakeSysfs::twoCores, shared(CpuRequest.ids(CpuList.of(0))));
        assertTrue(explicit.shared());

        // When whole cores suffice, share_cpus changes nothing.
        PartitionPlan strict = plan(FakeSysfs::twoCores, shared(CpuRequest.count(1)));
        assertFalse(strict.shared());
        assertEquals(CpuList.of(1), strict.cpuIds());

        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::twoCores, shared(CpuRequest.count(3)),
                "only 2 online CPUs", "set cpu_count = 2");
    }

    @Test
    void pageSizeIsTheLargestThatFits() {
        PartitionPlan auto = plan(FakeSysfs::twoCores, memory(2 * GIB, HugepagePolicy.AUTO));
        // The 1G pool exists but is empty: auto asks the kernel for 2 pages at start, and falls back to 2M.
        assertEquals(PageSize.SIZE_1G, auto.pageSize());
        assertEquals(2, auto.hugepages().get(0).toAdd());
        PartitionPlan fallback = auto.fallback();
        assertEquals(PageSize.SIZE_2M, fallback.pageSize());
        assertNull(fallback.fallback());
        HugepageNeed need = fallback.hugepages().get(0);
        assertEquals(-1, need.node());
        assertEquals(1024, need.pages());
        assertEquals(1024, need.toAdd());
        assertEquals(auto.cpuIds(), fallback.cpuIds());
        assertTrue(auto.describe().contains("fallback       2M pages if the kernel cannot give the 1G pages to add"),
                auto.describe());

        PartitionPlan noGiantPool = plan(FakeSysfs::withOffline, memory(2 * GIB, HugepagePolicy.AUTO));
        assertEquals(PageSize.SIZE_2M, noGiantPool.pageSize());
        assertNull(noGiantPool.fallback());

        PartitionPlan explicit2M = plan(FakeSysfs::twoCores, memory(2 * GIB, HugepagePolicy.SIZE_2M));
        assertNull(explicit2M.fallback());

        PartitionPlan giant = plan(FakeSysfs::twoCores, memory(2 * GIB, HugepagePolicy.SIZE_1G));
        assertEquals(PageSize.SIZE_1G, giant.pageSize());
        assertEquals(2, giant.hugepages().get(0).toAdd());
        assertNull(giant.fallback(), "explicit 1G never falls back");

        PartitionPlan off = plan(FakeSysfs::twoCores, memory(2 * GIB, HugepagePolicy.OFF));
        assertEquals(PageSize.SIZE_4K, off.pageSize());
        assertTrue(off.hugepages().isEmpty());

        PartitionPlan odd = plan(FakeSysfs::twoCores, memory(513 * MIB, HugepagePolicy.AUTO));
        assertEquals(PageSize.SIZE_4K, odd.pageSize());
    }

    @Test
    void autoTakes2MPagesReservedAtBootBeforeAskingFor1G(@TempDir Path other) {
        Path root = FakeSysfs.twoCores(other).pool(PageSize.SIZE_2M, -1, 1024, 1024).root();
        PartitionPlan p = PartitionPlanner.plan(memory(2 * GIB, HugepagePolicy.AUTO), TopologyReader.read(root),
                MemoryReader.read(root));
        assertEquals(PageSize.SIZE_2M, p.pageSize());
        assertEquals(0, p.hugepages().get(0).toAdd());
        assertNull(p.fallback());
    }

    @Test
    void autoTakesGigantPagesReservedAtBoot(@TempDir Path other) {
        Path root = FakeSysfs.twoCores(other).pool(PageSize.SIZE_1G, -1, 2, 2).root();
        PartitionPlan p = PartitionPlanner.plan(memory(2 * GIB, HugepagePolicy.AUTO), TopologyReader.read(root),
                MemoryReader.read(root));
        assertEquals(PageSize.SIZE_1G, p.pageSize());
        assertEquals(0, p.hugepages().get(0).toAdd());
        assertEquals(2, p.hugepages().get(0).free());
        assertNull(p.fallback(), "nothing to ask the kernel for, nothing to fall back from");
    }

    @Test
    void explicitPageSizeMustFitTheMemory() {
        refused(PlatformErrors.PAGE_SIZE_UNAVAILABLE, FakeSysfs::twoCores, memory(1536 * MIB, HugepagePolicy.SIZE_1G),
                "multiple of 1G", "memory = 1536M", "1024M or 2048M");
        refused(PlatformErrors.PAGE_SIZE_UNAVAILABLE, FakeSysfs::withOffline, memory(GIB, HugepagePolicy.SIZE_1G),
                "no 1G hugepage pool");
    }

    @Test
    void refusesMoreMemoryThanExists() {
        refused(PlatformErrors.NOT_ENOUGH_MEMORY, FakeSysfs::twoCores, memory(30 * GIB, HugepagePolicy.AUTO),
                "memory = 30720M", "reserve_memory = 512M", "24105 MiB in total", "23757 MiB available",
                "at most 23244 MiB", "set memory = 23244M");
        refused(PlatformErrors.NOT_ENOUGH_MEMORY, FakeSysfs::twoCores, memory(24 * GIB, HugepagePolicy.OFF),
                "memory = 24576M", "at most 23245 MiB");
    }

    @Test
    void rejectsNonsense() {
        refused(PlatformErrors.INVALID_REQUEST, FakeSysfs::twoCores, count(0), "cpu_count = 0");
        refused(PlatformErrors.INVALID_REQUEST, FakeSysfs::twoCores, memory(1000, HugepagePolicy.AUTO), "1000 bytes");
    }

    // ---- 4 vCPUs, 2 cores x 2 threads --------------------------------------------------------------------

    @Test
    void fourThreadsGiveTheSecondCoreWhole() {
        PartitionPlan p = plan(FakeSysfs::fourThreads, count(2));
        assertEquals(CpuList.parse("2-3"), p.cpuIds());
        assertEquals(CpuList.parse("0-1"), p.primaryCpus());
    }

    @Test
    void fourThreadsRefuseHalfCoresAndTooMany() {
        refused(PlatformErrors.NOT_WHOLE_CORES, FakeSysfs::fourThreads, count(1),
                "cpu_count = 1", "2 threads", "set cpu_count = 2");
        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::fourThreads, count(4),
                "2 cores (CPU0-3, 2 threads per core)", "core 0 (CPU0-1)", "at most 2 CPUs", "set cpu_count = 2");
        refused(PlatformErrors.NOT_WHOLE_CORES, FakeSysfs::fourThreads, ids("2"),
                "core 1 (CPU2-3) also has CPU3", "cpu_ids = 2-3");
        refused(PlatformErrors.PRIMARY_CORE, FakeSysfs::fourThreads, ids("1-3"), "CPU1", "cpu_ids = 2-3");
    }

    // ---- 16 vCPUs, 2 NUMA nodes ---------------------------------------------------------------------------

    @Test
    void numaPrefersTheNodeWithMostFreeCores() {
        PartitionPlan p = plan(FakeSysfs::sixteenNuma, count2M(4));
        assertEquals(CpuList.parse("4-5,12-13"), p.cpuIds());
        assertEquals(1, p.numaNode());
        HugepageNeed need = p.hugepages().get(0);
        assertEquals(1, need.node());
        assertEquals(512, need.pages());
        assertEquals(8, need.free());
        assertEquals(504, need.toAdd());

        assertEquals(CpuList.parse("4-7,12-15"), plan(FakeSysfs::sixteenNuma, count(8)).cpuIds());
    }

    @Test
    void numaTakesHugepagesSystemWideWhenTheNodeIsShortOfMemory(@TempDir Path other) {
        Path root = FakeSysfs.sixteenNuma(other).nodeMeminfo(1, 32_000, 100).root();
        PartitionPlan p = PartitionPlanner.plan(count2M(4), TopologyReader.read(root), MemoryReader.read(root));
        assertEquals(1, p.numaNode(), "the CPUs stay on node 1");
        assertEquals(-1, p.hugepages().get(0).node());
        assertEquals(504, p.hugepages().get(0).toAdd());
        assertEquals(100L << 20, MemoryReader.read(root).nodeFree(1).orElseThrow());
    }

    @Test
    void numaSpansNodesOnlyWhenOneIsNotEnough() {
        PartitionPlan p = plan(FakeSysfs::sixteenNuma, count(10));
        assertEquals(-1, p.numaNode());
        assertEquals(CpuList.parse("1,4-7,9,12-15"), p.cpuIds());
        assertEquals(-1, p.hugepages().get(0).node());
        assertEquals(CpuList.parse("0,2-3,8,10-11"), p.primaryCpus());
        assertEquals(14, plan(FakeSysfs::sixteenNuma, count(14)).cpuIds().size());
        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::sixteenNuma, count(16),
                "8 cores (CPU0-15, 2 threads per core, 2 NUMA nodes)", "core 0 (CPU0,8)", "at most 14 CPUs");
        refused(PlatformErrors.NOT_WHOLE_CORES, FakeSysfs::sixteenNuma, count(3), "cpu_count = 2 or cpu_count = 4");
    }

    @Test
    void numaExplicitIdsNameTheDistantSibling() {
        refused(PlatformErrors.NOT_WHOLE_CORES, FakeSysfs::sixteenNuma, ids("4-5"),
                "also has CPU12", "also has CPU13", "add CPU12-13", "cpu_ids = 4-5,12-13");
        PartitionPlan p = plan(FakeSysfs::sixteenNuma, ids("3,11"));
        assertEquals(0, p.numaNode());
    }

    // ---- offline CPUs ----------------------------------------------------------------------------------

    @Test
    void offlineCpusAreNeverPlanned() {
        assertEquals(CpuList.of(6), plan(FakeSysfs::withOffline, count(1)).cpuIds());
        // 3 CPUs = core 1 (CPU1,5) + the one-thread core CPU6 left by the offline CPU2.
        assertEquals(CpuList.of(1, 5, 6), plan(FakeSysfs::withOffline, count(3)).cpuIds());
        assertEquals(CpuList.parse("1,3,5-7"), plan(FakeSysfs::withOffline, count(5)).cpuIds());
        refused(PlatformErrors.CPU_NOT_ONLINE, FakeSysfs::withOffline, ids("2,6"), "CPU2 is offline", "0-1,3-7");
        refused(PlatformErrors.NOT_ENOUGH_CPUS, FakeSysfs::withOffline, count(6), "CPU2 offline", "at most 5 CPUs");
    }

    // ---- this machine, for real -------------------------------------------------------------------------

    @Test
    void thisMachineRefusesEveryCpu() {
        Topology t = TopologyReader.read();
        int all = t.onlineCpus().size();
        PartitionRequest request = new PartitionRequest(CpuRequest.count(all), 512 * MIB, 512 * MIB, false,
                HugepagePolicy.AUTO);
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> PartitionPlanner.plan(request, t, MemoryReader.read()));
        assertSame(PlatformErrors.NOT_ENOUGH_CPUS, e.code());
        int most = all - t.primaryCore().cpus().size();
        assertTrue(e.getMessage().contains("cpu_count = " + all), e.getMessage());
        assertTrue(e.getMessage().contains(t.describe()), e.getMessage());
        assertTrue(e.getMessage().contains("at most " + most), e.getMessage());

        PartitionRequest ids = new PartitionRequest(CpuRequest.ids(t.onlineCpus()), 512 * MIB, 512 * MIB, false,
                HugepagePolicy.AUTO);
        EnclaveException byIds = assertThrows(EnclaveException.class,
                () -> PartitionPlanner.plan(ids, t, MemoryReader.read()));
        assertSame(PlatformErrors.PRIMARY_CORE, byIds.code());
    }
}
