package org.enclaveruntime.platform;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The CPUs of this machine as the kernel reports them.
 *
 * @param online   online CPUs, ascending by id
 * @param present  /sys/devices/system/cpu/present
 * @param possible /sys/devices/system/cpu/possible
 */
public record Topology(List<CpuInfo> online, CpuList present, CpuList possible) {
    public Topology {
        online = online.stream().sorted(Comparator.comparingInt(CpuInfo::id)).toList();
    }

    public CpuList onlineCpus() {
        return CpuList.of(online.stream().map(CpuInfo::id).toList());
    }

    /** Present but not online: CPUs someone took offline. */
    public CpuList offline() {
        return present.minus(onlineCpus());
    }

    public Optional<CpuInfo> cpu(int id) {
        return online.stream().filter(c -> c.id() == id).findFirst();
    }

    /**
     * The physical cores, ordered by their lowest CPU. Grouped by sibling lists rather than by core_id,
     * because core_id repeats across packages and dies while the sibling list is what the kernel schedules
     * by. CPUs are joined whenever any one lists the other, so that sibling lists which disagree (odd
     * firmware) still give every CPU exactly one core, never two overlapping ones.
     */
    public List<Core> cores() {
        CpuList onlineCpus = onlineCpus();
        Map<Integer, Integer> parent = new HashMap<>();
        for (CpuInfo cpu : online) {
            parent.put(cpu.id(), cpu.id());
        }
        for (CpuInfo cpu : online) {
            for (int sibling : cpu.siblings()) {
                if (onlineCpus.contains(sibling)) {
                    parent.put(root(parent, sibling), root(parent, cpu.id()));
                }
            }
        }
        Map<Integer, List<Integer>> groups = new TreeMap<>();
        for (CpuInfo cpu : online) {
            groups.computeIfAbsent(root(parent, cpu.id()), k -> new ArrayList<>()).add(cpu.id());
        }
        List<Core> cores = new ArrayList<>();
        for (List<Integer> group : groups.values()) {
            CpuList cpus = CpuList.of(group);
            CpuInfo first = cpu(cpus.cpus().get(0)).orElseThrow();
            cores.add(new Core(first.pkg(), first.core(), first.node(), cpus));
        }
        cores.sort(Comparator.comparingInt(Core::first));
        return cores;
    }

    private static int root(Map<Integer, Integer> parent, int cpu) {
        int r = cpu;
        while (parent.get(r) != r) {
            r = parent.get(r);
        }
        return r;
    }

    public Optional<Core> coreOf(int cpu) {
        return cores().stream().filter(c -> c.cpus().contains(cpu)).findFirst();
    }

    /**
     * The core the primary always keeps: the one holding CPU0, where the kernel's boot CPU and many
     * interrupts live. If CPU0 is not listed online (unusual), the core of the lowest online CPU.
     */
    public Core primaryCore() {
        return coreOf(0).orElseGet(() -> cores().get(0));
    }

    public List<Integer> nodes() {
        return List.copyOf(new TreeSet<>(online.stream().map(CpuInfo::node).toList()));
    }

    public boolean hyperthreading() {
        return online.stream().anyMatch(c -> c.siblings().size() > 1);
    }

    public int maxThreadsPerCore() {
        return online.stream().mapToInt(c -> c.siblings().size()).max().orElse(1);
    }

    /** "2 cores (CPU0-1, no hyperthreading)": how messages describe the machine. */
    public String describe() {
        List<Core> cores = cores();
        String threads = hyperthreading() ? maxThreadsPerCore() + " threads per core" : "no hyperthreading";
        String numa = nodes().size() > 1 ? ", " + nodes().size() + " NUMA nodes" : "";
        String off = offline().isEmpty() ? "" : ", CPU" + offline().format() + " offline";
        return cores.size() + (cores.size() == 1 ? " core" : " cores") + " (CPU" + onlineCpus().format() + ", "
                + threads + numa + off + ")";
    }
}
