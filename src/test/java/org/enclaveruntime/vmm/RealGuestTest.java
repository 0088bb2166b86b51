package org.enclaveruntime.vmm;

import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The enclave runtime and the test guests of src/guest (built into target/guest) on the real /dev/kvm. */
@RequiresKvm
class RealGuestTest {
    private static final long RAM = 128L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static VmSpec spec(String guest, int vcpus, boolean debug, Path console) {
        byte[] elf = TestGuests.built(guest);
        assertNotNull(elf, "target/guest/" + guest + " is not built (mvn generate-resources builds it)");
        return new VmSpec(vcpus, RAM, elf, debug, console, 3, List.of(), MemoryBacking.ORDINARY);
    }

    private static List<Long> reportsOf(Enclave e, int vcpu) {
        return e.reports().stream().filter(r -> r.vcpu() == vcpu).map(HypercallPorts.Report::value)
                .collect(Collectors.toList());
    }

    @Test
    void demoRuntimeBecomesReadyAndStopsOnRequest() {
        try (Enclave e = VmBuilder.boot(spec("runtime.elf", 1, false, null))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            assertEquals(new EnclaveExit.Stopped(false), e.shutdown(Duration.ofSeconds(5)));
        }
    }

    @Test
    void twoVcpusEachReportTheirIndex() {
        try (Enclave e = VmBuilder.boot(spec("runtime.elf", 2, false, null))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            Set<Long> values = e.reports().stream().map(HypercallPorts.Report::value).collect(Collectors.toSet());
            assertEquals(Set.of(0L, 1L), values);
            e.reports().forEach(r -> assertEquals(r.vcpu(), r.value(), r.toString()));
            assertEquals(new EnclaveExit.Stopped(false), e.shutdown(Duration.ofSeconds(5)));
            e.vcpuThreads().forEach(t -> assertFalse(t.isAlive(), t.getName()));
        }
    }

    @Test
    void debugConsoleGoesToTheLogAndOnlyThen(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("console.log");
        try (Enclave e = VmBuilder.boot(spec("runtime.elf", 1, true, log))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            e.shutdown(Duration.ofSeconds(5));
        }
        assertFalse(Files.readString(log).isBlank(), "the runtime prints a banner in debug mode");
        Path quiet = dir.resolve("quiet.log");
        try (Enclave e = VmBuilder.boot(spec("runtime.elf", 1, false, quiet))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            e.shutdown(Duration.ofSeconds(5));
        }
        assertFalse(Files.exists(quiet), "no console log without debug");
    }

    @Test
    void tripleFaultCrashesWithRegisters() {
        try (Enclave e = VmBuilder.boot(spec("test-triple-fault.elf", 1, false, null))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertEquals("triple fault", c.reason());
            assertEquals(0, c.vcpu());
            assertTrue(c.registers().contains("rip=0x1"), c.registers());
        }
    }

    @Test
    void unclaimedAccessesReadAllOnesAndTheEnclaveGoesOn() {
        try (Enclave e = VmBuilder.boot(spec("test-unclaimed.elf", 1, false, null))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            assertEquals(List.of(0L, 0xFFFFFFFFL, 0xFFFFFFFFL), reportsOf(e, 0));
            assertTrue(e.unclaimedAccesses() >= 4, "unclaimed accesses: " + e.unclaimedAccesses());
            assertEquals(new EnclaveExit.Stopped(false), e.shutdown(Duration.ofSeconds(5)));
        }
    }

    @Test
    void spinningGuestStillStops() {
        try (Enclave e = VmBuilder.boot(spec("test-spin.elf", 2, false, null))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            long start = System.nanoTime();
            assertEquals(new EnclaveExit.Stopped(true), e.shutdown(Duration.ofMillis(200)));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 3000, "shutdown took " + ms + " ms");
            e.vcpuThreads().forEach(t -> assertFalse(t.isAlive(), t.getName() + " still runs"));
        }
    }

    @Test
    void panicCarriesItsMessage() {
        try (Enclave e = VmBuilder.boot(spec("test-panic.elf", 1, false, null))) {
            EnclaveExit.Panicked p = assertInstanceOf(EnclaveExit.Panicked.class, e.awaitExit());
            assertTrue(p.message().contains("test panic: requested by test-panic on vcpu 0"), p.message());
        }
    }

    @Test
    void exitCodeSeven() {
        try (Enclave e = VmBuilder.boot(spec("test-exit.elf", 1, false, null))) {
            assertEquals(new EnclaveExit.CleanShutdown(7), e.awaitExit());
        }
    }
}
