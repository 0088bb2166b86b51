package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.List;

/** The doctor checks of this package, in the order doctor prints them. */
public final class PlatformChecks {
    private PlatformChecks() {
    }

    /**
     * @param root        "/" in production, a fake tree in tests
     * @param kvmDevice   the KVM device to check (kvm_device; in a fake tree, its dev/kvm)
     * @param memory      the enclave's memory request
     * @param reserve     reserve_memory
     * @param cpuIds      configured cpu_ids, or null
     */
    public static List<DoctorCheck> all(Path root, Path kvmDevice, Path runDir, Path logDir, long memory, long reserve,
                                        CpuList cpuIds) {
        return List.of(
                new KvmDeviceCheck(kvmDevice),
                new SpareCoresCheck(root),
                new OfflineCpusCheck(root, cpuIds),
                new MemoryCheck(root, memory, reserve),
                new HugepagesCheck(root, memory),
                new IsolationCheck(root),
                new DirectoryCheck("run_dir", runDir),
                new DirectoryCheck("log_dir", logDir));
    }
}
