package org.enclaveruntime.vmm;

import org.enclaveruntime.testing.RequiresKvm;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.image.RuntimeElf;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.kvm.KvmAbi;
import org.enclaveruntime.kvm.KvmVcpu;
import org.enclaveruntime.kvm.KvmVm;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;
import org.enclaveruntime.memory.GuestMemory;
import org.enclaveruntime.memory.MemoryBacking;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KVM_IOEVENTFD: NOTIFY writes are absorbed by the kernel and counted in the eventfd, with no exit. */
@RequiresKvm
class IoEventFdTest {
    private static final int WRITES = 1000;

    @Test
    void notifyWritesSignalTheEventFdWithoutExiting() {
        long ram = 16L << 20;
        // mov $0x504,%edx; mov $WRITES,%ecx; 1: out %eax,(%dx); dec %ecx; jnz 1b; mov $0x501,%edx; out %eax,(%dx)
        String code = "ba04050000" + "b9e8030000" + "ef" + "ffc9" + "75fb" + "ba01050000ef" + "ebfe";
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(TestGuests.elf(code)), "test guest")
                .requireFits(ram, GuestLayout.stacksBottom(ram, 1));
        LibC libc = LibC.INSTANCE;
        int efd = libc.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        assertTrue(efd >= 0);
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm();
             GuestMemory memory = GuestMemory.create(ram, MemoryBacking.ORDINARY)) {
            memory.registerWith(vm, 0);
            RuntimeLoader.load(elf, memory);
            GuestLayout.writeGdt(memory);
            GuestLayout.writeTss(memory);
            GuestLayout.writePageTables(memory, ram);
            GuestLayout.writeBootInfo(memory, 1, false, ram, elf.imageEnd(), 3);
            vm.addPortEventFd(0x504, 4, efd);
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                vcpu.setCpuid(kvm.supportedCpuid());
                VmBuilder.setEntryState(vcpu, elf.entry(), ram);
                int notifyExits = 0;
                while (true) {
                    assertTrue(vcpu.run());
                    assertEquals(KvmAbi.KVM_EXIT_IO, vcpu.exitReason(), "exit reason");
                    if (vcpu.ioPort() == 0x501) {
                        break;
                    }
                    notifyExits++;
                }
                assertEquals(0, notifyExits, "NOTIFY writes that reached the VMM");
                Pointer counter = Memory.allocateDirect(Runtime.getSystemRuntime(), 8);
                assertEquals(8, libc.read(efd, counter, 8));
                assertEquals(WRITES, counter.getLong(0));
            }
        } finally {
            libc.close(efd);
        }
    }
}
