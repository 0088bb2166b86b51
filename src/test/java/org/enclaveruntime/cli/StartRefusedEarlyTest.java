package org.enclaveruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.enclaveruntime.errors.ExitStatus;
import org.enclaveruntime.image.ImageBuilder;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Refuse early, reserve late: a KVM device that is not there is found before a hugepage is reserved or a
 * VMM spawned, and `start --dry-run` reports it with the plan. Runs on every host by pointing kvm_device at a
 * path that does not exist; the configuration asks for hugepages, so a late refusal would show in the pool.
 */
class StartRefusedEarlyTest {
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path image;

    @BeforeEach
    void buildImage() {
        image = dir.resolve("runtime.bin");
        new ImageBuilder().runtime(GUESTS.resolve("runtime.elf")).name("runtime").version("test").writeTo(image);
    }

    private Path config(Path kvmDevice, String... extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of("[enclave]", "image = " + image, "memory = 64M",
                "cpu_count = 1", "share_cpus = true"));
        lines.addAll(List.of(extra));
        lines.addAll(List.of("[vsock]", "socket = " + dir.resolve("vsock.sock"), "[runtime]", "run_dir = " + dir.resolve("run"), "log_dir = " + dir.resolve("log"),
                "hugepages = 2M", "kvm_device = " + kvmDevice));
        return Files.write(dir.resolve("enclave.conf"), lines);
    }

    private static long nrHugepages() throws IOException {
        // Not Files.readString: it reads a /proc/sys file one byte first and gets only the first digit.
        try (var in = Files.newInputStream(Path.of("/proc/sys/vm/nr_hugepages"))) {
            return Long.parseLong(new String(in.readNBytes(64)).trim());
        }
    }

    /** Every process that runs this test's configuration (a VMM, whatever its class path). */
    private Set<Long> processesWith(Path conf) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(conf.toString())).orElse(false))
                .map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    @Test
    void startWithoutTheKvmDeviceFailsBeforeReservingOrSpawningAnything() throws Exception {
        Path missing = dir.resolve("no-kvm");
        Path conf = config(missing);
        long pagesBefore = nrHugepages();
        for (String[] mode : List.of(new String[]{"start"}, new String[]{"start", "--foreground"})) {
            List<String> args = new ArrayList<>(List.of(mode));
            args.add("--config=" + conf);
            CliRun start = CliRun.of(args.toArray(String[]::new));
            assertEquals(ExitStatus.KVM.code(), start.status(), start.toString());
            assertTrue(start.err().contains("error E400: " + missing + " does not exist"), start.err());
            assertFalse(start.err().contains("reserving hugepages"), start.err());

            assertEquals(pagesBefore, nrHugepages(), "the hugepage pool is untouched");
            assertEquals(Set.of(), processesWith(conf), "no VMM was spawned");
            RunDirectory run = new RunDirectory(dir.resolve("run"));
            assertTrue(EnclaveLock.holder(run.lockFile()).isEmpty(), "no lock is held");
            StateRecord state = new StateFile(run).read().orElseThrow();
            assertEquals(EnclaveState.STOPPED, state.state());
            assertEquals("E400", state.lastError().code(), "status says why: " + state);
            assertFalse(Files.exists(run.controlSocket()));
        }
        CliRun status = CliRun.of("status", "--config=" + conf, "--output", "json");
        assertEquals("E400", JSON.readTree(status.out()).path("last_error").path("code").asText(), status.toString());
    }

    @Test
    void dryRunPrintsThePlanAndEveryCheckAndExitsWithTheFirstFailure() throws Exception {
        Path conf = config(dir.resolve("no-kvm"));
        byte[] bytes = Files.readAllBytes(image);
        bytes[bytes.length - 100] ^= 1; // and the image is damaged too: KVM comes first, as in start
        Files.write(image, bytes);
        long pagesBefore = nrHugepages();

        CliRun text = CliRun.of("start", "--dry-run", "--config=" + conf);
        assertEquals(ExitStatus.KVM.code(), text.status(), text.toString());
        assertTrue(text.out().contains("cpu_ids") && text.out().contains("memory_mib     64"), "the plan: " + text.out());
        assertTrue(text.out().contains("FAIL  kvm        E400"), text.out());
        assertTrue(text.out().contains("FAIL  image      E507"), text.out());
        assertTrue(text.out().contains("ok    lock"), text.out());
        assertTrue(text.out().contains("start would fail (E400, exit status 6)"), text.out());
        assertTrue(text.err().contains("error E400") && text.err().contains("remedy:"), text.err());

        CliRun json = CliRun.of("start", "--dry-run", "--output", "json", "--config=" + conf);
        assertEquals(ExitStatus.KVM.code(), json.status(), json.toString());
        JsonNode report = JSON.readTree(json.out()); // one document: the error is on stderr only
        assertEquals(64, report.path("plan").path("memory_mib").asLong(), json.out());
        assertFalse(report.path("would_start").asBoolean(true));
        JsonNode kvm = check(report, "kvm");
        assertFalse(kvm.path("passed").asBoolean(true));
        assertEquals("E400", kvm.path("error").path("code").asText());
        assertEquals(6, kvm.path("error").path("exit_status").asInt());
        assertEquals("E507", check(report, "image").path("error").path("code").asText(), json.out());

        assertEquals(pagesBefore, nrHugepages());
        assertFalse(Files.exists(dir.resolve("run/state.json")), "a dry run records nothing");
    }

    @Test
    void dryRunWhosePlanCannotBeMadeStillReportsTheOtherChecks() throws Exception {
        Path conf = config(dir.resolve("no-kvm"), "reserve_memory = 1024G");
        CliRun json = CliRun.of("start", "--dry-run", "--output", "json", "--config=" + conf);
        assertEquals(ExitStatus.KVM.code(), json.status(), json.toString());
        JsonNode report = JSON.readTree(json.out());
        assertTrue(report.path("plan").isNull(), json.out());
        assertFalse(check(report, "plan").path("passed").asBoolean(true), json.out());
        assertTrue(check(report, "image").path("passed").asBoolean(), json.out());
    }

    @Test
    @RequiresKvm
    void dryRunOnAHostWithKvmPassesAndADamagedImageFailsAsStartWould() throws Exception {
        Path conf = config(Path.of(System.getProperty("enclave.kvm.device", "/dev/kvm")));
        CliRun ok = CliRun.of("start", "--dry-run", "--output", "json", "--config=" + conf);
        assertEquals(0, ok.status(), ok.toString());
        JsonNode report = JSON.readTree(ok.out());
        assertTrue(report.path("would_start").asBoolean(), ok.out());
        assertNotNull(check(report, "kvm").path("detail").asText(null));

        byte[] bytes = Files.readAllBytes(image);
        bytes[bytes.length - 100] ^= 1;
        Files.write(image, bytes);
        CliRun damaged = CliRun.of("start", "--dry-run", "--config=" + conf);
        assertEquals(ExitStatus.IMAGE.code(), damaged.status(), damaged.toString());
        assertTrue(damaged.out().contains("ok    kvm") && damaged.out().contains("FAIL  image      E507"), damaged.out());
    }

    private static JsonNode check(JsonNode report, String name) {
        for (JsonNode c : report.path("checks")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + report);
    }
}
