package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.LockHolderMain;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `stop` needs only run_dir: it works with a configuration that no longer validates and with a damaged state
 * file. The VMM here is a real second JVM that holds the real lock and records itself RUNNING
 * ({@link LockHolderMain}), so these run on every host; EnclaveLifecycleTest does the same with a real VMM.
 */
class StopRecoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Process vmm;

    @AfterEach
    void noVmmLeft() throws InterruptedException {
        if (vmm != null) {
            vmm.destroyForcibly();
            vmm.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private RunDirectory run() {
        return new RunDirectory(dir.resolve("run"));
    }

    private Path config(String... extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of("[enclave]", "memory = 64M", "cpu_count = 1", "[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]",
                "run_dir = " + run().path(), "log_dir = " + dir.resolve("log"), "hugepages = off"));
        lines.addAll(List.of(extra));
        return Files.write(dir.resolve("enclave.conf"), lines);
    }

    /** A stand-in VMM: holds the lock and has recorded itself RUNNING; returns its pid. */
    private long startFakeVmm() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        vmm = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                LockHolderMain.class.getName(), run().path().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(vmm.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue(line != null && line.startsWith("LOCKED "), String.valueOf(line));
        return Long.parseLong(line.substring("LOCKED ".length()));
    }

    private StateRecord state() {
        return new StateFile(run()).read().orElseThrow();
    }

    @Test
    void stopForceWorksWhenAnotherKeyNoLongerValidates() throws Exception {
        Path conf = config();
        long pid = startFakeVmm();
        // Edited while the enclave runs: a bad value, an unknown key and a line that does not parse.
        Files.write(conf, List.of("[enclave]", "cpu_count = two", "colour = blue", "not a key value line",
                "[runtime]", "run_dir = " + run().path(), "log_dir = " + dir.resolve("log")));
        assertEquals(3, CliRun.of("status", "--config=" + conf).status(), "status still validates the file");

        CliRun stop = CliRun.of("stop", "--force", "--config=" + conf);
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("VMM process " + pid + " killed"), stop.out());
        assertTrue(stop.err().contains("does not validate") && stop.err().contains("run_dir = " + run().path()),
                "the user is told which run_dir was used despite the invalid file: " + stop.err());
        assertTrue(vmm.waitFor(10, TimeUnit.SECONDS));
        assertEquals(EnclaveState.STOPPED, state().state());
        assertTrue(EnclaveLock.holder(run().lockFile()).isEmpty());
    }

    @Test
    void cleanUpAfterACrashWorksWithAnInvalidConfigurationAndTheDefaultRunDirIsNotGuessedForAMissingKey()
            throws Exception {
        Path conf = config();
        startFakeVmm();
        vmm.destroyForcibly(); // the VMM dies without cleaning up: CRASHED
        assertTrue(vmm.waitFor(10, TimeUnit.SECONDS));
        Files.write(conf, List.of("[enclave]", "memory = lots", "[runtime]", "run_dir = " + run().path()));

        CliRun stop = CliRun.of("stop", "--config=" + conf, "--output", "json");
        assertEquals(0, stop.status(), stop.toString());
        JsonNode result = JSON.readTree(stop.out());
        assertTrue(result.path("result").asText().contains("cleaned up after the crashed enclave (E305"), stop.out());
        assertEquals(EnclaveState.STOPPED, state().state());
    }

    @Test
    void anInvalidRunDirIsRefusedRatherThanReplacedByTheDefault() throws Exception {
        Path conf = config();
        long pid = startFakeVmm();
        Files.write(conf, List.of("[runtime]", "run_dir = run/enclave", "log_dir = " + dir.resolve("log")));
        CliRun stop = CliRun.of("stop", "--force", "--config=" + conf);
        assertEquals(3, stop.status(), stop.toString());
        assertTrue(stop.err().contains("E212") && stop.err().contains(conf + ":2: run_dir")
                && stop.err().contains("`stop` needs run_dir"), stop.err());
        assertTrue(vmm.isAlive(), "nothing may be stopped on a guess");

        Files.write(conf, List.of("[runtime]", "run_dir = " + run().path(), "run_dir = /run/enclave"));
        CliRun twice = CliRun.of("stop", "--force", "--config=" + conf);
        assertEquals(3, twice.status(), twice.toString());
        assertTrue(twice.err().contains("E203") && twice.err().contains("given twice"), twice.err());
        assertTrue(vmm.isAlive());
        assertEquals(pid, EnclaveLock.holder(run().lockFile()).orElse(-1));
    }

    /** E304's remedy, followed word for word: `enclavectl stop --force`, then start (here: status) again. */
    @Test
    void theRemedyForADamagedStateFileWorksWhenFollowed() throws Exception {
        Path conf = config();
        long pid = startFakeVmm();
        Files.writeString(run().stateFile(), "{\"state\": \"RUNNING\", \"pid\": ");

        CliRun status = CliRun.of("status", "--config=" + conf);
        assertEquals(StateErrors.STATE_FILE.exitStatus().code(), status.status(), status.toString());
        assertTrue(status.err().contains("E304") && status.err().contains(run().stateFile().toString()), status.err());
        assertTrue(status.err().contains("remedy: Run `enclavectl stop --force`"), status.err());

        CliRun stop = CliRun.of("stop", "--force", "--config=" + conf);
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("VMM process " + pid + " killed") && stop.out().contains("set aside"), stop.out());
        assertTrue(vmm.waitFor(10, TimeUnit.SECONDS), "the VMM found through the lock was killed");
        assertTrue(Files.readString(run().damagedStateFile()).startsWith("{\"state\": \"RUNNING\""),
                "the damaged bytes are kept for whoever wants to look");

        CliRun after = CliRun.of("status", "--config=" + conf, "--output", "json");
        assertEquals(0, after.status(), after.toString());
        JsonNode s = JSON.readTree(after.out());
        assertEquals("STOPPED", s.path("state").asText(), s.toString());
        assertEquals("E304", s.path("last_error").path("code").asText(), s.toString());
        assertEquals(0, CliRun.of("stop", "--config=" + conf).status(), "and stop is quiet again");
    }

    @Test
    void stopWithoutForceStopsTheLockHolderWhenTheStateFileIsDamaged() throws Exception {
        Path conf = config();
        long pid = startFakeVmm();
        Files.write(run().stateFile(), new byte[]{0, 1, 2, 3});
        CliRun stop = CliRun.of("stop", "--grace", "1", "--config=" + conf);
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("VMM process " + pid + " stopped"), stop.out());
        assertFalse(vmm.isAlive());
        assertEquals(EnclaveState.STOPPED, state().state());
        assertEquals("E304", state().lastError().code());
    }

    @Test
    void stopWithNoStateFileAndNoRunDirIsQuiet() throws Exception {
        Path conf = config();
        CliRun stop = CliRun.of("stop", "--config=" + conf);
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("not running"), stop.out());
    }
}
