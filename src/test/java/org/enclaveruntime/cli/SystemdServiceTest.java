package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.image.ImageBuilder;
import org.enclaveruntime.testing.NotifyReceiver;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * packaging/de_platform_service.service's command line run as systemd runs it: the foreground VMM with
 * $NOTIFY_SOCKET set to a datagram socket this test binds and reads, the configuration from $ENCLAVE_CONF
 * and, as root, with the unit's capability bounding set and no-new-privileges applied (setpriv), so that a
 * capability the VMM needs but the unit drops fails here.
 */
class SystemdServiceTest {
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final ObjectMapper JSON = new ObjectMapper();
    // Generous: in the nested KVM machine on a busy host a JVM start alone has taken minutes.
    private static final long BOOT_SECONDS = 600;

    @TempDir
    Path dir;

    @Test
    @RequiresKvm
    void readyAfterTheVcpusRunAndStoppingOnSigtermWithHugepages() throws Exception {
        readyThenStopping("hugepages = 2M");
    }

    @Test
    @RequiresKvm
    void readyAfterTheVcpusRunAndStoppingOnSigtermWithLockedMemory() throws Exception {
        readyThenStopping("hugepages = off");
    }

    private void readyThenStopping(String hugepages) throws Exception {
        Path config = configure(hugepages);
        long hugepagesBefore = nrHugepages();
        try (NotifyReceiver systemd = new NotifyReceiver(dir.resolve("notify").toString())) {
            Process vmm = execStart(config, systemd.socketName());
            try {
                String ready = systemd.await(m -> m.startsWith("READY=1"), BOOT_SECONDS, () -> exited(vmm));
                assertTrue(ready != null, "the VMM exited before READY=1: " + systemd.seen()
                        + "\n" + Files.readString(dir.resolve("vmm.err")));
                assertTrue(ready.contains("\nSTATUS=enclave running: pid " + vmm.pid()), ready);
                assertTrue(systemd.seen().stream().anyMatch(m -> m.startsWith("STATUS=booting")), systemd.seen().toString());
                // READY=1 means the enclave runs: its vCPU has already written to the console, the state is RUNNING.
                assertTrue(Files.readString(dir.resolve("log/console.log")).contains("vcpu 0 online"));
                JsonNode status = status(config);
                assertEquals("RUNNING", status.path("state").asText(), status.toString());
                assertEquals(vmm.pid(), status.path("pid").asLong());

                vmm.destroy(); // SIGTERM, as `systemctl stop` sends it
                systemd.await(m -> m.startsWith("STOPPING=1"), BOOT_SECONDS);
                assertTrue(vmm.waitFor(BOOT_SECONDS, TimeUnit.SECONDS), "the VMM did not exit after SIGTERM");
                assertTrue(successExitStatuses().contains(vmm.exitValue()),
                        "exit " + vmm.exitValue() + " is a failure to systemd (SuccessExitStatus)");
                assertEquals("STOPPED", status(config).path("state").asText());
                String stderr = Files.readString(dir.resolve("vmm.err"));
                assertFalse(stderr.contains("cannot lock guest RAM"), "the unit's capabilities do not let the "
                        + "VMM lock guest RAM: " + stderr);
            } finally {
                vmm.destroyForcibly();
                vmm.waitFor(30, TimeUnit.SECONDS);
                CliRun.of("stop", "--force", "--config", config.toString());
            }
        }
        assertEquals(hugepagesBefore, nrHugepages(), "hugepages were not given back");
    }

    /** Every host: no KVM device means a failed start with E400 in the status line, never a silent skip. */
    @Test
    void withoutKvmTheStartFailsWithE400() throws Exception {
        Path config = configure("hugepages = off", "kvm_device = " + dir.resolve("no-such-kvm"));
        String name = "@enclavectl-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver systemd = new NotifyReceiver(name)) {
            Process vmm = execStart(config, name);
            try {
                assertTrue(vmm.waitFor(BOOT_SECONDS, TimeUnit.SECONDS), "the VMM did not give up");
                String stderr = Files.readString(dir.resolve("vmm.err"));
                assertEquals(6, vmm.exitValue(), stderr);
                assertTrue(stderr.contains("error E400: " + dir.resolve("no-such-kvm") + " does not exist"), stderr);
                String failed = systemd.await(m -> m.startsWith("STATUS=error "), 10);
                assertEquals("STATUS=error E400: " + dir.resolve("no-such-kvm") + " does not exist on this host", failed);
                assertFalse(systemd.drain().stream().anyMatch(m -> m.contains("READY=1")), systemd.seen().toString());
            } finally {
                vmm.destroyForcibly();
            }
        }
    }

    /** The unit's ExecStart, with /usr/bin/enclavectl replaced by this build's classes. */
    private Process execStart(Path config, String notifySocket) throws IOException {
        List<String> command = new ArrayList<>();
        if (isRoot()) {
            command.addAll(List.of("setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=" + boundingSet(), "--"));
        }
        List<String> words = Arrays.asList(UnitFile.service().value("ExecStart").split("\\s+"));
        assertEquals("/usr/bin/enclavectl", words.get(0));
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), EnclaveCtl.class.getName()));
        command.addAll(words.subList(1, words.size()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(dir.resolve("vmm.out").toFile())
                .redirectError(dir.resolve("vmm.err").toFile());
        pb.environment().put("NOTIFY_SOCKET", notifySocket);
        pb.environment().put("ENCLAVE_CONF", config.toString());
        return pb.start();
    }

    private static boolean exited(Process p) {
        return !p.isAlive();
    }

    private static boolean isRoot() throws IOException {
        return Files.readString(Path.of("/proc/self/status")).lines()
                .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
    }

    /** CapabilityBoundingSet=CAP_A CAP_B as setpriv writes it: -all,+a,+b. */
    private static String boundingSet() {
        StringBuilder set = new StringBuilder("-all");
        for (String cap : UnitFile.service().value("CapabilityBoundingSet").split("\\s+")) {
            if (!cap.isEmpty()) {
                set.append(",+").append(cap.toLowerCase().replaceFirst("^cap_", ""));
            }
        }
        return set.toString();
    }

    private static List<Integer> successExitStatuses() {
        List<Integer> ok = new ArrayList<>(List.of(0));
        for (String s : UnitFile.service().value("SuccessExitStatus").split("\\s+")) {
            ok.add(Integer.parseInt(s));
        }
        return ok;
    }

    private Path configure(String... runtimeExtra) throws IOException {
        Path image = dir.resolve("runtime.bin");
        Path elf = GUESTS.resolve("runtime.elf");
        if (Files.exists(elf)) {
            new ImageBuilder().runtime(elf).name("runtime").version("test").writeTo(image);
        }
        List<String> lines = new ArrayList<>(List.of("[enclave]", "image = " + image.toAbsolutePath(), "cid = 23",
                "boot_timeout = 60s", "memory = 64M", "cpu_count = 1", "debug = true",
                "[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log")));
        lines.addAll(List.of(runtimeExtra));
        return Files.write(dir.resolve("enclave.conf"), lines);
    }

    private static JsonNode status(Path config) throws IOException {
        CliRun r = CliRun.of("status", "--output", "json", "--config", config.toString());
        assertEquals(0, r.status(), r.toString());
        return JSON.readTree(r.out());
    }

    private static long nrHugepages() throws IOException {
        try (var in = Files.newInputStream(Path.of("/proc/sys/vm/nr_hugepages"))) {
            return Long.parseLong(new String(in.readNBytes(64)).trim());
        }
    }
}
