package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.image.ImageBuilder;
import org.enclaveruntime.platform.CpuList;
import org.enclaveruntime.platform.CpusetSupport;
import org.enclaveruntime.platform.TopologyReader;
import org.enclaveruntime.testing.CpusetView;
import org.enclaveruntime.testing.RequiresKvm;
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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * isolate = cpuset through the CLI with a real enclave: while it runs, no task but its vCPU thread may run on
 * its CPU (checked from Cpus_allowed_list of PID 1, of a sleep started before and one started after); after
 * stop, and after the VMM is killed and the next stop cleans up, the cpusets and every task are as before.
 */
@RequiresKvm
class CpusetLifecycleTest {
    // boot_timeout = 60s: start gives up after boot_timeout + 30 s of silence from the VMM, and in the nested
    // harness (10x slower) boot plus isolation took more than 50 s with the test JVM busy beside it.
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path config;
    private Process sleep;
    private String treeBefore;
    private Map<String, CpuList> before;

    @BeforeEach
    void onlyWhereCpusetsCanBeChanged() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to change cgroups");
        CpusetSupport where = CpusetSupport.detect();
        Assumptions.assumeTrue(where.available(), where.reason());
        Assumptions.assumeTrue(TopologyReader.read().onlineCpus().containsAll(CpuList.parse("0-1")), "needs CPU0-1");
        Path elf = GUESTS.resolve("runtime.elf");
        Path image = dir.resolve("runtime.bin");
        new ImageBuilder().runtime(elf).name("runtime").version("test").writeTo(image);
        config = Files.write(dir.resolve("enclave.conf"), List.of("[enclave]", "image = " + image.toAbsolutePath(),
                "cid = 22", "boot_timeout = 60s", "memory = 64M", "cpu_count = 1", "[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]",
                "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log"), "hugepages = off",
                "isolate = cpuset"));
        sleep = new ProcessBuilder("sleep", "600").start();
        treeBefore = CpusetView.tree();
        before = watched();
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        if (config != null) {
            cli("stop", "--force");
            assertEquals("STOPPED", status().path("state").asText());
            assertEquals(treeBefore, CpusetView.tree(), "the cpusets are as before");
            Map<String, CpuList> after = watched();
            before.keySet().retainAll(after.keySet());
            after.keySet().retainAll(before.keySet());
            assertEquals(before, after, "every watched task may run where it could before");
            assertTrue(after.containsKey("sleep started before"));
        }
        if (sleep != null) {
            sleep.destroyForcibly();
        }
    }

    @Test
    void theEnclaveCpuBelongsToItsVcpuAloneUntilStop() throws Exception {
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        JsonNode running = JSON.readTree(start.out());
        assertEquals("[1]", running.path("cpu_ids").toString());
        long vmm = running.path("pid").asLong();
        assertIsolated(vmm, CpuList.of(1));
        JsonNode state = JSON.readTree(dir.resolve("run/state.json").toFile());
        assertTrue(state.path("cpuset_isolation").path("changes").size() > 0, state.toString());

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertEquals(treeBefore, CpusetView.tree());
        assertFalse(JSON.readTree(dir.resolve("run/state.json").toFile()).path("cpuset_isolation").isObject());
    }

    @Test
    void aKilledVmmsCpusetsAreGivenBackByTheNextStop() throws Exception {
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        ProcessHandle vmm = ProcessHandle.of(JSON.readTree(start.out()).path("pid").asLong()).orElseThrow();
        assertIsolated(vmm.pid(), CpuList.of(1));
        vmm.destroyForcibly();
        vmm.onExit().get(10, TimeUnit.SECONDS);
        assertTrue(CpusetView.allowed(sleep.pid()).intersect(CpuList.of(1)).isEmpty(),
                "a dead VMM cannot give its cpusets back itself");

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertEquals(treeBefore, CpusetView.tree());
        assertEquals(before.get("sleep started before"), CpusetView.allowed(sleep.pid()));
    }

    private void assertIsolated(long vmm, CpuList enclave) throws Exception {
        Process later = new ProcessBuilder("sleep", "600").start();
        try {
            Map<String, CpuList> now = watched();
            now.put("sleep started after", CpusetView.allowed(later.pid()));
            for (Map.Entry<String, CpuList> e : now.entrySet()) {
                assertTrue(e.getValue().intersect(enclave).isEmpty(), e.getKey() + " may run on " + e.getValue());
            }
            int vcpus = 0;
            for (Map.Entry<Integer, CpuList> t : CpusetView.threads(vmm).entrySet()) {
                boolean vcpu = CpusetView.name(vmm, t.getKey()).startsWith("vcpu-");
                vcpus += vcpu ? 1 : 0;
                assertEquals(vcpu, !t.getValue().intersect(enclave).isEmpty(),
                        "VMM thread " + CpusetView.name(vmm, t.getKey()) + " may run on " + t.getValue());
            }
            assertEquals(1, vcpus);
        } finally {
            later.destroyForcibly();
        }
    }

    private Map<String, CpuList> watched() throws IOException {
        Map<String, CpuList> m = new TreeMap<>();
        m.put("sleep started before", CpusetView.allowed(sleep.pid()));
        CpusetView.threads(1).forEach((t, cpus) -> m.put("pid 1 thread " + t, cpus));
        return m;
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config=" + config);
        return CliRun.of(all.toArray(String[]::new));
    }

    private JsonNode status() throws IOException {
        CliRun r = cli("status", "--output", "json");
        assertEquals(0, r.status(), r.toString());
        return JSON.readTree(r.out());
    }
}
