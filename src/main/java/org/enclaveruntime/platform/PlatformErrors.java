package org.enclaveruntime.platform;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E6xx: what this machine can give the enclave (CPUs, memory, hugepages), pinning and isolation. */
public final class PlatformErrors {
    private PlatformErrors() {
    }

    public static final ErrorCode NOT_ENOUGH_CPUS = new ErrorCode("E601", ExitStatus.RESOURCES,
            "not enough whole cores for the enclave",
            "Lower cpu_count to the number the message names, or use an instance with more cores.",
            "The enclave gets CPUs in whole physical cores (every hyperthread of a core), and the primary VM "
                    + "always keeps the core that holds CPU0. The message says how many cores this instance has, "
                    + "how many CPUs were asked for and the most that can be given. For development only, "
                    + "share_cpus = true lets the enclave share CPUs with the primary (no isolation).");

    public static final ErrorCode NOT_WHOLE_CORES = new ErrorCode("E602", ExitStatus.RESOURCES,
            "CPUs are not whole cores",
            "Set cpu_count or cpu_ids to whole cores, as the message suggests.",
            "With hyperthreading, a core has several CPUs (threads). The enclave must own every thread of each "
                    + "of its cores, so cpu_count must be a sum of whole cores and cpu_ids must list every "
                    + "sibling. The message names the missing siblings.");

    public static final ErrorCode CPU_NOT_ONLINE = new ErrorCode("E603", ExitStatus.RESOURCES,
            "CPU in cpu_ids is not online",
            "Use only online CPUs (cat /sys/devices/system/cpu/online) in cpu_ids.",
            "cpu_ids names a CPU that does not exist on this instance or is offline. enclavectl never brings "
                    + "CPUs on- or offline; pick CPUs from the online list named in the message.");

    public static final ErrorCode PRIMARY_CORE = new ErrorCode("E604", ExitStatus.RESOURCES,
            "cpu_ids takes the primary's core",
            "Remove the CPUs of the core holding CPU0 from cpu_ids.",
            "The core that holds CPU0 always stays with the primary VM: the kernel's boot CPU and much of its "
                    + "interrupt work live there. cpu_ids must not contain any of its threads.");

    public static final ErrorCode NOT_ENOUGH_MEMORY = new ErrorCode("E605", ExitStatus.RESOURCES,
            "not enough memory for the enclave",
            "Lower memory (or reserve_memory) to what the message names, or free memory on the primary.",
            "The enclave's memory plus reserve_memory (what the primary keeps) must fit into the memory "
                    + "available now (MemAvailable in /proc/meminfo) plus free hugepages of the chosen size.");

    public static final ErrorCode PAGE_SIZE_UNAVAILABLE = new ErrorCode("E606", ExitStatus.RESOURCES,
            "hugepage size not usable",
            "Set hugepages = auto, or make memory a multiple of the page size, or enable that size in the kernel.",
            "hugepages = 1G or 2M asks for one page size. It needs the kernel to support the size "
                    + "(/sys/kernel/mm/hugepages/hugepages-<size>kB exists) and memory to be a whole number of pages.");

    public static final ErrorCode HUGEPAGES_NOT_GRANTED = new ErrorCode("E607", ExitStatus.RESOURCES,
            "the kernel gave fewer hugepages than asked",
            "Reserve the pages at boot (hugepages=N on the kernel command line), or set hugepages = off.",
            "Hugepages are reserved at start by raising nr_hugepages. The kernel can only do so from "
                    + "physically contiguous free memory; on a machine that has run for a while memory is "
                    + "fragmented and the kernel gives fewer pages than asked. Whatever was added is given back. "
                    + "Reserving at boot (kernel parameters hugepagesz=2M hugepages=N) always works; "
                    + "hugepages = off uses ordinary, locked memory instead.");

    public static final ErrorCode HUGEPAGE_CONTROL = new ErrorCode("E608", ExitStatus.RESOURCES,
            "cannot read or change the hugepage pool",
            "Run as root, and check that the file named in the message exists.",
            "enclavectl reserves and returns hugepages by writing nr_hugepages under /sys. That needs root; "
                    + "in a container /sys may be read-only.");

    public static final ErrorCode TOPOLOGY_UNREADABLE = new ErrorCode("E609", ExitStatus.RESOURCES,
            "cannot read the CPU or memory topology",
            "Check that /sys and /proc are mounted and readable; the message names the file.",
            "The plan is made from /sys/devices/system/cpu, /sys/devices/system/node, /sys/kernel/mm/hugepages "
                    + "and /proc/meminfo. A file was missing or did not have the expected format.");

    public static final ErrorCode AFFINITY = new ErrorCode("E610", ExitStatus.RESOURCES,
            "cannot pin a thread to its CPUs",
            "Check that the CPUs named are online and that no cpuset confines this process to other CPUs.",
            "vCPU threads are pinned with sched_setaffinity. The kernel refuses a mask with no online CPU "
                    + "that this process's cpuset allows (EINVAL), or a thread of another user (EPERM).");

    public static final ErrorCode ISOLATION_UNSUPPORTED = new ErrorCode("E611", ExitStatus.RESOURCES,
            "CPU isolation not possible here",
            "Follow the message (it names the cgroup, CPU or kernel answer at fault), or set isolate = none.",
            "isolate = cpuset gives the enclave's CPUs to its vCPU threads alone with cpusets: a cgroup v2 "
                    + "partition, or on v1 (and the hybrid layout) a cpuset of its own while every other task "
                    + "moves to a cpuset without those CPUs. It needs a cpuset hierarchy, never takes CPU0, and "
                    + "refuses when a cgroup would be left without CPUs or the kernel refuses the partition.");

    public static final ErrorCode CPUSET_CONTROL = new ErrorCode("E613", ExitStatus.RESOURCES,
            "cannot change the cgroup cpusets",
            "Run as root with the cgroup file system mounted read-write; the message names the file and what "
                    + "is left to undo by hand.",
            "isolate = cpuset creates cgroups, writes cpuset files and moves threads. A write the kernel "
                    + "refused, or a change that could not be given back at stop, is reported with the file.");

    public static final ErrorCode INVALID_REQUEST = new ErrorCode("E612", ExitStatus.CONFIG,
            "invalid CPU or memory request",
            "Fix the value named in the message.",
            "cpu_count must be at least 1; memory must be a positive whole number of MiB; reserve_memory "
                    + "must not be negative.");

    public static final List<ErrorCode> ALL = List.of(NOT_ENOUGH_CPUS, NOT_WHOLE_CORES, CPU_NOT_ONLINE,
            PRIMARY_CORE, NOT_ENOUGH_MEMORY, PAGE_SIZE_UNAVAILABLE, HUGEPAGES_NOT_GRANTED, HUGEPAGE_CONTROL,
            TOPOLOGY_UNREADABLE, AFFINITY, ISOLATION_UNSUPPORTED, INVALID_REQUEST, CPUSET_CONTROL);
}
