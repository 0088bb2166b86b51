package org.enclaveruntime.cli;

import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `status` without picocli prints, byte for byte, what picocli's status prints, and leaves it all else. */
class StatusShortcutTest {
    @TempDir
    Path dir;

    @Test
    void takesThePlainFormsOfStatus() {
        for (String[] args : List.of(
                new String[] {"status"},
                new String[] {"status", "--config", "/x.conf"},
                new String[] {"--config", "/x.conf", "status"},
                new String[] {"--config=/x.conf", "-v", "status", "-o", "json"},
                new String[] {"status", "--output", "text", "--verbose"},
                new String[] {"status", "--output=json", "--config=/x.conf"})) {
            assertTrue(StatusShortcut.parse(args).isPresent(), String.join(" ", args));
        }
        StatusShortcut.Request r = StatusShortcut.parse("-v", "status", "--output=json", "--config", "/a b").orElseThrow();
        assertEquals(new StatusShortcut.Request(Path.of("/a b"), true, true), r);
    }

    @Test
    void leavesEverythingElseToPicocli() {
        for (String[] args : List.of(
                new String[] {},
                new String[] {"--config", "/x.conf"},
                new String[] {"status", "--help"},
                new String[] {"status", "-h"},
                new String[] {"status", "-V"},
                new String[] {"status", "status"},
                new String[] {"status", "extra"},
                new String[] {"status", "-v", "-v"},
                new String[] {"status", "--config", "/a", "--config", "/b"},
                new String[] {"status", "--config"},
                new String[] {"status", "--config", "-v"},
                new String[] {"-o", "json", "status"},
                new String[] {"status", "-o", "JSON"},
                new String[] {"status", "-o", "yaml"},
                new String[] {"status", "-o"},
                new String[] {"status", "-ojson"},
                new String[] {"status", "-o", "json", "--output", "text"},
                new String[] {"status", "--"},
                new String[] {"@args", "status"},
                new String[] {"stop"},
                new String[] {"status", "--bogus"})) {
            assertFalse(StatusShortcut.parse(args).isPresent(), String.join(" ", args));
        }
    }

    @Test
    void printsWhatPicocliPrintsWithNoEnclave() throws IOException {
        String config = "--config=" + config(dir);
        for (String[] args : variants(config)) {
            assertSameAsPicocli(args, "STOPPED");
        }
    }

    @Test
    void printsWhatPicocliPrintsForARunningEnclave() throws IOException {
        String config = "--config=" + config(dir);
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        try (EnclaveLock lock = EnclaveLock.acquire(run)) {
            new StateFile(run).write(new StateRecord(EnclaveState.RUNNING, ProcessHandle.current().pid(), 16L,
                    List.of(1), 128L, "4k", "/tmp/image.bin", Map.of("pcr0", "ab".repeat(48)),
                    dir.resolve("vsock.sock").toString(), dir.resolve("console.log").toString(),
                    // started in the future: the uptime reads 0 s in every run, so two runs print the same
                    Instant.now().plusSeconds(3600).toString(), null, List.of()));
            for (String[] args : variants(config)) {
                assertSameAsPicocli(args, "RUNNING");
            }
        }
    }

    @Test
    void aStatusThatFailsIsLeftToPicocliAndPrintsNothingItself() {
        Path missing = dir.resolve("missing.conf");
        CliRun c = CliRun.of(StatusShortcutTest::shortcutOrMinusOne, "status", "--config", missing.toString());
        assertEquals(-1, c.status());
        assertEquals("", c.out());
        assertEquals("", c.err());
        CliRun viaRun = CliRun.of(EnclaveCtl::run, "status", "--config", missing.toString());
        CliRun viaPicocli = CliRun.of(EnclaveCtl::runWithPicocli, "status", "--config", missing.toString());
        assertEquals(viaPicocli, viaRun);
        assertTrue(viaRun.status() != 0 && viaRun.err().contains(missing.toString()), viaRun.toString());
    }

    private static int shortcutOrMinusOne(String... args) {
        return StatusShortcut.run(args).orElse(-1);
    }

    private static List<String[]> variants(String config) {
        List<String[]> all = new ArrayList<>();
        all.add(new String[] {"status", config});
        all.add(new String[] {config, "status", "-o", "json"});
        all.add(new String[] {"-v", "status", "--output=text", config});
        all.add(new String[] {"status", "--output", "json", "--verbose", config});
        return all;
    }

    private static void assertSameAsPicocli(String[] args, String state) {
        CliRun viaPicocli = CliRun.of(EnclaveCtl::runWithPicocli, args);
        CliRun viaShortcut = CliRun.of(StatusShortcutTest::shortcutOrMinusOne, args);
        assertEquals(0, viaShortcut.status(), viaShortcut.toString());
        assertTrue(viaShortcut.out().contains(state), viaShortcut.toString());
        assertEquals(viaPicocli, viaShortcut, String.join(" ", args));
    }

    private static Path config(Path dir) throws IOException {
        return Files.write(dir.resolve("enclave.conf"), List.of("[enclave]", "cpu_count = 1", "memory = 128M",
                "[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log"), "hugepages = off"));
    }
}
