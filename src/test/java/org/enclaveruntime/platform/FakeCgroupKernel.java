package org.enclaveruntime.platform;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A cpuset hierarchy as the kernel keeps it, in memory, for the cases this machine cannot show: v2 with
 * systemd's cgroups, v1 with other cpusets, kernel threads that refuse to move. It holds what
 * {@link CpusetIsolation} relies on, with the kernel's errno texts: moving a thread into a cgroup,
 * creating and removing cgroups (busy while they hold threads), v1's rules for cpuset.cpus (within the
 * parent's, children within it, exclusive siblings apart), v2's partitions (exclusive among siblings, their
 * CPUs removed from the parent's effective CPUs). {@link #allowed} is what Cpus_allowed_list would say.
 */
final class FakeCgroupKernel implements CgroupFs {
    private final CgroupVersion version;
    private final String mount;
    private final CpuList online;
    /** Cgroup path (kernel path) to its writable files. */
    private final Map<String, Map<String, String>> groups = new TreeMap<>();
    private final Map<Integer, String> threadGroup = new TreeMap<>();
    private final Map<Integer, Integer> processOf = new HashMap<>();
    private final Set<Integer> kernelThreads = new HashSet<>();
    /** Threads pinned with sched_setaffinity; like kernels before 6.2, moving a thread forgets its pinning. */
    private final Map<Integer, CpuList> pins = new TreeMap<>();

    FakeCgroupKernel(CgroupVersion version, String mount, CpuList online) {
        this.version = version;
        this.mount = mount;
        this.online = online;
        Map<String, String> top = new TreeMap<>();
        if (version == CgroupVersion.V1) {
            top.put("cpuset.cpus", online.format());
            top.put("cpuset.mems", "0");
            top.put("cpuset.cpu_exclusive", "1");
        } else {
            top.put("cgroup.subtree_control", "");
        }
        groups.put(mount, top);
    }

    CpusetSupport support() {
        return new CpusetSupport(version, mount, "fake " + version + " at " + mount);
    }

    // ---- setting the scene ---------------------------------------------------------------------------------

    FakeCgroupKernel group(String relative, String cpus) {
        String dir = mount + relative;
        Map<String, String> files = newGroup();
        files.put("cpuset.cpus", cpus);
        groups.put(dir, files);
        return this;
    }

    FakeCgroupKernel subtreeControl(String relative, String value) {
        groups.get(relative.equals("/") ? mount : mount + relative).put("cgroup.subtree_control", value);
        return this;
    }

    FakeCgroupKernel process(int pid, String relative, int... tids) {
        String dir = relative.equals("/") ? mount : mount + relative;
        processOf.put(pid, pid);
        threadGroup.put(pid, dir);
        for (int tid : tids) {
            processOf.put(tid, pid);
            threadGroup.put(tid, dir);
        }
        return this;
    }

    FakeCgroupKernel pin(int tid, String cpus) {
        pins.put(tid, CpuList.parse(cpus));
        return this;
    }

    FakeCgroupKernel kernelThread(int tid) {
        processOf.put(tid, tid);
        threadGroup.put(tid, mount);
        kernelThreads.add(tid);
        return this;
    }

    Set<Integer> threads() {
        return threadGroup.keySet();
    }

    boolean isKernelThread(int tid) {
        return kernelThreads.contains(tid);
    }

    /** Every cgroup, its files and its threads: equal before and after means everything was given back. */
    String snapshot() {
        StringBuilder s = new StringBuilder();
        for (var g : groups.entrySet()) {
            s.append(g.getKey()).append(' ').append(g.getValue()).append(" threads=")
                    .append(members(g.getKey())).append('\n');
        }
        return s.append("pinned ").append(pins).toString();
    }

    /** The CPUs thread {@code tid} may run on: its cgroup's effective CPUs. */
    CpuList allowed(int tid) {
        return effective(threadGroup.get(tid));
    }

    // ---- the kernel's view -----------------------------------------------------------------------------------

    private Map<String, String> newGroup() {
        Map<String, String> files = new TreeMap<>();
        files.put("cpuset.cpus", "");
        if (version == CgroupVersion.V1) {
            files.put("cpuset.mems", "");
            files.put("cpuset.cpu_exclusive", "0");
        } else {
            files.put("cgroup.type", "domain");
            files.put("cpuset.cpus.partition", "member");
            files.put("cgroup.subtree_control", "");
        }
        return files;
    }

    private CpuList effective(String dir) {
        if (version == CgroupVersion.V1) {
            return dir.equals(mount) ? online : parse(groups.get(dir).get("cpuset.cpus"));
        }
        CpuList base;
        if (dir.equals(mount)) {
            base = online;
        } else if (isPartition(dir)) {
            base = parse(groups.get(dir).get("cpuset.cpus"));
        } else {
            CpuList parent = effective(parent(dir));
            CpuList own = parse(groups.get(dir).getOrDefault("cpuset.cpus", ""));
            base = own.isEmpty() || !cpusetEnabledFor(dir) ? parent : own.intersect(parent);
        }
        for (String child : children(dir, true)) {
            if (isPartition(child)) {
                base = base.minus(parse(groups.get(child).get("cpuset.cpus")));
            }
        }
        return base;
    }

    private boolean cpusetEnabledFor(String dir) {
        return List.of(groups.get(parent(dir)).getOrDefault("cgroup.subtree_control", "").split(" ")).contains("cpuset");
    }

    private boolean isPartition(String dir) {
        String p = groups.get(dir).getOrDefault("cpuset.cpus.partition", "member");
        return p.equals("root") || p.equals("isolated");
    }

    private static String parent(String dir) {
        return dir.substring(0, dir.lastIndexOf('/'));
    }

    private List<String> children(String dir, boolean direct) {
        List<String> found = new ArrayList<>();
        for (String g : groups.keySet()) {
            if (g.startsWith(dir + "/") && (!direct || g.indexOf('/', dir.length() + 1) < 0)) {
                found.add(g);
            }
        }
        return found;
    }

    private List<Integer> members(String dir) {
        return threadGroup.entrySet().stream().filter(e -> e.getValue().equals(dir)).map(Map.Entry::getKey)
                .collect(Collectors.toList());
    }

    private static CpuList parse(String text) {
        return text == null || text.isBlank() ? CpuList.empty() : CpuList.parse(text.strip());
    }

    // ---- CgroupFs --------------------------------------------------------------------------------------------

    @Override
    public boolean exists(String path) {
        if (path.startsWith("/proc/")) {
            return threadGroup.containsKey(Integer.parseInt(path.split("/")[2]));
        }
        if (groups.containsKey(path)) {
            return true;
        }
        int slash = path.lastIndexOf('/');
        return groups.containsKey(path.substring(0, slash)) && fileNames(path.substring(0, slash))
                .contains(path.substring(slash + 1));
    }

    private Set<String> fileNames(String dir) {
        Set<String> names = new HashSet<>(groups.get(dir).keySet());
        if (version == CgroupVersion.V1) {
            names.addAll(List.of("tasks", "cgroup.procs", "cpuset.effective_cpus", "cpuset.effective_mems"));
        } else {
            names.addAll(List.of("cgroup.threads", "cgroup.procs", "cpuset.cpus.effective"));
        }
        if (version == CgroupVersion.V2 && dir.equals(mount)) {
            names.remove("cpuset.cpus");
        }
        return names;
    }

    @Override
    public String read(String file) throws IOException {
        int slash = file.lastIndexOf('/');
        String dir = file.substring(0, slash);
        String name = file.substring(slash + 1);
        if (!exists(file)) {
            throw new NoSuchFileException(file);
        }
        return switch (name) {
            case "tasks", "cgroup.threads" -> join(members(dir));
            case "cgroup.procs" -> join(members(dir).stream().map(processOf::get).distinct().toList());
            case "cpuset.effective_cpus", "cpuset.cpus.effective" -> effective(dir).format();
            case "cpuset.effective_mems" -> dir.equals(mount) ? "0" : groups.get(dir).get("cpuset.mems");
            default -> groups.get(dir).get(name);
        };
    }

    private static String join(List<Integer> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining("\n"));
    }

    @Override
    public void write(String file, String value) throws IOException {
        int slash = file.lastIndexOf('/');
        String dir = file.substring(0, slash);
        String name = file.substring(slash + 1);
        if (!exists(file)) {
            throw new NoSuchFileException(file);
        }
        String v = value.strip();
        switch (name) {
            case "tasks", "cgroup.threads" -> moveThread(Integer.parseInt(v), dir);
            case "cgroup.procs" -> {
                int pid = Integer.parseInt(v);
                for (var e : processOf.entrySet()) {
                    if (e.getValue() == pid) {
                        moveThread(e.getKey(), dir);
                    }
                }
            }
            case "cpuset.cpus" -> writeCpus(dir, parse(v));
            case "cpuset.cpu_exclusive" -> {
                for (String sibling : children(parent(dir), true)) {
                    if (!sibling.equals(dir) && !parse(groups.get(sibling).get("cpuset.cpus"))
                            .intersect(parse(groups.get(dir).get("cpuset.cpus"))).isEmpty()) {
                        throw new IOException(file + ": Invalid argument");
                    }
                }
                groups.get(dir).put(name, v);
            }
            case "cgroup.subtree_control" -> {
                List<String> on = new ArrayList<>(List.of(groups.get(dir).get(name).split(" ")));
                on.remove("");
                String controller = v.substring(1);
                if (v.startsWith("+") && !on.contains(controller)) {
                    on.add(controller);
                } else if (v.startsWith("-")) {
                    for (String child : children(dir, true)) {
                        if (groups.get(child).getOrDefault(name, "").contains(controller)) {
                            throw new IOException(file + ": Device or resource busy");
                        }
                    }
                    on.remove(controller);
                }
                groups.get(dir).put(name, String.join(" ", on));
            }
            case "cpuset.cpus.partition" -> writePartition(dir, v);
            default -> groups.get(dir).put(name, v);
        }
    }

    private void moveThread(int tid, String dir) throws IOException {
        if (!threadGroup.containsKey(tid)) {
            throw new IOException(dir + ": No such process");
        }
        if (kernelThreads.contains(tid)) {
            throw new IOException(dir + ": Invalid argument");
        }
        if (version == CgroupVersion.V1 && (effective(dir).isEmpty() || groups.get(dir).getOrDefault("cpuset.mems",
                "0").isEmpty())) {
            throw new IOException(dir + ": No space left on device");
        }
        threadGroup.put(tid, dir);
        pins.remove(tid);
    }

    private void writeCpus(String dir, CpuList cpus) throws IOException {
        if (version == CgroupVersion.V1) {
            if (dir.equals(mount) || !effective(parent(dir)).containsAll(cpus)) {
                throw new IOException(dir + ": Permission denied");
            }
            for (String child : children(dir, true)) {
                if (!cpus.containsAll(parse(groups.get(child).get("cpuset.cpus")))) {
                    throw new IOException(dir + ": Device or resource busy");
                }
            }
            if (cpus.isEmpty() && !members(dir).isEmpty()) {
                throw new IOException(dir + ": No space left on device");
            }
        }
        groups.get(dir).put("cpuset.cpus", cpus.format());
    }

    private void writePartition(String dir, String kind) throws IOException {
        if (!List.of("member", "root", "isolated").contains(kind)) {
            throw new IOException(dir + ": Invalid argument");
        }
        if (!kind.equals("member")) {
            CpuList cpus = parse(groups.get(dir).get("cpuset.cpus"));
            for (String sibling : children(parent(dir), true)) {
                if (!sibling.equals(dir) && !parse(groups.get(sibling).get("cpuset.cpus")).intersect(cpus).isEmpty()) {
                    groups.get(dir).put("cpuset.cpus.partition", kind + " invalid (Cpu list in cpuset.cpus not exclusive)");
                    return;
                }
            }
        }
        groups.get(dir).put("cpuset.cpus.partition", kind);
        pins.clear(); // the kernel sets every task of the cpusets involved to their new CPUs
    }

    @Override
    public void mkdir(String dir) throws IOException {
        if (groups.containsKey(dir)) {
            throw new FileAlreadyExistsException(dir);
        }
        if (!groups.containsKey(parent(dir))) {
            throw new NoSuchFileException(dir);
        }
        groups.put(dir, newGroup());
    }

    @Override
    public void rmdir(String dir) throws IOException {
        if (!groups.containsKey(dir)) {
            throw new NoSuchFileException(dir);
        }
        if (!members(dir).isEmpty() || !children(dir, true).isEmpty()) {
            throw new IOException(dir + ": Device or resource busy");
        }
        groups.remove(dir);
    }

    @Override
    public List<String> children(String dir) {
        return children(dir, true);
    }

    @Override
    public String cgroupOf(int tid, CgroupVersion v) {
        String dir = threadGroup.get(tid);
        if (dir == null) {
            return null;
        }
        return dir.equals(mount) ? "/" : dir.substring(mount.length());
    }

    @Override
    public String describe(String path) {
        return path;
    }

    /** A thread ends (the dead VMM's threads after a crash). */
    void exit(int tid) {
        threadGroup.remove(tid);
        processOf.remove(tid);
        pins.remove(tid);
    }

    /** Start times are the thread id times 10 here: what matters is that a reused id has another. */
    @Override
    public List<CpusetChange.Pinned> pinnedThreads(CpuList all) {
        List<CpusetChange.Pinned> pinned = new ArrayList<>();
        pins.forEach((tid, cpus) -> pinned.add(new CpusetChange.Pinned(tid, tid * 10L, cpus.format())));
        return pinned;
    }

    @Override
    public void repin(CpusetChange.Pinned p) {
        if (threadGroup.containsKey(p.tid()) && p.startTime() == p.tid() * 10L) {
            pins.put(p.tid(), CpuList.parse(p.cpus()));
        }
    }
}
