package org.enclaveruntime.platform;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether `isolate = cpuset` can work here: it needs the unified (v2) cgroup hierarchy with the cpuset
 * controller at its root. On a hybrid system (systemd's default before v248 and on many cloud images)
 * cpuset belongs to the v1 hierarchy and cannot be used from v2.
 *
 * @param available    true when a cgroup2 mount offers cpuset
 * @param cgroup2Mount where cgroup v2 is mounted, or null
 * @param reason       why not, or what was found
 */
public record CpusetSupport(boolean available, String cgroup2Mount, String reason) {

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
            } else if (f[2].equals("cgroup") && List.of(f[3].split(",")).contains("cpuset")) {
                v1Cpuset = f[1];
            }
        }
        if (v2 == null) {
            return new CpusetSupport(false, null, "no cgroup v2 hierarchy is mounted (no cgroup2 line in /proc/self/mounts)"
                    + (v1Cpuset == null ? "" : "; cpuset is on the v1 hierarchy at " + v1Cpuset));
        }
        String controllersFile = v2 + "/cgroup.controllers";
        List<String> controllers = new ArrayList<>();
        if (sys.exists(controllersFile)) {
            controllers.addAll(List.of(sys.read(controllersFile).split("\\s+")));
        }
        if (!controllers.contains("cpuset")) {
            return new CpusetSupport(false, v2, "cgroup v2 at " + v2 + " offers the controllers '"
                    + String.join(" ", controllers).strip() + "' but not cpuset"
                    + (v1Cpuset == null ? "" : ", because cpuset is attached to the v1 hierarchy at " + v1Cpuset
                    + " (hybrid cgroup mode)"));
        }
        return new CpusetSupport(true, v2, "cgroup v2 at " + v2 + " offers cpuset");
    }
}
