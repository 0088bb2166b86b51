package org.enclaveruntime.kvm;

import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ExitStatus;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real /dev/kvm: capabilities, supported CPUID, a VM with a vCPU; and the error when it is missing. */
class KvmTest {
    @Test
    void aMissingDeviceIsAClearErrorWithARemedy() {
        EnclaveException e = assertThrows(EnclaveException.class, () -> Kvm.open(Path.of("/nonexistent/kvm")));
        assertEquals(KvmErrors.KVM_MISSING, e.code());
        assertEquals(ExitStatus.KVM, e.exitStatus());
        assertTrue(e.getMessage().contains("/nonexistent/kvm"), e.getMessage());
        assertTrue(e.remedy().contains("modprobe kvm_intel"), e.remedy());
    }

    @Test
    @RequiresKvm
    void opensChecksAndCreatesAVcpu() {
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm(); KvmVcpu vcpu = vm.createVcpu(0)) {
            assertTrue(kvm.vcpuMmapSize() >= 4096, "kvm_run size " + kvm.vcpuMmapSize());
            assertTrue(kvm.checkExtension(KvmAbi.KVM_CAP_IMMEDIATE_EXIT) > 0);
            CpuidTable cpuid = kvm.supportedCpuid();
            assertTrue(cpuid.count() > 0);
            boolean leaf0 = false;
            for (int i = 0; i < cpuid.count(); i++) {
                leaf0 |= cpuid.function(i) == 0 && cpuid.eax(i) >= 1;
            }
            assertTrue(leaf0, "leaf 0 with a maximum leaf >= 1");
            vcpu.setCpuid(cpuid.copy());
            KvmRegs regs = new KvmRegs();
            regs.set(KvmAbi.Regs.RIP, 0x1234);
            regs.set(KvmAbi.Regs.RFLAGS, 0x2);
            vcpu.setRegs(regs);
            KvmRegs back = new KvmRegs();
            vcpu.getRegs(back);
            assertEquals(0x1234, back.get(KvmAbi.Regs.RIP), "rip read back");
        }
    }
}
