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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boots machine-code guests on the real /dev/kvm and checks how each one ends. */
@RequiresKvm
class EnclaveTest {
    private static final long RAM = 16L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    static VmSpec spec(String code, int vcpus) {
        return new VmSpec(vcpus, RAM, TestGuests.elf(code), false, null, 3, List.of(), MemoryBacking.ORDINARY);
    }

    @Test
    void exitCodeSevenIsACleanShutdown() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.EXIT_7, 1))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            assertEquals(new EnclaveExit.CleanShutdown(7), e.awaitExit());
        }
    }

    @Test
    void entryStateFollowsTheAbi() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.ENTRY_STATE, 1))) {
            assertEquals(new EnclaveExit.CleanShutdown(0), e.awaitExit());
            List<Long> v = e.reports().stream().map(HypercallPorts.Report::value).collect(Collectors.toList());
            assertEquals(7, v.size(), v.toString());
            assertEquals(RAM, v.get(0), "rsp at entry is the top of vCPU 0's stack");
            assertEquals(GuestLayout.BOOT_INFO_GPA, v.get(1), "rsi at entry");
            assertEquals(0x45434C56L, v.get(2), "boot_info.magic");
            // This host's nested KVM shows the host's own user selectors (0x33/0x2b) to `mov %cs`, and its
            // RFLAGS after an exit lose IOPL; what holds everywhere is that the guest runs at CPL 3.
            assertEquals(3, v.get(3) & 3, "CPL of cs");
            assertEquals(3, v.get(4) & 3, "RPL of ss");
            assertEquals(RAM, v.get(6), "rsp");
        }
    }

    @Test
    void twoVcpusEachReportTheirIndexThenShutDownOnRequest() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.IDLE, 2))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            Set<Long> reported = e.reports().stream().map(HypercallPorts.Report::value).collect(Collectors.toSet());
            assertEquals(Set.of(0L, 1L), reported);
            e.reports().forEach(r -> assertEquals(r.vcpu(), r.value()));
            assertEquals(new EnclaveExit.Stopped(false), e.shutdown(Duration.ofSeconds(5)));
            e.vcpuThreads().forEach(t -> assertFalse(t.isAlive(), t.getName()));
            assertEquals(List.of("vcpu-0", "vcpu-1"),
                    e.vcpuThreads().stream().map(Thread::getName).collect(Collectors.toList()));
        }
    }

    @Test
    void nullReadIsAPageFaultWithItsAddressAndRegisters() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.NULL_READ, 1))) {
            ReadyResult r = e.awaitReady(TIMEOUT);
            EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class,
                    assertInstanceOf(ReadyResult.Ended.class, r).exit());
            assertEquals("#PF page fault at rip=0x100000, cr2=0x0, error code 0x4 (not present, read, user)",
                    crash.reason());
            assertEquals(0, crash.vcpu());
            assertTrue(crash.registers().startsWith("rip=0x100000 rsp=0x" + Long.toHexString(RAM) + " "),
                    crash.registers());
            assertTrue(crash.registers().contains(" rdi=0x0 "), crash.registers());
        }
    }

    @Test
    void panicCarriesTheEscapedMessage() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.PANIC, 1))) {
            assertEquals(new EnclaveExit.Panicked("boom\\x01\\\\!"), e.awaitExit());
        }
    }

    @Test
    void unclaimedPortAndMmioReadAllOnesAndTheVmmLives() {
        try (Enclave e = VmBuilder.boot(spec(TestGuests.UNCLAIMED, 1))) {
            assertEquals(new EnclaveExit.CleanShutdown(0), e.awaitExit());
            List<Long> values = e.reports().stream().map(HypercallPorts.Report::value).collect(Collectors.toList());
            assertEquals(List.of(0xFFFFFFFFL, 0xFFFFFFFFL), values);
            assertEquals(4, e.unclaimedAccesses());
        }
    }

    @Test
    void spinningGuestIsStoppedByKicking() {
        Enclave e = VmBuilder.boot(spec(TestGuests.SPIN, 2));
        try {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
            // Kicked out of KVM_RUN: without the kick a spinning vCPU would never end, and its thread would
            // still run when shutdown gives up waiting. How fast is for BootBench, not for a test.
            assertEquals(new EnclaveExit.Stopped(true), e.shutdown(Duration.ofMillis(200)));
            e.vcpuThreads().forEach(t -> assertFalse(t.isAlive(), t.getName() + " still runs"));
        } finally {
            e.close();
        }
    }

    @Test
    void consoleGoesToTheLog(@TempDir Path dir) throws Exception {
        // COM1: mov $0x3f8,%edx; mov $'h',%al; out %al,(%dx); mov $'i',%al; out; mov $'\n',%al; out; SHUTDOWN 0
        String code = "baf8030000" + "b068ee" + "b069ee" + "b00aee" + "ba0105000031c0efebfe";
        Path log = dir.resolve("console.log");
        VmSpec s = new VmSpec(1, RAM, TestGuests.elf(code), true, log, 3, List.of(), MemoryBacking.ORDINARY);
        try (Enclave e = VmBuilder.boot(s)) {
            assertEquals(new EnclaveExit.CleanShutdown(0), e.awaitExit());
        }
        assertEquals("hi\n", Files.readString(log));
    }

    @Test
    void pinnedVcpuRunsOnItsCpu() {
        VmSpec s = new VmSpec(1, RAM, TestGuests.elf(TestGuests.EXIT_7), false, null, 3, List.of(1),
                MemoryBacking.ORDINARY);
        try (Enclave e = VmBuilder.boot(s)) {
            assertEquals(new EnclaveExit.CleanShutdown(7), e.awaitExit());
        }
        VmSpec bad = new VmSpec(1, RAM, TestGuests.elf(TestGuests.EXIT_7), false, null, 3, List.of(1000),
                MemoryBacking.ORDINARY);
        try (Enclave e = VmBuilder.boot(bad)) {
            EnclaveExit.Failed f = assertInstanceOf(EnclaveExit.Failed.class, e.awaitExit());
            assertTrue(f.reason().contains("host CPU 1000"), f.reason());
        }
    }

    @Test
    void closeIsIdempotentAndStopsARunningGuest() {
        Enclave e = VmBuilder.boot(spec(TestGuests.SPIN, 1));
        assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT));
        e.close();
        e.close();
        assertEquals(new EnclaveExit.Stopped(true), e.awaitExit());
    }

    @Test
    void onExitRunsOnceAndMayCloseTheEnclave() throws Exception {
        Enclave e = VmBuilder.boot(spec(TestGuests.EXIT_7, 1));
        java.util.concurrent.CompletableFuture<EnclaveExit> seen = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        e.onExit(x -> {
            calls.incrementAndGet();
            e.close();
            seen.complete(x);
        });
        assertEquals(new EnclaveExit.CleanShutdown(7), seen.get(10, java.util.concurrent.TimeUnit.SECONDS));
        e.onExit(x -> calls.incrementAndGet());
        assertEquals(2, calls.get(), "once per listener, the late one at once");
        e.close();
    }
}
