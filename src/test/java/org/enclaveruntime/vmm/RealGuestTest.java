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
    void nullReadIsAPageFaultAtGpaZero() {
        try (Enclave e = VmBuilder.boot(spec("test-null-read.elf", 1, false, null))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertTrue(c.reason().matches("#PF page fault at rip=0x10[0-9a-f]{4}, cr2=0x0, error code 0x4 .*"),
                    c.reason());
            assertEquals(0, c.vcpu());
            assertTrue(c.registers().startsWith("rip=0x10"), c.registers());
        }
    }

    @Test
    void stackOverflowHitsTheGuardOfItsOwnStack() {
        for (int vcpus : new int[] {1, 2}) {
            try (Enclave e = VmBuilder.boot(spec("test-stack-overflow.elf", vcpus, false, null))) {
                EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
                int last = vcpus - 1;
                assertEquals(last, c.vcpu());
                assertTrue(c.reason().startsWith("#PF page fault at rip=0x10"), c.reason());
                assertTrue(c.reason().endsWith("(not present, write, user)"), c.reason());
                long cr2 = Long.parseLong(c.reason().replaceAll(".*cr2=0x([0-9a-f]+),.*", "$1"), 16);
                long guard = GuestLayout.stackGuard(RAM, last);
                assertTrue(cr2 >= guard && cr2 < guard + GuestLayout.STACK_GUARD_SIZE,
                        "cr2 0x" + Long.toHexString(cr2) + " in the guard at 0x" + Long.toHexString(guard));
            }
        }
    }

    @Test
    void dataIsNotExecutable() {
        try (Enclave e = VmBuilder.boot(spec("test-exec-data.elf", 1, false, null))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            long address = reportsOf(e, 0).get(1);
            String at = Long.toHexString(address);
            assertEquals("#PF page fault at rip=0x" + at + ", cr2=0x" + at
                    + ", error code 0x15 (protection, instruction fetch, user)", c.reason());
        }
    }

    @Test
    void rodataIsReadOnly() {
        try (Enclave e = VmBuilder.boot(spec("test-write-rodata.elf", 1, false, null))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            String at = Long.toHexString(reportsOf(e, 0).get(1));
            assertTrue(c.reason().matches("#PF page fault at rip=0x10[0-9a-f]{4}, cr2=0x" + at
                    + ", error code 0x7 \\(protection, write, user\\)"), c.reason());
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
            // Kicked out of KVM_RUN: without the kick a spinning vCPU would never end, and its thread would
            // still run when shutdown gives up waiting. How fast is for BootBench, not for a test.
            assertEquals(new EnclaveExit.Stopped(true), e.shutdown(Duration.ofMillis(200)));
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

    /** SSE2 works in ring 3 on every vCPU (CR4.OSFXSR): sqrtsd of 2.0 gives the double nearest sqrt(2). */
    @Test
    void sseWorksOnEveryVcpu() {
        try (Enclave e = VmBuilder.boot(spec("test-sse.elf", 2, false, null))) {
            assertEquals(new EnclaveExit.CleanShutdown(0), e.awaitExit(), "a #UD on sqrtsd would be a crash");
            long expected = Double.doubleToRawLongBits(Math.sqrt(2.0));
            for (int vcpu = 0; vcpu < 2; vcpu++) {
                List<Long> r = reportsOf(e, vcpu);
                // Then runtime_start REPORTs the vCPU's index.
                assertEquals(List.of(expected & 0xffffffffL, expected >>> 32, (long) vcpu), r, "vCPU " + vcpu
                        + " reports the bits of sqrt(2), then its index (0xdead5e5e first would mean boot info lacks "
                        + "the SSE flag)");
            }
        }
    }
}
