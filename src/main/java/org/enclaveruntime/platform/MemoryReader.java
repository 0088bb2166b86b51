package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads {@link MemoryInfo} from /proc/meminfo and the hugepage pools in sysfs below a root. */
public final class MemoryReader {
    static final String GLOBAL_POOLS = "/sys/kernel/mm/hugepages";

    private MemoryReader() {
    }

    public static MemoryInfo read() {
        return read(Path.of("/"));
    }

    public static MemoryInfo read(Path root) {
        SysfsFiles sys = new SysfsFiles(root);
        String meminfo = sys.read("/proc/meminfo");
        long total = meminfoKb(meminfo, "MemTotal", sys) * 1024;
        long available = meminfoKb(meminfo, "MemAvailable", sys) * 1024;
        List<HugepagePool> pools = new ArrayList<>();
        for (PageSize size : List.of(PageSize.SIZE_1G, PageSize.SIZE_2M)) {
            String dir = globalPoolDir(size);
            if (!sys.exists(dir)) {
                continue;
            }
            pools.add(new HugepagePool(size.bytes(), HugepagePool.GLOBAL,
                    sys.readLong(dir + "/nr_hugepages", PlatformErrors.HUGEPAGE_CONTROL),
                    sys.readLong(dir + "/free_hugepages", PlatformErrors.HUGEPAGE_CONTROL),
                    sys.readLong(dir + "/resv_hugepages", PlatformErrors.HUGEPAGE_CONTROL),
                    sys.readLong(dir + "/surplus_hugepages", PlatformErrors.HUGEPAGE_CONTROL)));
            for (int node : TopologyReader.nodeIds(root)) {
                String nodeDir = nodePoolDir(size, node);
                if (sys.exists(nodeDir + "/nr_hugepages")) {
                    // The kernel keeps no per-node reserve count; reservations are global only.
                    pools.add(new HugepagePool(size.bytes(), node,
                            sys.readLong(nodeDir + "/nr_hugepages", PlatformErrors.HUGEPAGE_CONTROL),
                            sys.readLong(nodeDir + "/free_hugepages", PlatformErrors.HUGEPAGE_CONTROL), 0,
                            sys.readLong(nodeDir + "/surplus_hugepages", PlatformErrors.HUGEPAGE_CONTROL)));
                }
            }
        }
        Map<Integer, Long> nodeFree = new HashMap<>();
        for (int node : TopologyReader.nodeIds(root)) {
            String file = "/sys/devices/system/node/node" + node + "/meminfo";
            if (sys.exists(file)) {
                // Lines read "Node 0 MemFree:   3443880 kB".
                nodeFree.put(node, meminfoKb(sys.read(file).replaceAll("(?m)^Node [0-9]+ ", ""), "MemFree", sys) * 1024);
            }
        }
        return new MemoryInfo(total, available, pools, nodeFree);
    }

    static String globalPoolDir(PageSize size) {
        return GLOBAL_POOLS + "/" + size.sysfsName();
    }

    static String nodePoolDir(PageSize size, int node) {
        return "/sys/devices/system/node/node" + node + "/hugepages/" + size.sysfsName();
    }

    /** The pool directory a grant on {@code node} (-1 = system-wide) changes. */
    static String poolDir(PageSize size, int node) {
        return node == HugepagePool.GLOBAL ? globalPoolDir(size) : nodePoolDir(size, node);
    }

    private static long meminfoKb(String meminfo, String key, SysfsFiles sys) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith(key + ":")) {
                String[] fields = line.substring(key.length() + 1).trim().split("\\s+");
                try {
                    return Long.parseLong(fields[0]);
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, "a meminfo file below " + sys.resolve("/")
                + " has no readable '" + key + ":' line");
    }
}
