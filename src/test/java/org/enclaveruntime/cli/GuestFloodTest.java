package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.image.ImageBuilder;
import org.enclaveruntime.service.ControlClient;
import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.vmm.VmBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest that does its worst to the VMM's log for 10 s (test-flood.elf: every port in and out, the
 * unclaimed MMIO page, REPORT, NOTIFY, bad STATUS values, and console output without end, in debug mode),
 * started through the CLI as an operator would: the log directory grows by at most 1 MiB and the VMM stays
 * healthy throughout.
 */
@RequiresKvm
class GuestFloodTest {
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final long FLOOD_SECONDS = 10;
    private static final long MAX_GROWTH = 1L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path config;

    @AfterEach
    void leaveNothingRunning() {
        if (config != null) {
            cli("stop", "--force");
        }
    }

    private CliRun cli(String... args) {
        String[] all = Stream.concat(Stream.of(args), Stream.of("--config=" + config)).toArray(String[]::new);
        return CliRun.of(all);
    }

    private static long sizeOf(Path tree) throws IOException {
        try (Stream<Path> files = Files.walk(tree)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** The end of every file in the log directory, for a failure message. */
    private static String tails(Path logDir) {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> files = Files.list(logDir)) {
            for (Path f : files.sorted().toList()) {
                String text = Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1);
                b.append("=== ").append(f.getFileName()).append(" (").append(text.length()).append(" bytes)\n")
                        .append(text.substring(Math.max(0, text.length() - 3000))).append('\n');
            }
        } catch (IOException e) {
            b.append(e);
        }
        return b.toString();
    }

    @Test
    void aFloodingGuestCannotFillTheLogDirectoryNorHurtTheVmm() throws Exception {
        Path image = dir.resolve("flood.bin");
        new ImageBuilder().runtime(GUESTS.resolve("test-flood.elf")).name("flood").version("test").writeTo(image);
        Path logDir = dir.resolve("log");
        Path runDir = dir.resolve("run");
        config = Files.write(dir.resolve("enclave.conf"), List.of("[enclave]", "image = " + image, "cid = 21",
                "boot_timeout = 120s", "memory = 64M", "cpu_count = 1",
                "[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]", "run_dir = " + runDir, "log_dir = " + logDir, "hugepages = off"));

        CliRun start = cli("start", "--debug");
        assertEquals(0, start.status(), () -> start + "\n--- log_dir\n" + tails(logDir));
        long before = sizeOf(logDir);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(FLOOD_SECONDS);
        int checks = 0;
        // At least FLOOD_SECONDS and at least three checks: on a slow host (the nested harness) one `status`
        // takes seconds, and the flood then simply lasts longer rather than the test depending on speed.
        while (System.nanoTime() < end || checks < 3) {
            Thread.sleep(1000);
            CliRun status = cli("status", "--output", "json");
            assertEquals(0, status.status(), status.toString());
            JsonNode s = JSON.readTree(status.out());
            assertEquals("RUNNING", s.path("state").asText(), s.toString());
            assertEquals("", new ControlClient(runDir.resolve("control.sock")).ping(), "the control socket answers");
            checks++;
        }
        long growth = sizeOf(logDir) - before;
        String log = Files.readString(logDir.resolve("enclavectl.log"));
        System.out.printf("flood: log directory grew by %d bytes in %d s (%d bytes before); console.log %d bytes%n",
                growth, FLOOD_SECONDS, before, Files.size(logDir.resolve("console.log")));
        assertTrue(growth <= MAX_GROWTH, "the log directory grew by " + growth + " bytes in " + FLOOD_SECONDS + " s");
        assertTrue(log.contains("more guest messages suppressed"), "the flood reached the rate limiter");
        assertTrue(Files.size(logDir.resolve("console.log")) <= VmBuilder.CONSOLE_LOG_CAP + 8192,
                "console.log is capped");

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("shut down cleanly"), stop.out());
    }
}
