package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.file.Path;

/**
 * Checks the `isolate` setting before anything is reserved. `none`: the VMM keeps its own threads off the
 * enclave CPUs ({@link CpuAffinity#confineOtherThreads}), the primary's other tasks may still run there.
 * `cpuset`: {@link CpusetIsolation} takes the CPUs from every other task once the vCPU threads run.
 */
public final class Isolation {
    private Isolation() {
    }

    /**
     * Checks that {@code mode} can be carried out here.
     *
     * @throws EnclaveException E611 for cpuset where no cpuset hierarchy is mounted, naming what is missing
     */
    public static void check(IsolationMode mode, Path root) {
        if (mode == IsolationMode.NONE) {
            return;
        }
        CpusetSupport support = CpusetSupport.detect(root);
        if (!support.available()) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset is not supported here: "
                    + support.reason() + "; mount a cpuset hierarchy (cgroup v2 with cpuset, or v1 cpuset), "
                    + "or set isolate = none");
        }
    }
}
