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
        lines.addAll(List.of(extra));
        lines.addAll(List.of("[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log")));
        return "--config=" + Files.write(dir.resolve("enclave.conf"), lines);
    }

    @Test
    void thisMachinePassesForAOneCpuEnclave() throws IOException {
        CliRun r = run("doctor", config());
        assertTrue(r.out().contains("OK    kvm"), r.out());
        assertTrue(r.out().contains("OK    config"), r.out());
        assertTrue(r.out().contains("OK    kvm_caps"), r.out());
        assertTrue(r.out().contains("WARN  image"), r.out());
        assertTrue(r.out().contains("OK    plan"), r.out());
        assertTrue(r.out().matches("(?s).*\\d+ ok, \\d+ warnings?, 0 failed\\s*"), r.out());
        assertEquals(0, r.status(), r.out());
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
        assertTrue(bad.out().contains("OK    kvm"), "the platform is still checked: " + bad.out());
    }

    @Test
    void explainKnowsThePlatformCodes() {
        CliRun r = run("explain", "E607");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("E607: the kernel gave fewer hugepages than asked"), r.out());
        assertTrue(r.out().contains("Exit status: 5"), r.out());
    }
}
