package org.enclaveruntime.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a fake /sys and /proc tree for topologies this machine does not have. Only the files the
 * platform package reads are written, in the kernel's formats.
 */
final class FakeSysfs {
    private final Path root;

    private FakeSysfs(Path root) {
        this.root = root;
    }

    static FakeSysfs at(Path root) {
        return new FakeSysfs(root);
    }

    Path root() {
        return root;
    }

    FakeSysfs cpus(String online, String present) {
        write("sys/devices/system/cpu/online", online);
        write("sys/devices/system/cpu/present", present);
        write("sys/devices/system/cpu/possible", present);
        return this;
    }

    /** One online CPU. newKernel also writes core_cpus_list (5.x names), as current kernels do. */
    FakeSysfs cpu(int id, int pkg, int core, String siblings, boolean newKernel) {
        String dir = "sys/devices/system/cpu/cpu" + id + "/topology/";
        write(dir + "thread_siblings_list", siblings);
        if (newKernel) {
            write(dir + "core_cpus_list", siblings);
        }
        write(dir + "core_id", String.valueOf(core));
        write(dir + "physical_package_id", String.valueOf(pkg));
        return this;
    }

    /** An offline CPU: the kernel removes its topology directory but keeps cpuN/online = 0. */
    FakeSysfs offlineCpu(int id) {
        write("sys/devices/system/cpu/cpu" + id + "/online", "0");
        return this;
    }

    FakeSysfs node(int node, String cpulist) {
        write("sys/devices/system/node/node" + node + "/cpulist", cpulist);
        return this;
    }

    FakeSysfs nodeMeminfo(int node, long totalMib, long freeMib) {
        write("sys/devices/system/node/node" + node + "/meminfo", "Node " + node + " MemTotal:       " + totalMib * 1024
                + " kB\nNode " + node + " MemFree:        " + freeMib * 1024 + " kB\nNode " + node
                + " MemUsed:        " + (totalMib - freeMib) * 1024 + " kB");
        return this;
    }

    FakeSysfs meminfo(long totalMib, long availableMib) {
        write("proc/meminfo", "MemTotal:       " + totalMib * 1024 + " kB\n"
                + "MemFree:        " + availableMib * 1024 + " kB\n"
                + "MemAvailable:   " + availableMib * 1024 + " kB\n"
                + "HugePages_Total:       0\n");
        return this;
    }

    /** A hugepage pool; node -1 is the system-wide one. */
    FakeSysfs pool(PageSize size, int node, long nr, long free) {
        String dir = node < 0 ? "sys/kernel/mm/hugepages/" + size.sysfsName() + "/"
                : "sys/devices/system/node/node" + node + "/hugepages/" + size.sysfsName() + "/";
        write(dir + "nr_hugepages", String.valueOf(nr));
        write(dir + "free_hugepages", String.valueOf(free));
        write(dir + "surplus_hugepages", "0");
        if (node < 0) {
            write(dir + "resv_hugepages", "0");
        }
        return this;
    }

    /** /proc/sys/kernel/random/boot_id: a reboot is a new one. */
    FakeSysfs bootId(String id) {
        write("proc/sys/kernel/random/boot_id", id);
        return this;
    }

    private void write(String relative, String content) {
        Path file = root.resolve(relative);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the fixtures -----------------------------------------------------------------------------------

    /** Like this machine: 2 cores, no hyperthreading, one node, 24 GiB, empty 2M and 1G pools. */
    static FakeSysfs twoCores(Path root) {
        return at(root).cpus("0-1", "0-1")
                .cpu(0, 0, 0, "0", true).cpu(1, 0, 1, "1", true)
                .node(0, "0-1")
                .meminfo(24_105, 23_757)
                .pool(PageSize.SIZE_2M, -1, 0, 0).pool(PageSize.SIZE_1G, -1, 0, 0)
                .pool(PageSize.SIZE_2M, 0, 0, 0).pool(PageSize.SIZE_1G, 0, 0, 0);
    }

    /** 4 vCPUs, 2 cores x 2 threads, siblings in the range form "0-1", "2-3"; an older kernel without core_cpus_list. */
    static FakeSysfs fourThreads(Path root) {
        return at(root).cpus("0-3", "0-3")
                .cpu(0, 0, 0, "0-1", false).cpu(1, 0, 0, "0-1", false)
                .cpu(2, 0, 1, "2-3", false).cpu(3, 0, 1, "2-3", false)
                .node(0, "0-3")
                .meminfo(16_000, 15_000)
                .pool(PageSize.SIZE_2M, -1, 0, 0).pool(PageSize.SIZE_1G, -1, 0, 0);
    }

    /**
     * 16 vCPUs on 2 NUMA nodes, 8 cores x 2 threads, siblings far apart (0,8 / 1,9 ...): node 0 holds
     * CPU0-3,8-11, node 1 CPU4-7,12-15. Node 1 has 8 free 2M pages, node 0 none.
     */
    static FakeSysfs sixteenNuma(Path root) {
        FakeSysfs f = at(root).cpus("0-15", "0-15");
        for (int cpu = 0; cpu < 16; cpu++) {
            int core = cpu % 8;
            f.cpu(cpu, core / 4, core % 4, core + "," + (core + 8), true);
        }
        return f.node(0, "0-3,8-11").node(1, "4-7,12-15")
                .meminfo(64_000, 60_000).nodeMeminfo(0, 32_000, 30_000).nodeMeminfo(1, 32_000, 30_000)
                .pool(PageSize.SIZE_2M, -1, 8, 8).pool(PageSize.SIZE_1G, -1, 0, 0)
                .pool(PageSize.SIZE_2M, 0, 0, 0).pool(PageSize.SIZE_2M, 1, 8, 8)
                .pool(PageSize.SIZE_1G, 0, 0, 0).pool(PageSize.SIZE_1G, 1, 0, 0);
    }

    /**
     * 8 vCPUs, 4 cores x 2 threads (siblings 0,4 / 1,5 / 2,6 / 3,7), CPU2 offline: CPU6 is left as a
     * one-thread core, and online has a gap ("0-1,3-7").
     */
    static FakeSysfs withOffline(Path root) {
        return at(root).cpus("0-1,3-7", "0-7")
                .cpu(0, 0, 0, "0,4", true).cpu(4, 0, 0, "0,4", true)
                .cpu(1, 0, 1, "1,5", true).cpu(5, 0, 1, "1,5", true)
                .offlineCpu(2).cpu(6, 0, 2, "6", true)
                .cpu(3, 0, 3, "3,7", true).cpu(7, 0, 3, "3,7", true)
                .node(0, "0-1,3-7")
                .meminfo(32_000, 30_000)
                .pool(PageSize.SIZE_2M, -1, 0, 0);
    }
}
