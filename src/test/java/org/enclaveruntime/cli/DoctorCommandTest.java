package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void thisMachinePasses() {
        CliRun r = run("doctor", "--run-dir", dir.resolve("run").toString(), "--log-dir", dir.toString());
        assertTrue(r.out().contains("OK    kvm"), r.out());
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
        CliRun r = run("doctor", "--root", root.toString(), "--run-dir", dir.toString(), "--log-dir", dir.toString(),
                "--output", "json");
        assertEquals(5, r.status(), r.out());
        JsonNode findings = new ObjectMapper().readTree(r.out());
        assertEquals("kvm", findings.get(0).get("check").asText());
        assertEquals("FAIL", findings.get(0).get("status").asText());
        assertTrue(findings.get(0).get("remedy").asText().contains("modprobe"));
        JsonNode cores = findings.get(1);
        assertEquals("cores", cores.get("check").asText());
        assertEquals("FAIL", cores.get("status").asText(), cores.toString());
    }

    @Test
    void explainKnowsThePlatformCodes() {
        CliRun r = run("explain", "E607");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("E607: the kernel gave fewer hugepages than asked"), r.out());
        assertTrue(r.out().contains("Exit status: 5"), r.out());
    }
}
