package org.enclaveruntime.vmm;

import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.kvm.KvmAbi;
import org.enclaveruntime.kvm.KvmVcpu;
import org.enclaveruntime.kvm.KvmVm;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults of machine-code guests on the real /dev/kvm: each is reported by the fault stub with its name,
 * rip, cr2 and error code, whatever the KVM flavour, and the next enclave in the same JVM boots as usual.
 * Together they check the protections of docs/guest-abi.md: supervisor-only VMM structures, read-only boot
 * info, W^X image, NX RAM, guard pages.
 */
@RequiresKvm
class GuestFaultTest {
    private static final long RAM = 16L << 20;
    private static final long CODE = TestGuests.LOAD_GPA;

    static Stream<Arguments> faults() {
        long guardTop = GuestLayout.stackGuard(RAM, 0) + GuestLayout.STACK_GUARD_SIZE;
        return Stream.of(
                Arguments.of("NULL_READ", TestGuests.NULL_READ, pageFault(CODE, 0, "0x4 (not present, read, user)")),
                Arguments.of("WRITE_PAGE_TABLES", TestGuests.WRITE_PAGE_TABLES,
                        pageFault(CODE, GuestLayout.PAGE_TABLES_GPA, "0x7 (protection, write, user)")),
                Arguments.of("READ_IDT", TestGuests.READ_IDT,
                        pageFault(CODE, GuestLayout.IDT_GPA, "0x5 (protection, read, user)")),
                Arguments.of("WRITE_IO_BITMAP", TestGuests.WRITE_IO_BITMAP,
                        pageFault(CODE, GuestLayout.IO_BITMAP_GPA, "0x7 (protection, write, user)")),
                Arguments.of("WRITE_BOOT_INFO", TestGuests.WRITE_BOOT_INFO,
                        pageFault(CODE, GuestLayout.BOOT_INFO_GPA, "0x7 (protection, write, user)")),
                Arguments.of("WRITE_OWN_CODE", TestGuests.WRITE_OWN_CODE,
                        pageFault(CODE, CODE, "0x7 (protection, write, user)")),
                Arguments.of("EXECUTE_DATA", TestGuests.EXECUTE_DATA,
                        pageFault(0x200000, 0x200000, "0x15 (protection, instruction fetch, user)")),
                Arguments.of("STACK_OVERFLOW", TestGuests.STACK_OVERFLOW,
                        pageFault(CODE, guardTop - 8, "0x6 (not present, write, user)")),
                Arguments.of("INVALID_OPCODE", TestGuests.INVALID_OPCODE,
                        "#UD invalid opcode at rip=0x100000, cr2=0x0, error code 0x0"),
                Arguments.of("HLT", TestGuests.HLT,
                        "#GP general protection at rip=0x100000, cr2=0x0, error code 0x0"));
    }

    private static String pageFault(long rip, long cr2, String errorCode) {
        return "#PF page fault at rip=0x" + Long.toHexString(rip) + ", cr2=0x" + Long.toHexString(cr2)
                + ", error code " + errorCode;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void faultIsReportedByNameAndTheVmmGoesOn(String name, String code, String reason) {
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(code, 1))) {
            EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertEquals(reason, crash.reason());
            assertEquals(0, crash.vcpu());
            long rip = Long.parseLong(reason.replaceAll(".* at rip=0x([0-9a-f]+),.*", "$1"), 16);
            assertTrue(crash.registers().startsWith("rip=0x" + Long.toHexString(rip) + " "), crash.registers());
        }
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(TestGuests.EXIT_7, 1))) {
            assertEquals(new EnclaveExit.CleanShutdown(7), e.awaitExit(), "the next enclave after " + name);
        }
    }

    /**
     * A ring-3 `int $8` must not reach the stub as if it were a double fault: every gate has DPL 0, so it is
     * a #GP. Only the name is checked: on the nested SVM harness the report says rip=0x100002 (after the
     * instruction) and error code 0x82 where the SDM says 0x100000 and 0x42.
     */
    @Test
    void softwareInterruptsFromRingThreeAreGeneralProtectionFaults() {
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(TestGuests.INT_8, 1))) {
            EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertTrue(crash.reason().startsWith("#GP general protection at rip=0x10000"), crash.reason());
        }
    }

    @Test
    void eachVcpuReportsItsOwnFault() {
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(TestGuests.SECOND_VCPU_FAULTS, 2))) {
            EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertEquals(1, crash.vcpu());
            assertEquals(pageFault(CODE + 6, 0, "0x4 (not present, read, user)"), crash.reason());
        }
    }

    @Test
    void aFaultReportWrittenByTheGuestItselfIsNotBelieved() {
        try (Enclave e = VmBuilder.boot(EnclaveTest.spec(TestGuests.FORGED_FAULT, 1))) {
            EnclaveExit.Crashed crash = assertInstanceOf(EnclaveExit.Crashed.class, e.awaitExit());
            assertEquals("the guest wrote 0xe to the FAULT port outside the fault stub", crash.reason());
        }
    }

    /**
     * The last resort: with vCPU 0's fault stack pointing at a page that is not present, the #PF cannot be
     * delivered, the #DF that follows has no gate, and KVM reports a shutdown (triple fault).
     */
    @Test
    void aFaultTheStubCannotTakeIsATripleFault() {
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(TestGuests.elf(TestGuests.NULL_READ)), "test guest")
                .requireFits(RAM, GuestLayout.stacksBottom(RAM, 1));
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm();
             GuestMemory memory = GuestMemory.create(RAM, MemoryBacking.ORDINARY)) {
            memory.registerWith(vm, 0);
            RuntimeLoader.load(elf, memory);
            GuestLayout.writeSystemArea(memory, 1, false, RAM, elf, 3);
            memory.writeU64(GuestLayout.tss(0) + 0x24, 0x6000); // IST1 -> a page that is not present
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                vcpu.setCpuid(kvm.supportedCpuid());
                VmBuilder.setEntryState(vcpu, 1, elf.entry(), RAM);
                assertTrue(vcpu.run());
                assertEquals(KvmAbi.KVM_EXIT_SHUTDOWN, vcpu.exitReason(), "exit reason");
            }
        }
    }
}
