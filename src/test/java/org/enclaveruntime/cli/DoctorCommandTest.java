package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** Built here: target/image.bin appears only at `package`, after the tests. */
    private Path demoImage() {
        Path image = dir.resolve("demo.bin");
        if (!Files.exists(image)) {
            new org.enclaveruntime.image.ImageBuilder()
                    .runtime(Path.of(System.getProperty("enclave.build.dir", "target"), "guest", "runtime.elf"))
                    .name("demo").version("test").writeTo(image);
        }
        return image;
    }

    private String config(String... extra) throws IOException {
        List<String> lines = new java.util.ArrayList<>(List.of("[enclave]", "cpu_count = 1", "memory = 128M",
                "image = " + demoImage()));
        List<String> runtime = new java.util.ArrayList<>(List.of("[runtime]", "run_dir = " + dir.resolve("run"),
                "log_dir = " + dir.resolve("log")));
        boolean inRuntime = false;
        for (String e : extra) {
            if (e.equals("[runtime]")) {
                inRuntime = true;
            } else {
                (inRuntime ? runtime : lines).add(e);
            }
        }
        lines.addAll(runtime);
        return "--config=" + Files.write(dir.resolve("enclave.conf"), lines);
    }

    /** What this host really offers, found independently of doctor: a KVM device that exists. */
    private static final boolean HOST_HAS_KVM = Files.exists(Path.of("/dev/kvm"));

    /** The line doctor must print about /dev/kvm on this host. */
    private static String kvmVerdict() {
        return HOST_HAS_KVM ? "OK    kvm " : "FAIL  kvm ";
    }

    @Test
    void aOneCpuEnclaveGetsTheVerdictThisHostDeserves() throws IOException {
        CliRun r = run("doctor", config());
        assertTrue(r.out().contains(kvmVerdict()), r.out());
        assertTrue(r.out().contains("OK    config"), r.out());
        assertEquals(HOST_HAS_KVM, r.out().contains("OK    kvm_caps"), r.out());
        assertTrue(r.out().contains("WARN  image"), r.out());
        assertTrue(r.out().contains("OK    plan"), r.out());
        String failed = HOST_HAS_KVM ? "0 failed" : "1 failed";
        assertTrue(r.out().matches("(?s).*\\d+ ok, \\d+ warnings?, " + failed + "\\s*"), r.out());
        assertEquals(HOST_HAS_KVM ? 0 : 5, r.status(), r.out());
    }

    @Test
    void aMissingKvmDeviceFailsOnceWithTheRemedyAndTheRestIsStillChecked() throws IOException {
        CliRun r = run("doctor", config("[runtime]", "kvm_device = " + dir.resolve("no-kvm")), "--output", "json");
        assertEquals(5, r.status(), r.toString());
        JsonNode findings = new ObjectMapper().readTree(r.out());
        JsonNode kvm = findings.get(1);
        assertEquals("kvm", kvm.get("check").asText());
        assertEquals("FAIL", kvm.get("status").asText());
        assertTrue(kvm.get("detail").asText().contains(dir.resolve("no-kvm") + " does not exist"), kvm.toString());
        assertTrue(kvm.get("remedy").asText().contains("modprobe"), kvm.toString());
        List<String> checks = new java.util.ArrayList<>();
        findings.forEach(f -> checks.add(f.get("check").asText()));
        assertTrue(checks.containsAll(List.of("cores", "memory", "image", "plan")), checks.toString());
        assertTrue(!checks.contains("kvm_caps"), "one root cause, one failure: " + checks);
    }

    @Test
    void aKvmDeviceThatIsNotKvmIsRefused() throws IOException {
        CliRun r = run("doctor", config("[runtime]", "kvm_device = /dev/null"));
        assertEquals(5, r.status(), r.toString());
        assertTrue(r.out().contains("FAIL  kvm ") && r.out().contains("/dev/null refused KVM_GET_API_VERSION"),
                r.out());
        assertTrue(!r.out().contains("kvm_caps"), "one root cause, one failure: " + r.out());
    }

    @Test
    void aFakeTreeWithoutKvmFailsWithStatus5AndJson() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("sys/devices/system/cpu/cpu0/topology"));
        Files.writeString(root.resolve("sys/devices/system/cpu/online"), "0\n");
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal: 1000000 kB\nMemAvailable: 900000 kB\n");
        CliRun r = run("doctor", "--root", root.toString(), config(), "--output", "json");
        assertEquals(5, r.status(), r.out());
        JsonNode findings = new ObjectMapper().readTree(r.out());
        assertEquals("config", findings.get(0).get("check").asText());
        assertEquals("OK", findings.get(0).get("status").asText());
        assertEquals("kvm", findings.get(1).get("check").asText());
        assertEquals("FAIL", findings.get(1).get("status").asText());
        assertTrue(findings.get(1).get("remedy").asText().contains("modprobe"));
        JsonNode cores = findings.get(2);
        assertEquals("cores", cores.get("check").asText());
        assertEquals("FAIL", cores.get("status").asText(), cores.toString());
    }

    /** Remedies in one style, and one text per cause: a missing device reads as E400 does. */
    @Test
    void everyRemedyIsASentenceAndTheKvmOneIsTheCodesOwn() throws IOException {
        Path root = dir.resolve("tree");
        Files.createDirectories(root.resolve("sys/devices/system/cpu/cpu0/topology"));
        Files.writeString(root.resolve("sys/devices/system/cpu/online"), "0\n");
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal: 100000 kB\nMemAvailable: 90000 kB\n");
        Files.writeString(dir.resolve("run"), "a file where run_dir should be");
        CliRun r = run("doctor", "--root", root.toString(), config(), "--output", "json");
        JsonNode findings = new ObjectMapper().readTree(r.out());
        int remedies = 0;
        for (JsonNode f : findings) {
            if (!f.get("remedy").isNull()) {
                remedies++;
                assertTrue(f.get("remedy").asText().matches("(?s)[A-Z].*[^.][.]"), f.toString());
            }
        }
        assertTrue(remedies >= 3, r.out());
        assertEquals(org.enclaveruntime.kvm.KvmErrors.KVM_MISSING.remedy(), findings.get(1).get("remedy").asText());
    }

    @Test
    void anEnclaveThisMachineCannotHoldFailsThePlanAndAnInvalidConfigIsReported() throws IOException {
        config();
        Files.writeString(dir.resolve("enclave.conf"), Files.readString(dir.resolve("enclave.conf"))
                .replace("cpu_count = 1", "cpu_count = 2"));
        CliRun plan = run("doctor", "--config=" + dir.resolve("enclave.conf"));
        assertEquals(5, plan.status(), plan.toString());
        assertTrue(plan.out().contains("FAIL  plan") && plan.out().contains("E601"), plan.out());
        Files.writeString(dir.resolve("enclave.conf"), "[enclave]\nmemory = 3M\n");
        CliRun bad = run("doctor", "--config=" + dir.resolve("enclave.conf"));
        assertEquals(5, bad.status(), bad.toString());
        assertTrue(bad.out().contains("FAIL  config") && bad.out().contains("memory: '3M'"), bad.out());
        assertTrue(bad.out().contains(kvmVerdict()), "the platform is still checked: " + bad.out());
    }

    @Test
    void explainKnowsThePlatformCodes() {
        CliRun r = run("explain", "E607");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("E607: the kernel gave fewer hugepages than asked"), r.out());
        assertTrue(r.out().contains("Exit status: 5"), r.out());
    }
}
