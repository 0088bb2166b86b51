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
            GuestLayout.writeSystemArea(memory, 1, false, ram, elf, 3);
            vm.addPortEventFd(0x504, 4, efd);
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                vcpu.setCpuid(kvm.supportedCpuid());
                VmBuilder.setEntryState(vcpu, 1, elf.entry(), ram);
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
    /** The same for virtio-mmio's QueueNotify: 32-bit writes to a device-window address go to the eventfd. */
    @Test
    void mmioWritesSignalTheEventFdWithoutExiting() {
        long ram = 16L << 20;
        long notify = GuestLayout.deviceWindow(ram) + 0x50;
        // movabs $notify,%rdx; mov $WRITES,%ecx; 1: mov %eax,(%rdx); dec %ecx; jnz 1b;
        // mov $0x501,%edx; out %eax,(%dx)
        String code = "48ba" + le64(notify) + "b9e8030000" + "8902" + "ffc9" + "75fa" + "ba01050000ef" + "ebfe";
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(TestGuests.elf(code)), "test guest")
                .requireFits(ram, GuestLayout.stacksBottom(ram, 1));
        LibC libc = LibC.INSTANCE;
        int efd = libc.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        assertTrue(efd >= 0);
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm();
             GuestMemory memory = GuestMemory.create(ram, MemoryBacking.ORDINARY)) {
            memory.registerWith(vm, 0);
            RuntimeLoader.load(elf, memory);
            GuestLayout.writeSystemArea(memory, 1, false, ram, elf, 3);
            vm.addMmioEventFd(notify, 4, efd);
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                vcpu.setCpuid(kvm.supportedCpuid());
                VmBuilder.setEntryState(vcpu, 1, elf.entry(), ram);
                int mmioExits = 0;
                while (true) {
                    assertTrue(vcpu.run());
                    if (vcpu.exitReason() == KvmAbi.KVM_EXIT_IO && vcpu.ioPort() == 0x501) {
                        break;
                    }
                    assertEquals(KvmAbi.KVM_EXIT_MMIO, vcpu.exitReason(), "exit reason");
                    mmioExits++;
                }
                assertEquals(0, mmioExits, "QueueNotify writes that reached the VMM");
                Pointer counter = Memory.allocateDirect(Runtime.getSystemRuntime(), 8);
                assertEquals(8, libc.read(efd, counter, 8));
                assertEquals(WRITES, counter.getLong(0));
            }
        } finally {
            libc.close(efd);
        }
    }

    private static String le64(long value) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            hex.append(String.format("%02x", (value >>> (8 * i)) & 0xff));
        }
        return hex.toString();
    }
}
