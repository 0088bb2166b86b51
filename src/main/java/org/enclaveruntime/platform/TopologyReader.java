package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the {@link Topology} from /sys/devices/system/cpu and /sys/devices/system/node below a root. */
public final class TopologyReader {
    private static final String CPU = "/sys/devices/system/cpu";
    private static final String NODE = "/sys/devices/system/node";
    private static final Pattern NODE_DIR = Pattern.compile("node([0-9]+)");

    private TopologyReader() {
    }

    /** This machine. */
    public static Topology read() {
        return read(Path.of("/"));
    }

    public static Topology read(Path root) {
        SysfsFiles sys = new SysfsFiles(root);
        CpuList online = sys.readCpuList(CPU + "/online");
        CpuList present = sys.exists(CPU + "/present") ? sys.readCpuList(CPU + "/present") : online;
        CpuList possible = sys.exists(CPU + "/possible") ? sys.readCpuList(CPU + "/possible") : present;
        Map<Integer, Integer> nodeOf = nodes(sys);
        List<CpuInfo> cpus = new ArrayList<>();
        for (int id : online.cpus()) {
            String topo = CPU + "/cpu" + id + "/topology";
            // core_cpus_list is the newer name (5.x) of thread_siblings_list; both hold the same mask.
            String siblingsFile = sys.exists(topo + "/core_cpus_list") ? topo + "/core_cpus_list"
                    : topo + "/thread_siblings_list";
            CpuList siblings = sys.exists(siblingsFile) ? sys.readCpuList(siblingsFile) : CpuList.of(id);
            if (!siblings.contains(id)) {
                throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, sys.resolve(siblingsFile)
                        + " lists " + siblings.format() + ", which does not contain CPU " + id + " itself");
            }
            int core = sys.exists(topo + "/core_id")
                    ? (int) sys.readLong(topo + "/core_id", PlatformErrors.TOPOLOGY_UNREADABLE) : id;
            int pkg = sys.exists(topo + "/physical_package_id")
                    ? (int) sys.readLong(topo + "/physical_package_id", PlatformErrors.TOPOLOGY_UNREADABLE) : 0;
            cpus.add(new CpuInfo(id, core, pkg, nodeOf.getOrDefault(id, 0), siblings.cpus()));
        }
        if (cpus.isEmpty()) {
            throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, sys.resolve(CPU + "/online") + " lists no CPU");
        }
        return new Topology(cpus, present, possible);
    }

    /** CPU number to NUMA node; empty when the kernel has no node directory (built without NUMA). */
    private static Map<Integer, Integer> nodes(SysfsFiles sys) {
        Map<Integer, Integer> nodeOf = new HashMap<>();
        Path dir = sys.resolve(NODE);
        if (!Files.isDirectory(dir)) {
            return nodeOf;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "node*")) {
            for (Path entry : entries) {
                Matcher m = NODE_DIR.matcher(entry.getFileName().toString());
                if (m.matches() && Files.exists(entry.resolve("cpulist"))) {
                    int node = Integer.parseInt(m.group(1));
                    for (int cpu : sys.readCpuList(NODE + "/node" + node + "/cpulist").cpus()) {
                        nodeOf.put(cpu, node);
                    }
                }
            }
        } catch (IOException e) {
            throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, "cannot list " + dir + ": "
                    + SysfsFiles.reason(e), e);
        }
        return nodeOf;
    }

    /** The NUMA node numbers that have a directory under /sys/devices/system/node. */
    static List<Integer> nodeIds(Path root) {
        List<Integer> ids = new ArrayList<>();
        Path dir = new SysfsFiles(root).resolve(NODE);
        if (!Files.isDirectory(dir)) {
            return ids;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "node*")) {
            for (Path entry : entries) {
                Matcher m = NODE_DIR.matcher(entry.getFileName().toString());
                if (m.matches()) {
                    ids.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, "cannot list " + dir + ": "
                    + SysfsFiles.reason(e), e);
        }
        ids.sort(null);
        return ids;
    }
}
