package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Module memory (docs/module-runtime.md, section 1) on the real /dev/kvm with src/guest/tests/modmem.c
 * (test-modmem.elf), whose scenario the boot info's cid selects: W^X of mapped pages as the CPU enforces it,
 * UNMAP taking effect after the TLB flush, crash reports naming the module, bad requests answered with their
 * status while the enclave goes on, and the flush gate (`int $0x20`) returning to ring 3.
 */
@RequiresKvm
class ModuleMemoryKvmTest {
    private static final long RAM = 64L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final long DONE = 0x600D;
    private static final String LABEL = "(MRENCLAVE 0102030405060708...)";

    private static VmSpec spec(int scenario, int vcpus) {
        byte[] elf = TestGuests.built("test-modmem.elf");
        assertNotNull(elf, "target/guest/test-modmem.elf is not built (mvn generate-resources builds it)");
        return new VmSpec(vcpus, RAM, elf, false, null, scenario, List.of(), MemoryBacking.ORDINARY);
    }

    /** vCPU 0's REPORTs after its index (the first, from runtime_start). */
    private static List<Long> reports(Enclave e) {
        List<Long> values = e.reports().stream().filter(r -> r.vcpu() == 0).map(HypercallPorts.Report::value)
                .collect(Collectors.toList());
        return values.isEmpty() ? values : values.subList(1, values.size());
    }

    private static long step(int n, long result) {
        return n * 0x100L + result;
    }

    @Test
    void mappedPagesWorkAndBadRequestsGetTheirStatusWhileTheEnclaveGoesOn() {
        List<Long> expected = new ArrayList<>();
        for (int n : new int[] {1, 2}) {
            expected.add(step(n, 1));
        }
        expected.add(step(3, 0)); // MAP R+X
        expected.add(step(4, 1)); // the copied code ran
        expected.add(step(5, 0));
        expected.add(step(6, 1));
        expected.add(step(7, 0)); // MAP from an arena page mapped W
        expected.add(step(8, 1));
        for (int n : new int[] {10, 11, 12, 13}) {
            expected.add(step(n, ModuleMemory.E_OP));
        }
        for (int n = 20; n <= 25; n++) {
            expected.add(step(n, ModuleMemory.E_RANGE));
        }
        for (int n = 30; n <= 37; n++) {
            expected.add(step(n, ModuleMemory.E_SOURCE));
        }
        for (int n = 40; n <= 43; n++) {
            expected.add(step(n, ModuleMemory.E_STATE));
        }
        expected.add(step(50, 1));
        expected.add(step(51, 1)); // a request in .rodata: no status written
        expected.add(step(52, 1)); // a misaligned request: no status written
        expected.add(step(53, ModuleMemory.E_REQUEST));
        expected.add(step(54, 1));
        expected.add(step(60, 1)); // int $0x20 returned
        expected.add(step(61, 0));
        expected.add(step(62, 0));
        expected.add(step(63, 1)); // not reused before this vCPU flushed
        expected.add(step(64, 1)); // reused after every vCPU flushed
        expected.add(step(65, 1));
        expected.add(DONE);
        try (Enclave e = VmBuilder.boot(spec(3, 2))) {
            assertInstanceOf(ReadyResult.Ready.class, e.awaitReady(TIMEOUT), () -> "reports " + hex(reports(e)));
            assertEquals(hex(expected), hex(reports(e)));
            assertEquals(new EnclaveExit.Stopped(false), e.shutdown(Duration.ofSeconds(5)), "the enclave went on");
        }
    }

    @Test
    void writingToAnExecutablePageIsAPageFault() {
        try (Enclave e = VmBuilder.boot(spec(4, 1))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            String page = Long.toHexString(reports(e).get(0));
            assertTrue(c.reason().matches("#PF page fault at rip=0x10[0-9a-f]{4}, cr2=0x" + page
                    + ", error code 0x7 \\(protection, write, user\\)"), c.reason());
        }
    }

    @Test
    void executingAWritablePageIsAPageFaultInTheModule() {
        try (Enclave e = VmBuilder.boot(spec(5, 1))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            String at = Long.toHexString(reports(e).get(0) + 0x1010);
            assertEquals("#PF page fault at rip=0x" + at + ", cr2=0x" + at
                    + ", error code 0x15 (protection, instruction fetch, user) in module 7 " + LABEL
                    + " at module offset 0x1010", c.reason());
        }
    }

    @Test
    void accessAfterUnmapIsAPageFaultNamingTheModuleAndOffset() {
        try (Enclave e = VmBuilder.boot(spec(6, 2))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            List<Long> r = reports(e);
            assertEquals(0x55AAL, r.get(0), "the data page read while mapped");
            long base = r.get(1);
            assertEquals("#PF page fault at rip=0x" + Long.toHexString(base + 0x2a) + ", cr2=0x"
                    + Long.toHexString(base + 0x1000) + ", error code 0x4 (not present, read, user) in module 7 "
                    + LABEL + " at module offset 0x2a", c.reason());
        }
    }

    /**
     * The flush gate from a machine-code guest, independent of the runtime: `int $0x20` returns to ring 3 with
     * rax intact (mov $0x1234,%eax; int $0x20; REPORT %eax; then READY and SHUTDOWN 7).
     */
    @Test
    void theFlushGateReturnsToRingThreeWithRegistersIntact() {
        String code = "b834120000" + "cd20" + "ba05050000ef" + TestGuests.EXIT_7;
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(code, 1))) {
            assertEquals(new EnclaveExit.CleanShutdown(7), e.awaitExit());
            assertEquals(List.of(0x1234L), e.reports().stream().map(HypercallPorts.Report::value)
                    .collect(Collectors.toList()));
        }
    }

    /** A fault after flushes is reported as usual: the flush stack is not the fault stack. */
    @Test
    void aFaultAfterAFlushIsReportedAsUsual() {
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec("cd20" + "cd20" + TestGuests.NULL_READ, 1))) {
            EnclaveExit.Crashed c = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertEquals("#PF page fault at rip=0x100004, cr2=0x0, error code 0x4 (not present, read, user)",
                    c.reason());
        }
    }

    private static List<String> hex(List<Long> values) {
        return values.stream().map(Long::toHexString).collect(Collectors.toList());
    }
}
