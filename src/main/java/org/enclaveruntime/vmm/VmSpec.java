package org.enclaveruntime.vmm;

import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.memory.MemoryBacking;

import java.nio.file.Path;
import java.util.List;

/**
 * What to boot: vCPUs, RAM, the runtime ELF and where its console goes, on which KVM device.
 *
 * @param consoleLog where the serial console is written when debug is on; null (or debug off) discards it
 * @param pinCpus    empty for no pinning; otherwise vCPU i runs on host CPU pinCpus.get(i)
 */
public record VmSpec(int vcpuCount, long memoryBytes, byte[] runtimeElf, boolean debug, Path consoleLog, long cid,
                     List<Integer> pinCpus, MemoryBacking backing, Path kvmDevice) {
    public VmSpec {
        pinCpus = pinCpus == null ? List.of() : List.copyOf(pinCpus);
    }

    /** On /dev/kvm. */
    public VmSpec(int vcpuCount, long memoryBytes, byte[] runtimeElf, boolean debug, Path consoleLog, long cid,
                  List<Integer> pinCpus, MemoryBacking backing) {
        this(vcpuCount, memoryBytes, runtimeElf, debug, consoleLog, cid, pinCpus, backing, Kvm.DEFAULT_DEVICE);
    }
}
