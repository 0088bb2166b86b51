package org.enclaveruntime.platform;

import java.nio.file.Path;

/**
 * Present CPUs that are offline. enclavectl never changes that, so an offline CPU in cpu_ids is a FAIL,
 * any other offline CPU a WARN (capacity the plan cannot use).
 *
 * @param wanted the configured cpu_ids, or null when cpu_count is used
 */
public record OfflineCpusCheck(Path root, CpuList wanted) implements DoctorCheck {
    @Override
    public String name() {
        return "cpus_online";
    }

    @Override
    public CheckResult run() {
        Topology t = TopologyReader.read(root);
        CpuList offline = t.offline();
        if (wanted != null && !wanted.intersect(offline).isEmpty()) {
            CpuList bad = wanted.intersect(offline);
            return CheckResult.fail("cpu_ids = " + wanted.format() + " includes offline CPU" + bad.format(),
                    "Use online CPUs (" + t.onlineCpus().format() + ") in cpu_ids, or bring CPU" + bad.format()
                            + " online: echo 1 > /sys/devices/system/cpu/cpuN/online.");
        }
        if (!offline.isEmpty()) {
            return CheckResult.warn("CPU" + offline.format() + " present but offline; the enclave can use only online "
                    + "CPUs (" + t.onlineCpus().format() + ")",
                    "Bring them online if they should be used: echo 1 > /sys/devices/system/cpu/cpuN/online.");
        }
        return CheckResult.ok("all " + t.present().size() + " present CPUs are online (CPU" + t.present().format() + ")");
    }
}
