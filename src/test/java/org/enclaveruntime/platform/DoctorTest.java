package org.enclaveruntime.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorTest {
    /** The enclave memory the checks are asked about. */
    private static final long REQUEST = 512L << 20;

    @TempDir
    Path dir;

    private Map<String, DoctorFinding> run(Path root, long memory) {
        List<DoctorFinding> findings = Doctor.run(PlatformChecks.all(root, root.resolve("dev/kvm"), dir.resolve("run"), dir.resolve("log"),
                memory, PartitionRequest.DEFAULT_RESERVE_MEMORY, null));
        return findings.stream().collect(Collectors.toMap(DoctorFinding::check, Function.identity()));
    }

    @Test
    void thisMachineGetsTheVerdictItDeserves() {
        Map<String, DoctorFinding> f = run(Path.of("/"), REQUEST);
        // What this host offers, found without doctor: whether the device node exists.
        boolean hasKvm = Files.exists(Path.of("/dev/kvm"));
        assertEquals(hasKvm ? CheckStatus.OK : CheckStatus.FAIL, f.get("kvm").status(), f.get("kvm").detail());
        assertTrue(f.get("kvm").detail().contains(hasKvm ? "version 12" : "/dev/kvm does not exist"),
                f.get("kvm").detail());
        Topology t = TopologyReader.read();
        CheckStatus cores = t.cores().size() > 1 ? CheckStatus.OK : CheckStatus.FAIL;
        assertEquals(cores, f.get("cores").status(), f.get("cores").detail());
        assertEquals(CheckStatus.OK, f.get("run_dir").status());
        assertEquals(CheckStatus.OK, f.get("memory").status());
    }

    @Test
    void fakeTreeWithoutKvmFailsWithTheRemedy() {
        Map<String, DoctorFinding> f = run(FakeSysfs.fourThreads(dir.resolve("tree")).root(), REQUEST);
        DoctorFinding kvm = f.get("kvm");
        assertEquals(CheckStatus.FAIL, kvm.status());
        assertTrue(kvm.detail().contains("does not exist"), kvm.detail());
        assertTrue(kvm.remedy().contains("modprobe"), kvm.remedy());
        assertEquals(CheckStatus.OK, f.get("cores").status());
        assertTrue(f.get("cores").detail().contains("CPU2-3"), f.get("cores").detail());
        assertTrue(Doctor.anyFailed(List.copyOf(f.values())));
    }

    @Test
    void oneCoreLeavesNothing() {
        Path root = FakeSysfs.at(dir.resolve("one")).cpus("0-1", "0-1").cpu(0, 0, 0, "0-1", true)
                .cpu(1, 0, 0, "0-1", true).meminfo(4000, 3000).root();
        DoctorFinding cores = run(root, REQUEST).get("cores");
        assertEquals(CheckStatus.FAIL, cores.status());
        assertTrue(cores.detail().contains("no whole core is left"), cores.detail());
        assertTrue(cores.remedy().contains("share_cpus"), cores.remedy());
    }

    @Test
    void offlineCpusAndTooLittleMemory() {
        Path root = FakeSysfs.withOffline(dir.resolve("off")).root();
        Map<String, DoctorFinding> f = run(root, 40_000L << 20);
        assertEquals(CheckStatus.WARN, f.get("cpus_online").status());
        assertTrue(f.get("cpus_online").detail().contains("CPU2"), f.get("cpus_online").detail());
        assertEquals(CheckStatus.FAIL, f.get("memory").status());
        assertTrue(f.get("memory").detail().contains("30000 MiB available"), f.get("memory").detail());
        CheckResult wanted = new OfflineCpusCheck(root, CpuList.of(2, 6)).run();
        assertEquals(CheckStatus.FAIL, wanted.status());
        assertTrue(wanted.detail().contains("offline CPU2"), wanted.detail());
    }

    @Test
    void fragmentedMemoryWarns() throws IOException {
        Path root = FakeSysfs.twoCores(dir.resolve("frag")).root();
        // Plenty of free 4K pages, but only 3 free blocks of 2 MiB (order 9) and none larger.
        Files.writeString(root.resolve("proc/buddyinfo"),
                "Node 0, zone   Normal  90000  5000  100  50  10  5  2  1  0  3  0\n");
        DoctorFinding h = run(root, 512L << 20).get("hugepages");
        assertEquals(CheckStatus.WARN, h.status(), h.detail());
        assertTrue(h.detail().contains("about 3 more 2M pages"), h.detail());
        assertTrue(h.remedy().contains("hugepages=256"), h.remedy());
    }

    @Test
    void directories() throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        assertEquals(CheckStatus.FAIL, new DirectoryCheck("run_dir", file).run().status());
        assertEquals(CheckStatus.OK, new DirectoryCheck("run_dir", dir).run().status());
        CheckResult later = new DirectoryCheck("log_dir", dir.resolve("a/b")).run();
        assertEquals(CheckStatus.OK, later.status());
        assertFalse(Files.exists(dir.resolve("a")), "doctor creates nothing");
    }

    @Test
    void aCheckThatThrowsIsAFailNotACrash() {
        DoctorCheck broken = new DoctorCheck() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public CheckResult run() {
                return new SpareCoresCheck(dir.resolve("nothing-here")).run();
            }
        };
        List<DoctorFinding> f = Doctor.run(List.of(broken, new DirectoryCheck("run_dir", dir)));
        assertEquals(CheckStatus.FAIL, f.get(0).status());
        assertTrue(f.get(0).detail().startsWith("E609"), f.get(0).detail());
        assertEquals(CheckStatus.OK, f.get(1).status());
        String text = Doctor.render(f);
        assertTrue(text.contains("FAIL  broken   E609"), text);
        assertTrue(text.contains("1 ok, 0 warnings, 1 failed"), text);
    }
}
