package org.enclaveruntime.cli;

import org.enclaveruntime.testing.RequiresKvm;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.image.EnclaveImage;
import org.enclaveruntime.image.ImageBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The enclave's life through the CLI, as an operator drives it: real /dev/kvm, real guests from src/guest,
 * a real VMM process, real hugepages where it matters. Every test leaves no VMM and no hugepage behind.
 */
@RequiresKvm
class EnclaveLifecycleTest {
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path config;
    private long hugepagesBefore;
    /** What the pool grows by for a 64M enclave: 32 pages, less the free ones it takes first. */
    private long added;

    @BeforeEach
    void needKvm() throws IOException {
        hugepagesBefore = nrHugepages();
        added = Math.max(0, 32 - freeHugepages());
    }

    @AfterEach
    void leaveNothingBehind() throws IOException {
        if (config != null) {
            CliRun.of("stop", "--force", "--config", config.toString());
            assertEquals("STOPPED", status().path("state").asText());
        }
        assertEquals(hugepagesBefore, nrHugepages(), "hugepages were not given back");
    }

    private Path configure(String guest, String... extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of("[enclave]",
                "image = " + image(guest), "cid = 21"));
        List<String> runtime = new ArrayList<>(List.of("[runtime]", "run_dir = " + dir.resolve("run"),
                "log_dir = " + dir.resolve("log")));
        for (String e : extra) {
            (e.startsWith("hugepages") ? runtime : lines).add(e);
        }
        if (runtime.stream().noneMatch(l -> l.startsWith("hugepages"))) {
            runtime.add("hugepages = off");
        }
        if (lines.stream().noneMatch(l -> l.startsWith("boot_timeout"))) {
            lines.add("boot_timeout = 20s");
        }
        if (lines.stream().noneMatch(l -> l.startsWith("memory"))) {
            lines.add("memory = 64M");
        }
        if (lines.stream().noneMatch(l -> l.startsWith("cpu_count"))) {
            lines.add("cpu_count = 1");
        }
        lines.addAll(runtime);
        config = Files.write(dir.resolve("enclave.conf"), lines);
        return config;
    }

    /** An image.bin wrapping one of the guests built from src/guest (a missing guest gives a missing image). */
    private Path image(String guest) {
        Path image = dir.resolve(guest.replace(".elf", ".bin"));
        Path elf = GUESTS.resolve(guest);
        if (Files.exists(elf) && !Files.exists(image)) {
            new ImageBuilder().runtime(elf).name(guest).version("test").writeTo(image);
        }
        return image.toAbsolutePath();
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

    private JsonNode awaitState(String state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode s = status();
        while (!s.path("state").asText().equals(state) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = status();
        }
        assertEquals(state, s.path("state").asText(), s.toString());
        return s;
    }

    private static long freeHugepages() throws IOException {
        try (var in = Files.newInputStream(Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"))) {
            return Long.parseLong(new String(in.readNBytes(64)).trim());
        }
    }

    private static long nrHugepages() throws IOException {
        // Not Files.readString: it reads a /proc/sys file one byte first and gets only the first digit.
        try (var in = Files.newInputStream(Path.of("/proc/sys/vm/nr_hugepages"))) {
            return Long.parseLong(new String(in.readNBytes(64)).trim());
        }
    }

    private String console() throws IOException {
        return Files.readString(dir.resolve("log/console.log"));
    }

    @Test
    void statusShowsTheMeasurementsOfWhatBooted() throws Exception {
        configure("runtime.elf");
        assertEquals(0, cli("start").status());
        JsonNode s = status();
        String pcr0 = EnclaveImage.load(image("runtime.elf")).measurements().asHex().get("pcr0");
        assertEquals(96, pcr0.length());
        assertEquals(pcr0, s.path("measurements").path("pcr0").asText(), s.toString());
    }

    @Test
    void demoRuntimeStartsOnHugepagesAndStopsClean() throws Exception {
        configure("runtime.elf", "memory = 64M", "debug = true", "hugepages = 2M");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        JsonNode started = JSON.readTree(start.out());
        assertEquals("RUNNING", started.path("state").asText());
        assertEquals("2M", started.path("page_size").asText());
        assertEquals(64, started.path("memory_mib").asLong());
        assertEquals(1, started.path("cpu_ids").get(0).asInt(), "the enclave must not get CPU0's core");
        assertEquals(hugepagesBefore + added, nrHugepages(), "64M in 2M pages reserved for the enclave");
        long pid = started.path("pid").asLong();
        assertTrue(ProcessHandle.of(pid).isPresent());
        assertTrue(console().contains("vcpu 0 online"), console());

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("shut down cleanly"), stop.out());
        assertEquals("STOPPED", status().path("state").asText());
        assertEquals(hugepagesBefore, nrHugepages());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "VMM still alive");
        assertEquals(0, cli("stop").status(), "stopping a stopped enclave is not an error");
    }

    @Test
    void restartReplacesTheVmmAndTheConsoleIsKeptOnlyInDebugMode() throws Exception {
        configure("runtime.elf");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        long first = JSON.readTree(start.out()).path("pid").asLong();
        CliRun noConsole = cli("console");
        assertEquals(1, noConsole.status(), noConsole.toString());
        assertTrue(noConsole.err().contains("E456") && noConsole.err().contains("without debug"), noConsole.err());

        CliRun restart = cli("restart", "--debug", "--output", "json");
        assertEquals(0, restart.status(), restart.toString());
        long second = JSON.readTree(restart.out()).path("pid").asLong();
        assertTrue(second != first, "restart must run a new VMM");
        assertFalse(ProcessHandle.of(first).map(ProcessHandle::isAlive).orElse(false), "old VMM still alive");
        CliRun console = cli("console");
        assertEquals(0, console.status(), console.toString());
        assertTrue(console.out().contains("vcpu 0 online"), console.out());
    }

    /** What systemd does: run the VMM in the foreground, stop it with SIGTERM. */
    @Test
    void foregroundVmmStopsCleanlyOnSigterm() throws Exception {
        configure("runtime.elf", "hugepages = 2M");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process vmm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EnclaveCtl.class.getName(), "start", "--foreground", "--config=" + config)
                .redirectError(dir.resolve("fg.err").toFile()).start();
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(vmm.getInputStream()))) {
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("enclave started: pid " + vmm.pid()),
                    line + " / " + Files.readString(dir.resolve("fg.err")));
            assertEquals("RUNNING", status().path("state").asText());
            assertEquals(hugepagesBefore + added, nrHugepages());
            vmm.destroy(); // SIGTERM
            assertTrue(vmm.waitFor(30, TimeUnit.SECONDS));
        } finally {
            vmm.destroyForcibly();
        }
        assertEquals("STOPPED", status().path("state").asText());
        assertEquals(hugepagesBefore, nrHugepages());
    }

    /**
     * A stop while the enclave is still booting undoes the start: nothing stays reserved, no error recorded.
     * The guest holds its boot (never READY, boot_timeout longer than the test), so the stop always comes
     * during the boot, after the VM was built, however fast or slow the host: the test waits for what the
     * guest says, not for a time.
     */
    @Test
    void stopDuringBootUndoesTheStart() throws Exception {
        configure("test-never-ready.elf", "hugepages = 2M", "debug = true", "boot_timeout = 10m");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process start = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EnclaveCtl.class.getName(), "start", "--config=" + config)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("start.err").toFile()).start();
        Path console = dir.resolve("log/console.log");
        long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(5); // only bounds a hang; boot_timeout is longer
        while (!(Files.exists(console) && Files.readString(console).contains("boot held"))) {
            assertTrue(start.isAlive(), "start ended before the boot was held: " + Files.readString(dir.resolve("start.err")));
            assertTrue(System.nanoTime() < bound, "the guest never said it holds the boot");
            Thread.sleep(20);
        }
        // The VM is built and runs on hugepages (added to the pool, or free ones taken): the stop has all to undo.
        JsonNode booting = status();
        assertEquals("STARTING", booting.path("state").asText(), booting.toString());

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("stopped before it was ready"), stop.out());
        assertTrue(start.waitFor(5, TimeUnit.MINUTES), "start still running (this bounds a hang only)");
        assertEquals(8, start.exitValue(), Files.readString(dir.resolve("start.err")));
        assertTrue(Files.readString(dir.resolve("start.err")).contains("stop was requested"),
                Files.readString(dir.resolve("start.err")));
        JsonNode s = status();
        assertEquals("STOPPED", s.path("state").asText(), s.toString());
        assertTrue(s.path("last_error").isNull(), "a requested stop is not an error: " + s);
        assertEquals(hugepagesBefore, nrHugepages());
    }

    /**
     * A guest that never becomes ready: start fails with E451 after boot_timeout, names where each vCPU was and
     * shows the console's last lines, and leaves nothing behind. The guest prints "boot held" right after boot
     * (milliseconds even in the nested harness), far inside the 20 s the test gives it.
     */
    @Test
    void bootTimeoutSaysWhereTheVcpusWereAndWhatTheConsoleSaid() throws Exception {
        configure("test-never-ready.elf", "hugepages = 2M", "debug = true", "boot_timeout = 20s");
        CliRun start = cli("start");
        assertEquals(org.enclaveruntime.service.LifecycleErrors.BOOT_TIMEOUT.exitStatus().code(), start.status(), start.toString());
        assertTrue(start.err().contains("E451"), start.err());
        assertTrue(start.err().contains("vCPU 0: rip=0x"), "registers of the boot vCPU: " + start.err());
        assertTrue(start.err().contains("| boot held"), "the console's last lines: " + start.err());
        JsonNode s = status();
        assertEquals("STOPPED", s.path("state").asText(), s.toString());
        assertTrue(s.path("last_error").toString().contains("E451"), s.toString());
        assertEquals(hugepagesBefore, nrHugepages());
    }

    /** `stop` needs only run_dir: a key edited to nonsense while the enclave runs does not keep it from stopping. */
    @Test
    void stopWorksWhenTheConfigurationNoLongerValidates() throws Exception {
        configure("runtime.elf", "hugepages = 2M");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        long pid = JSON.readTree(start.out()).path("pid").asLong();
        List<String> broken = new ArrayList<>(Files.readAllLines(config));
        broken.replaceAll(l -> l.startsWith("memory") ? "memory = lots" : l);
        broken.add(1, "this line is not a key = value line]");
        Files.write(config, broken);

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("shut down cleanly"), stop.out());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "VMM still alive");
        assertEquals(hugepagesBefore, nrHugepages());
        configure("runtime.elf"); // for the check after each test, which reads the configuration strictly
    }

    /** A damaged state file while a real VMM runs: stop asks that VMM (found by the lock) to stop. */
    @Test
    void stopWorksWithADamagedStateFile() throws Exception {
        configure("runtime.elf", "hugepages = 2M");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        long pid = JSON.readTree(start.out()).path("pid").asLong();
        Files.writeString(dir.resolve("run/state.json"), "{\"state\":");

        CliRun stop = cli("stop");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("VMM process " + pid + " stopped"), stop.out());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "VMM still alive");
        assertEquals(hugepagesBefore, nrHugepages(), "the VMM gave back its own pages, whatever the file said");
        assertEquals("STOPPED", status().path("state").asText());
    }

    /**
     * E304's remedy, followed word for word with a real VMM: `enclavectl stop --force`, then `enclavectl start`.
     * (4K pages: what a killed VMM reserved is recorded only in the file that is damaged, so hugepages would
     * stay reserved, as the message says.)
     */
    @Test
    void theRemedyForADamagedStateFileWorksWhenFollowed() throws Exception {
        configure("runtime.elf");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        long pid = JSON.readTree(start.out()).path("pid").asLong();
        Files.write(dir.resolve("run/state.json"), new byte[]{(byte) 0xff, 0, '{'});

        CliRun status = cli("status");
        assertEquals(1, status.status(), status.toString());
        assertTrue(status.err().contains("E304"), status.err());
        assertTrue(status.err().contains("remedy: Run `enclavectl stop --force`") && status.err().contains(
                "then `enclavectl start` again"), "the remedy this test follows: " + status.err());
        CliRun refused = cli("start");
        assertEquals(4, refused.status(), "the VMM still runs: " + refused);

        CliRun stop = cli("stop", "--force");
        assertEquals(0, stop.status(), stop.toString());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "VMM still alive");
        CliRun again = cli("start");
        assertEquals(0, again.status(), again.toString());
        assertEquals("RUNNING", status().path("state").asText());
    }

    /**
     * Guest RAM in 4K pages that cannot be locked fails the start with E412, and nothing stays: the VMM runs
     * without CAP_IPC_LOCK (setpriv) and with a 1 MiB RLIMIT_MEMLOCK (prlimit), both inherited from `start`.
     */
    @Test
    void guestRamThatCannotBeLockedFailsTheStartAndLeavesNothingBehind() throws Exception {
        configure("runtime.elf");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process start = new ProcessBuilder("setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock",
                "prlimit", "--memlock=1048576:1048576",
                java, "-cp", System.getProperty("java.class.path"), EnclaveCtl.class.getName(), "start",
                "--config=" + config)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("start.err").toFile()).start();
        assertTrue(start.waitFor(10, TimeUnit.MINUTES), "only bounds a hang: two JVMs start here");
        String err = Files.readString(dir.resolve("start.err"));
        assertEquals(5, start.exitValue(), err);
        assertTrue(err.contains("error E412: cannot lock the 64 MiB of guest RAM") && err.contains("LimitMEMLOCK"), err);
        JsonNode s = status();
        assertEquals("STOPPED", s.path("state").asText(), s.toString());
        assertEquals("E412", s.path("last_error").path("code").asText(), s.toString());
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().arguments()
                .map(a -> String.join(" ", a).contains(config.toString())).orElse(false)), "a VMM was left");
    }

    /** A crash ends a foreground VMM with status 8, so that systemd's Restart=on-failure sees a failure. */
    @Test
    void foregroundVmmExitsEightWhenTheEnclaveCrashes() throws Exception {
        configure("test-panic.elf");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process vmm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EnclaveCtl.class.getName(), "start", "--foreground", "--config=" + config)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(vmm.waitFor(30, TimeUnit.SECONDS));
        assertEquals(8, vmm.exitValue());
        JsonNode s = status();
        assertEquals("CRASHED", s.path("state").asText(), s.toString());
        assertTrue(s.path("last_error").path("message").asText().contains("test panic"), s.toString());
    }

    @Test
    void twoVcpusEachComeOnline() throws Exception {
        configure("runtime.elf", "cpu_count = 2", "share_cpus = true", "debug = true");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        assertEquals(2, JSON.readTree(start.out()).path("cpu_ids").size());
        String console = console();
        assertTrue(console.contains("vcpu 0 online") && console.contains("vcpu 1 online"), console);
        assertTrue(console.contains("2 vCPUs"), console);
    }

    @Test
    void pageFaultIsReportedAsCrashWithItsNameAddressAndCr2() throws Exception {
        configure("test-null-read.elf");
        CliRun start = cli("start");
        // The guest faults right after READY: start either saw READY first or the crash first.
        assertTrue(start.status() == 0 || start.status() == 8, start.toString());
        JsonNode s = start.status() == 0 ? awaitState("CRASHED") : status();
        String error = s.path("last_error").path("message").asText();
        assertTrue(error.matches(".*crashed: #PF page fault at rip=0x10[0-9a-f]{4}, cr2=0x0, .* on vCPU 0.*"),
                s.toString());
        assertTrue(Files.readString(dir.resolve("log/enclavectl.log")).contains("rip="), "registers logged");
        CliRun again = cli("start", "--image", image("runtime.elf").toString());
        assertEquals(0, again.status(), again.toString());
    }

    @Test
    void guestThatSpinsForeverIsStoppedAnyway() throws Exception {
        configure("test-spin.elf");
        assertEquals(0, cli("start").status());
        long t0 = System.nanoTime();
        CliRun stop = cli("stop", "--grace", "1");
        assertEquals(0, stop.status(), stop.toString());
        assertTrue(stop.out().contains("vCPUs were stopped"), stop.out());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(15), "stop must be bounded");
        assertEquals("STOPPED", status().path("state").asText());
    }

    @Test
    void killedVmmIsCrashedAndTheNextStartWorks() throws Exception {
        configure("runtime.elf", "hugepages = 2M");
        CliRun start = cli("start", "--output", "json");
        assertEquals(0, start.status(), start.toString());
        ProcessHandle vmm = ProcessHandle.of(JSON.readTree(start.out()).path("pid").asLong()).orElseThrow();
        vmm.destroyForcibly();
        vmm.onExit().get(10, TimeUnit.SECONDS);
        JsonNode crashed = status();
        assertEquals("CRASHED", crashed.path("state").asText(), crashed.toString());
        assertEquals("E305", crashed.path("last_error").path("code").asText());
        assertEquals(hugepagesBefore + added, nrHugepages(), "a dead VMM cannot give its hugepages back itself");

        CliRun again = cli("start");
        assertEquals(0, again.status(), again.toString());
        assertEquals(hugepagesBefore + added, nrHugepages(), "the leftovers were given back, then reserved anew");
        assertEquals("RUNNING", status().path("state").asText());
    }

    @Test
    void ofTwoConcurrentStartsExactlyOneSucceeds() throws Exception {
        configure("runtime.elf");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> starts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            starts.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    EnclaveCtl.class.getName(), "start", "--config=" + config)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(dir.resolve("start-" + i + ".err").toFile()).start());
        }
        List<Integer> codes = new ArrayList<>();
        for (Process p : starts) {
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "a start still running (this bounds a hang only)");
            codes.add(p.exitValue());
        }
        codes.sort(null);
        assertEquals(List.of(0, 4), codes, "one starts, the other is refused as already running");
        String refused = Files.readString(dir.resolve("start-0.err")) + Files.readString(dir.resolve("start-1.err"));
        assertTrue(refused.contains("E301"), refused);
        assertEquals("RUNNING", status().path("state").asText());
    }

    @Test
    void badInputsLeaveNothingBehind() throws Exception {
        configure("runtime.elf", "memory = 3M");
        CliRun bad = cli("start");
        assertEquals(3, bad.status(), bad.toString());
        assertTrue(bad.err().contains("memory: '3M'"), bad.err());

        configure("no-such-guest.elf");
        CliRun missing = cli("start");
        assertEquals(7, missing.status(), missing.toString());
        assertTrue(missing.err().contains("no-such-guest.bin"), missing.err());

        configure("test-exit.elf", "require_signed = true", "trusted_cert = " + dir.resolve("ca.pem"));
        CliRun unsigned = cli("start");
        assertEquals(7, unsigned.status(), unsigned.toString());

        configure("runtime.elf", "cpu_count = 2");
        CliRun tooMany = cli("start");
        assertEquals(5, tooMany.status(), tooMany.toString());
        assertTrue(tooMany.err().contains("E601"), tooMany.err());

        configure("runtime.elf");
        Path damaged = image("runtime.elf");
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length - 100] ^= 1;
        Files.write(damaged, bytes);
        CliRun tampered = cli("start");
        assertEquals(7, tampered.status(), tampered.toString());
        assertTrue(tampered.err().contains("E507"), tampered.err());

        JsonNode s = status();
        assertEquals("STOPPED", s.path("state").asText(), s.toString());
        assertFalse(Files.exists(dir.resolve("run/control.sock")));
    }
}
