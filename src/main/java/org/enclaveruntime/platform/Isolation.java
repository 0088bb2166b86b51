package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.file.Path;

/**
 * Applies the `isolate` setting. Only `none` is carried out in this version: the VMM keeps its own
 * threads off the enclave CPUs ({@link CpuAffinity#confineOtherThreads}), the primary's other tasks may
 * still be scheduled there. `cpuset` is detected and refused with the reason; docs/platform.md describes
 * the design (a cgroup v2 cpuset partition) for when it can be built and tested on a v2 machine.
 */
public final class Isolation {
    private Isolation() {
    }

    /**
     * Checks that {@code mode} can be carried out here, before anything is reserved.
     *
     * @throws EnclaveException E611 for cpuset, naming what this machine lacks
     */
    public static void check(IsolationMode mode, Path root) {
        if (mode == IsolationMode.NONE) {
            return;
        }
        CpusetSupport support = CpusetSupport.detect(root);
        if (!support.available()) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset is not supported here: "
                    + support.reason() + "; set isolate = none, or boot with systemd.unified_cgroup_hierarchy=1");
        }
        throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset is not implemented in "
                + "this version of enclavectl, although this machine could support it (" + support.reason()
                + "); set isolate = none");
    }
}
