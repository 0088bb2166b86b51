package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.List;

/**
 * Whether and where `isolate = cpuset` can work: the unified (v2) hierarchy when it offers the cpuset
 * controller, else the legacy (v1) cpuset hierarchy. A hybrid system (systemd's default before v248 and on
 * many cloud images, like the development machine) mounts cgroup2 without cpuset at /sys/fs/cgroup/unified
 * and cpuset on v1 at /sys/fs/cgroup/cpuset: v1 is used there.
 *
 * @param version where cpuset is, or null when it is nowhere
 * @param mount   the mount point of that hierarchy, e.g. /sys/fs/cgroup or /sys/fs/cgroup/cpuset; null if none
 * @param reason  what was found, or why cpuset cannot be used
 */
public record CpusetSupport(CgroupVersion version, String mount, String reason) {

    public boolean available() {
        return version != null;
    }

    public static CpusetSupport detect() {
        return detect(Path.of("/"));
    }

    public static CpusetSupport detect(Path root) {
        SysfsFiles sys = new SysfsFiles(root);
        String mounts = sys.exists("/proc/self/mounts") ? sys.read("/proc/self/mounts") : "";
        String v2 = null;
        String v1Cpuset = null;
        for (String line : mounts.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 4) {
                continue;
            }
            if (f[2].equals("cgroup2") && v2 == null) {
                v2 = f[1];
            } else if (f[2].equals("cgroup") && List.of(f[3].split(",")).contains("cpuset") && v1Cpuset == null) {
                v1Cpuset = f[1];
            }
        }
        List<String> v2Controllers = List.of();
        if (v2 != null && sys.exists(v2 + "/cgroup.controllers")) {
            v2Controllers = List.of(sys.read(v2 + "/cgroup.controllers").split("\\s+"));
        }
        if (v2 != null && v2Controllers.contains("cpuset")) {
            return new CpusetSupport(CgroupVersion.V2, v2, "cgroup v2 at " + v2 + " offers cpuset");
        }
        if (v1Cpuset != null) {
            return new CpusetSupport(CgroupVersion.V1, v1Cpuset, "cpuset is on the v1 hierarchy at " + v1Cpuset
                    + (v2 == null ? "" : " (hybrid cgroup mode: cgroup v2 at " + v2 + " offers '"
                    + String.join(" ", v2Controllers).strip() + "')"));
        }
        if (v2 == null) {
            return new CpusetSupport(null, null, "no cgroup hierarchy offers cpuset (no cgroup2 mount and no "
                    + "cgroup mount with the cpuset option in /proc/self/mounts)");
        }
        return new CpusetSupport(null, null, "cgroup v2 at " + v2 + " offers the controllers '"
                + String.join(" ", v2Controllers).strip() + "' but not cpuset, and no v1 hierarchy has cpuset");
    }
}
