package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real reservations on this machine (a few 2M pages, always given back), and the kernel-gives-fewer path
 * on a fake pool: provoking real fragmentation would take all free memory of a machine others share.
 */
class HugepageReservationTest {
    private static final Path ROOT = Path.of("/");
    private static final Path GLOBAL_NR = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    private static final Path NODE0_NR = Path.of("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages");

    @TempDir
    Path dir;

    /** Every grant a test takes, given back after the test whatever happened. */
    private final List<HugepageGrant> outstanding = new ArrayList<>();
    private long globalBefore;

    @BeforeEach
    void recordPool() throws IOException {
        globalBefore = read(GLOBAL_NR);
    }

    @AfterEach
    void giveEverythingBack() throws IOException {
        new HugepageReservation(ROOT).releaseAll(outstanding);
        outstanding.clear();
        assertEquals(globalBefore, read(GLOBAL_NR), "the 2M pool is back where it was");
    }

    @Test
    void reservesFourPagesAndGivesBackExactly() throws IOException {
        long meminfoBefore = meminfoHugepagesTotal();
        HugepageReservation r = new HugepageReservation(ROOT);
        HugepageGrant grant = r.add(PageSize.SIZE_2M, HugepagePool.GLOBAL, 4);
        outstanding.add(grant);
        assertEquals(4, grant.added());
        assertEquals(globalBefore + 4, read(GLOBAL_NR));
        assertEquals(meminfoBefore + 4, meminfoHugepagesTotal());
        assertEquals(globalBefore + 4, MemoryReader.read().pool(PageSize.SIZE_2M).orElseThrow().total());

        grant.release();
        outstanding.remove(grant);
        assertEquals(globalBefore, read(GLOBAL_NR));
        assertEquals(meminfoBefore, meminfoHugepagesTotal());
    }

    @Test
    void reservesPerNode() throws IOException {
        long nodeBefore = read(NODE0_NR);
        HugepageGrant grant = new HugepageReservation(ROOT).add(PageSize.SIZE_2M, 0, 3);
        outstanding.add(grant);
        assertEquals(new HugepageGrant(PageSize.SIZE_2M.bytes(), 0, 3, BootId.current(ROOT)), grant);
        assertTrue(grant.bootId().matches("[0-9a-f-]{36}"), grant.bootId());
        assertEquals(nodeBefore + 3, read(NODE0_NR));
        assertEquals(globalBefore + 3, read(GLOBAL_NR), "a node's pages count in the system-wide pool");
        new HugepageReservation(ROOT).release(grant);
        outstanding.remove(grant);
        assertEquals(nodeBefore, read(NODE0_NR));
    }

    @Test
    void reservesWhatAPlanMisses() throws IOException {
        PartitionRequest request = new PartitionRequest(CpuRequest.count(1), 8L << 20, 512L << 20, true,
                HugepagePolicy.SIZE_2M);
        PartitionPlan plan = PartitionPlanner.plan(request, TopologyReader.read(), MemoryReader.read());
        HugepageNeed need = plan.hugepages().get(0);
        assertEquals(4, need.pages());
        List<HugepageGrant> grants = new HugepageReservation(ROOT).reserve(plan);
        outstanding.addAll(grants);
        long added = grants.stream().mapToLong(HugepageGrant::added).sum();
        assertEquals(need.toAdd(), added);
        assertTrue(MemoryReader.read().pool(PageSize.SIZE_2M).orElseThrow().available() >= 4);
    }

    @Test
    void refusesMoreMemoryThanExistsAndReservesNothing() throws IOException {
        MemoryInfo memory = MemoryReader.read();
        long tooMuch = (memory.totalBytes() * 2) >> 20 << 20;
        PartitionRequest request = new PartitionRequest(CpuRequest.count(1), tooMuch, 512L << 20, true,
                HugepagePolicy.AUTO);
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> PartitionPlanner.plan(request, TopologyReader.read(), memory));
        assertSame(PlatformErrors.NOT_ENOUGH_MEMORY, e.code());
        assertTrue(e.getMessage().contains("memory = " + (tooMuch >> 20) + "M"), e.getMessage());
        assertTrue(e.getMessage().contains(memory.totalBytes() / (1 << 20) + " MiB in total"), e.getMessage());
        assertEquals(globalBefore, read(GLOBAL_NR));
    }

    @Test
    void kernelGivingFewerIsAnErrorAndNothingStaysReserved() throws IOException {
        Path root = FakeSysfs.twoCores(dir).pool(PageSize.SIZE_2M, -1, 10, 10).root();
        Path nr = root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        HugepageReservation r = new HugepageReservation(new StingyKernel(root, 16), root);
        EnclaveException e = assertThrows(EnclaveException.class, () -> r.add(PageSize.SIZE_2M, -1, 100));
        assertSame(PlatformErrors.HUGEPAGES_NOT_GRANTED, e.code());
        assertTrue(e.getMessage().contains("asked the kernel for 100 more 2M hugepages"), e.getMessage());
        assertTrue(e.getMessage().contains("it gave 6"), e.getMessage());
        assertTrue(e.getMessage().contains("hugepages=110"), e.getMessage());
        assertEquals(10, read(nr), "the 6 pages given were returned, the 10 others' pages stay");
    }

    @Test
    void aPlanIsAllOrNothing() throws IOException {
        Path root = FakeSysfs.sixteenNuma(dir).root();
        HugepageNeed fits = new HugepageNeed(PageSize.SIZE_2M, 1, 10, 8, 8, 2);
        HugepageNeed fails = new HugepageNeed(PageSize.SIZE_2M, -1, 500, 8, 8, 492);
        PartitionPlan plan = new PartitionPlan(CpuList.of(4, 12), 1000, PageSize.SIZE_2M, 1, List.of(fits, fails),
                CpuList.parse("0-3,5-11,13-15"), 63_000, false, null, null);
        HugepageReservation r = new HugepageReservation(new StingyKernel(root, 20), root);
        assertThrows(EnclaveException.class, () -> r.reserve(plan));
        assertEquals(8, read(root.resolve("sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")));
        assertEquals(8, read(root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")));
    }

    @Test
    void releaseLeavesPagesOthersAddedMeanwhile() throws IOException {
        Path root = FakeSysfs.twoCores(dir).root();
        Path nr = root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        HugepageReservation r = new HugepageReservation(root);
        HugepageGrant ours = r.add(PageSize.SIZE_2M, -1, 5);
        Files.writeString(nr, "12\n"); // someone else added 7 while the enclave ran
        ours.release(root);
        assertEquals(7, read(nr));
    }

    @Test
    void autoFallsBackTo2MWhenTheKernelHasNoGiantPagesAndKeepsNoneOfThem() throws IOException {
        Path root = FakeSysfs.twoCores(dir).pool(PageSize.SIZE_1G, -1, 1, 0).root();
        Path giantNr = root.resolve("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
        Path smallNr = root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        PartitionRequest request = new PartitionRequest(CpuRequest.count(1), 2L << 30, 512L << 20, false,
                HugepagePolicy.AUTO);
        PartitionPlan plan = PartitionPlanner.plan(request, TopologyReader.read(root), MemoryReader.read(root));
        assertEquals(PageSize.SIZE_1G, plan.pageSize());

        // The kernel finds one more GiB (2 in the pool), not the 2 asked: that one goes back, 2M it is.
        HugepageReservation r = new HugepageReservation(new StingyKernel(root, 2, PageSize.SIZE_1G), root);
        HugepageReservation.Reserved got = r.reserveOrFallBack(plan);
        assertEquals(PageSize.SIZE_2M, got.plan().pageSize());
        assertEquals(List.of(new HugepageGrant(PageSize.SIZE_2M.bytes(), -1, 1024, null)), got.grants());
        assertEquals(1, read(giantNr), "the giant page the kernel gave was returned");
        assertEquals(1024, read(smallNr));
        r.releaseAll(got.grants());
        assertEquals(0, read(smallNr));
    }

    @Test
    void autoKeepsGiantPagesTheKernelGives() throws IOException {
        Path root = FakeSysfs.twoCores(dir).root();
        PartitionRequest request = new PartitionRequest(CpuRequest.count(1), 2L << 30, 512L << 20, false,
                HugepagePolicy.AUTO);
        PartitionPlan plan = PartitionPlanner.plan(request, TopologyReader.read(root), MemoryReader.read(root));
        HugepageReservation r = new HugepageReservation(root);
        HugepageReservation.Reserved got = r.reserveOrFallBack(plan);
        assertSame(plan, got.plan());
        assertEquals(List.of(new HugepageGrant(PageSize.SIZE_1G.bytes(), -1, 2, null)), got.grants());
        assertEquals(0, read(root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")));
    }

    /**
     * The real 1G pool, where there is one (the nested harness; this host has none): one page is asked for;
     * whether the kernel finds a free GiB depends on the machine, so both outcomes are checked, and every
     * page is given back.
     */
    @Test
    void autoOnThisMachineGetsOneGiantPageOrFallsBackCleanly() throws IOException {
        Path giantNr = Path.of("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
        Assumptions.assumeTrue(Files.exists(giantNr), "this kernel has no 1G hugepage pool");
        long giantBefore = read(giantNr);
        MemoryInfo memory = MemoryReader.read();
        Assumptions.assumeTrue(memory.pool(PageSize.SIZE_1G).orElseThrow().available() == 0,
                "the 1G pool has free pages already: nothing would be asked of the kernel");
        PartitionRequest request = new PartitionRequest(CpuRequest.count(1), 1L << 30, 512L << 20, true,
                HugepagePolicy.AUTO);
        PartitionPlan plan = PartitionPlanner.plan(request, TopologyReader.read(), memory);
        assertEquals(PageSize.SIZE_1G, plan.pageSize());
        HugepageReservation.Reserved got = new HugepageReservation(ROOT).reserveOrFallBack(plan);
        outstanding.addAll(got.grants());
        if (got.plan().pageSize() == PageSize.SIZE_1G) {
            assertEquals(giantBefore + 1, read(giantNr));
            assertEquals(1, got.grants().get(0).added());
        } else {
            assertEquals(PageSize.SIZE_2M, got.plan().pageSize());
            assertEquals(giantBefore, read(giantNr), "no giant page kept after falling back");
        }
        System.out.println("auto with 1 GiB on this machine: " + got.plan().pageSize().label() + " " + got.grants());
        new HugepageReservation(ROOT).releaseAll(got.grants());
        outstanding.clear();
        assertEquals(giantBefore, read(giantNr));
    }

    @Test
    void aGrantFromAnotherBootIsNeverGivenBack() throws IOException {
        Path root = FakeSysfs.twoCores(dir).pool(PageSize.SIZE_2M, -1, 10, 10).bootId("boot-a").root();
        Path nr = root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        HugepageGrant grant = new HugepageReservation(root).add(PageSize.SIZE_2M, -1, 4);
        assertEquals("boot-a", grant.bootId());
        assertEquals(14, read(nr));

        // A reboot: the pool is back to its boot-time 10 pages, none of them ours.
        FakeSysfs.at(root).bootId("boot-b").pool(PageSize.SIZE_2M, -1, 10, 10);
        grant.release(root);
        assertEquals(10, read(nr), "the new boot's pages stay");

        FakeSysfs.at(root).bootId("boot-a").pool(PageSize.SIZE_2M, -1, 14, 14);
        grant.release(root);
        assertEquals(10, read(nr), "in its own boot the grant is given back");
    }

    @Test
    void aGrantWithoutBootIdIsNotGivenBackOnAMachineThatHasOne() throws IOException {
        Path root = FakeSysfs.twoCores(dir).pool(PageSize.SIZE_2M, -1, 14, 14).bootId("boot-a").root();
        new HugepageGrant(PageSize.SIZE_2M.bytes(), -1, 4, null).release(root);
        assertEquals(14, read(root.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")));
    }

    @Test
    void aMissingPoolIsAnErrorNotANewFile() {
        Path root = FakeSysfs.twoCores(dir).root();
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> new HugepageReservation(root).add(PageSize.SIZE_2M, 3, 4));
        assertSame(PlatformErrors.HUGEPAGE_CONTROL, e.code());
        assertTrue(e.getMessage().contains("node3"), e.getMessage());
        assertTrue(!Files.exists(root.resolve("sys/devices/system/node/node3")));
    }

    private static long read(Path file) throws IOException {
        return Long.parseLong(Files.readString(file).strip());
    }

    private static long meminfoHugepagesTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("HugePages_Total:")) {
                return Long.parseLong(line.substring("HugePages_Total:".length()).strip());
            }
        }
        throw new IllegalStateException("no HugePages_Total in /proc/meminfo");
    }

    /** A fake tree's pools behind a kernel that cannot find more than {@code limit} pages per pool. */
    private static final class StingyKernel implements HugepagePoolControl {
        private final HugepagePoolControl files;
        private final long limit;
        private final PageSize only;

        StingyKernel(Path root, long limit) {
            this(root, limit, null);
        }

        /** Stingy only with pages of {@code only} (any size when null). */
        StingyKernel(Path root, long limit, PageSize only) {
            this.files = HugepagePoolControl.sysfs(new SysfsFiles(root));
            this.limit = limit;
            this.only = only;
        }

        @Override
        public long read(PageSize size, int node) {
            return files.read(size, node);
        }

        @Override
        public void write(PageSize size, int node, long pages) {
            files.write(size, node, only == null || only == size ? Math.min(pages, limit) : pages);
        }

        @Override
        public String describe(PageSize size, int node) {
            return files.describe(size, node);
        }
    }
}
