package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.List;

/** The doctor checks of this package, in the order doctor prints them. */
public final class PlatformChecks {
    /** What doctor measures memory against when the configuration is invalid (the defaults are then used). */
    public static final long DEFAULT_MEMORY = 512L << 20;
    public static final Path DEFAULT_RUN_DIR = Path.of("/run/enclave");
    public static final Path DEFAULT_LOG_DIR = Path.of("/var/log/enclave");

    private PlatformChecks() {
    }

    /**
     * @param root        "/" in production, a fake tree in tests
     * @param memory      the enclave's memory request
     * @param reserve     reserve_memory
     * @param cpuIds      configured cpu_ids, or null
     */
    public static List<DoctorCheck> all(Path root, Path runDir, Path logDir, long memory, long reserve, CpuList cpuIds) {
        return List.of(
                new KvmDeviceCheck(root.resolve("dev/kvm")),
                new SpareCoresCheck(root),
                new OfflineCpusCheck(root, cpuIds),
                new MemoryCheck(root, memory, reserve),
                new HugepagesCheck(root, memory),
                new IsolationCheck(root),
                new DirectoryCheck("run_dir", runDir),
                new DirectoryCheck("log_dir", logDir));
    }

    public static List<DoctorCheck> defaults(Path root) {
        return all(root, DEFAULT_RUN_DIR, DEFAULT_LOG_DIR, DEFAULT_MEMORY, PartitionRequest.DEFAULT_RESERVE_MEMORY, null);
    }
}
