package org.enclaveruntime.platform;

import java.nio.file.Path;

/** Whether isolate = cpuset could be used; without it the primary's tasks may share the enclave's CPUs. */
public record IsolationCheck(Path root) implements DoctorCheck {
    @Override
    public String name() {
        return "isolation";
    }

    @Override
    public CheckResult run() {
        CpusetSupport s = CpusetSupport.detect(root);
        if (s.available()) {
            return CheckResult.ok("isolate = cpuset possible: " + s.reason());
        }
        return CheckResult.warn("isolate = cpuset not available: " + s.reason() + "; with isolate = none the "
                + "primary's tasks may still be scheduled on the enclave's CPUs",
                "Accept isolate = none, or mount a cpuset hierarchy (cgroup v2 with cpuset, or cgroup v1 cpuset).");
    }
}
