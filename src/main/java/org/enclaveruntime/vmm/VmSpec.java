package org.enclaveruntime.vmm;

import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.memory.MemoryBacking;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What to boot: vCPUs, RAM, the runtime ELF and where its console goes, on which KVM device, and the vsock
 * device's host socket.
 *
 * @param consoleLog  where the serial console is written when debug is on; null (or debug off) discards it
 * @param pinCpus     empty for no pinning; otherwise vCPU i runs on host CPU pinCpus.get(i)
 * @param vsockSocket the Unix socket of the hybrid-vsock bridge; null for a VM without a vsock device
 * @param vsockGroup  the group to own that socket; empty for the process's own
 */
public record VmSpec(int vcpuCount, long memoryBytes, byte[] runtimeElf, boolean debug, Path consoleLog, long cid,
                     List<Integer> pinCpus, MemoryBacking backing, Path kvmDevice, Path vsockSocket,
                     Optional<String> vsockGroup) {
    public VmSpec {
        pinCpus = pinCpus == null ? List.of() : List.copyOf(pinCpus);
        vsockGroup = vsockGroup == null ? Optional.empty() : vsockGroup;
    }

    /** Without a vsock device. */
    public VmSpec(int vcpuCount, long memoryBytes, byte[] runtimeElf, boolean debug, Path consoleLog, long cid,
                  List<Integer> pinCpus, MemoryBacking backing, Path kvmDevice) {
        this(vcpuCount, memoryBytes, runtimeElf, debug, consoleLog, cid, pinCpus, backing, kvmDevice, null,
                Optional.empty());
    }

    /** On /dev/kvm, without a vsock device. */
    public VmSpec(int vcpuCount, long memoryBytes, byte[] runtimeElf, boolean debug, Path consoleLog, long cid,
                  List<Integer> pinCpus, MemoryBacking backing) {
        this(vcpuCount, memoryBytes, runtimeElf, debug, consoleLog, cid, pinCpus, backing, Kvm.DEFAULT_DEVICE);
    }

    /** The same VM with a vsock device whose bridge listens on {@code socket}. */
    public VmSpec withVsock(Path socket) {
        return new VmSpec(vcpuCount, memoryBytes, runtimeElf, debug, consoleLog, cid, pinCpus, backing, kvmDevice,
                socket, vsockGroup);
    }
}
