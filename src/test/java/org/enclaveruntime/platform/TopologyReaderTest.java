package org.enclaveruntime.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopologyReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsThisMachineConsistentlyWithSysfs() throws IOException {
        Topology t = TopologyReader.read();
        CpuList online = CpuList.parse(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        assertEquals(online, t.onlineCpus());
        assertEquals(Runtime.getRuntime().availableProcessors(), t.onlineCpus().size());
        int threads = t.cores().stream().mapToInt(c -> c.cpus().size()).sum();
        assertEquals(online.size(), threads, "every online CPU belongs to exactly one core");
        assertTrue(t.primaryCore().cpus().contains(0));
    }

    @Test
    void readsThisMachinesMemory() throws IOException {
        MemoryInfo m = MemoryReader.read();
        assertTrue(m.totalBytes() > 0 && m.availableBytes() <= m.totalBytes());
        HugepagePool pool = m.pool(PageSize.SIZE_2M).orElseThrow();
        long nr = Long.parseLong(Files.readString(
                Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")).strip());
        assertEquals(nr, pool.total());
    }

    @Test
    void fourThreadsInRangeForm() {
        Topology t = TopologyReader.read(FakeSysfs.fourThreads(dir).root());
        assertEquals(2, t.cores().size());
        assertEquals(CpuList.parse("0-1"), t.primaryCore().cpus());
        assertEquals(CpuList.parse("2-3"), t.cores().get(1).cpus());
        assertTrue(t.hyperthreading());
        assertEquals("2 cores (CPU0-3, 2 threads per core)", t.describe());
    }

    @Test
    void sixteenOnTwoNodesWithDistantSiblings() {
        Topology t = TopologyReader.read(FakeSysfs.sixteenNuma(dir).root());
        assertEquals(8, t.cores().size());
        assertEquals(List.of(0, 1), t.nodes());
        assertEquals(CpuList.of(0, 8), t.primaryCore().cpus());
        assertEquals(1, t.cpu(12).orElseThrow().node());
        assertEquals(CpuList.of(4, 12), t.coreOf(12).orElseThrow().cpus());
        MemoryInfo m = MemoryReader.read(dir);
        assertEquals(8, m.pool(PageSize.SIZE_2M, 1).orElseThrow().free());
        assertEquals(64_000L << 20, m.totalBytes());
    }

    @Test
    void offlineCpuLeavesAGapAndAOneThreadCore() {
        Topology t = TopologyReader.read(FakeSysfs.withOffline(dir).root());
        assertEquals(CpuList.of(2), t.offline());
        assertFalse(t.cpu(2).isPresent());
        assertEquals(CpuList.of(6), t.coreOf(6).orElseThrow().cpus());
        assertEquals(4, t.cores().size());
    }

    @Test
    void disagreeingSiblingListsStillGiveOneCorePerCpu() {
        // cpu1 claims to be alone, cpu0 says it shares a core with cpu1: they are one core.
        Path root = FakeSysfs.at(dir).cpus("0-3", "0-3").cpu(0, 0, 0, "0-1", true).cpu(1, 0, 0, "1", true)
                .cpu(2, 0, 1, "2", true).cpu(3, 0, 2, "3", true).meminfo(8000, 7000).root();
        Topology t = TopologyReader.read(root);
        assertEquals(List.of(CpuList.of(0, 1), CpuList.of(2), CpuList.of(3)),
                t.cores().stream().map(Core::cpus).toList());
        assertEquals(CpuList.of(0, 1), t.primaryCore().cpus());
    }
}
