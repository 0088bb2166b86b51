package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.List;

/** Whole cores left for the enclave after the primary keeps the core holding CPU0. */
public record SpareCoresCheck(Path root) implements DoctorCheck {
    @Override
    public String name() {
        return "cores";
    }

    @Override
    public CheckResult run() {
        Topology t = TopologyReader.read(root);
        Core primary = t.primaryCore();
        List<Core> spare = t.cores().stream().filter(c -> !c.equals(primary)).toList();
        CpuList cpus = spare.stream().map(Core::cpus).reduce(CpuList.empty(), CpuList::union);
        String have = "this instance has " + t.describe() + "; the primary keeps " + primary.describe();
        if (spare.isEmpty()) {
            return CheckResult.fail(have + ", so no whole core is left for the enclave",
                    "Use an instance with at least 2 cores; for development only, share_cpus = true "
                            + "runs the enclave on shared CPUs (no isolation).");
        }
        return CheckResult.ok(have + "; " + spare.size() + (spare.size() == 1 ? " core" : " cores")
                + " (CPU" + cpus.format() + ", cpu_count up to " + cpus.size() + ") can go to the enclave");
    }
}
