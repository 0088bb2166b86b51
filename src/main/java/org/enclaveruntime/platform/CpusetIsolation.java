package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * isolate = cpuset: while the enclave runs, its CPUs belong to its vCPU threads alone. Every other task of
 * the primary loses them; nothing is ever confined to fewer CPUs than the primary keeps, and no CPU goes
 * offline.
 *
 * <p>cgroup v2: a threaded cgroup {@code enclave} below the root becomes a cpuset partition ("isolated",
 * else "root") holding the enclave's CPUs and the vCPU threads; the kernel then removes those CPUs from every
 * other cgroup's effective CPUs. Threads can only move within one threaded subtree, so the VMM process moves
 * to the root cgroup first (and back at stop).
 *
 * <p>cgroup v1 (also the hybrid layout, where cpuset sits on v1): the root cpuset always has every CPU and
 * cannot be narrowed, so its tasks move to a cpuset {@code enclave-primary} with the other CPUs, and the vCPU
 * threads to a cpuset {@code enclave} (cpu_exclusive where the kernel allows) with the enclave's. Kernel
 * threads bound to CPUs cannot move (the kernel refuses) and stay. Other cpusets that hold enclave CPUs have
 * them removed.
 *
 * <p>Every change is recorded (the recorder writes the state file) before it is made, and
 * {@link #giveBack} undoes the record in reverse at stop or, after a crash, at the next start or stop.
 * Limits: a task started by a task of the root cpuset while the root is being emptied (v1) is caught by the
 * next pass, up to {@value #PASSES} passes; threads that vCPU threads start stay with them.
 */
public final class CpusetIsolation {
    private static final Logger LOG = LoggerFactory.getLogger(CpusetIsolation.class);
    static final String ENCLAVE = "enclave";
    static final String PRIMARY_V1 = "enclave-primary";
    private static final int PASSES = 10;

    private final CgroupFs fs;
    private final CpusetSupport where;
    private final String bootId;
    private CpusetJournal journal;
    private Consumer<CpusetJournal> recorder;

    CpusetIsolation(CgroupFs fs, CpusetSupport where, String bootId) {
        this.fs = fs;
        this.where = where;
        this.bootId = bootId;
    }

    /** On this machine. */
    public static CpusetIsolation here() {
        Path root = Path.of("/");
        return new CpusetIsolation(CgroupFs.at(root), CpusetSupport.detect(root), BootId.current(root));
    }

    /**
     * Gives {@code cpus} to the threads {@code vcpuThreads} of process {@code pid} alone. {@code recorder} is
     * called with the journal so far before each change, and must store it (the state file). On failure
     * everything done so far is undone before the error is thrown.
     *
     * @throws EnclaveException E611 when isolation cannot work here or for these CPUs, E613 when a cgroup
     *                          file cannot be changed
     */
    public CpusetJournal apply(CpuList cpus, Set<Integer> vcpuThreads, long pid, Consumer<CpusetJournal> recorder) {
        if (!where.available()) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset is not supported here: "
                    + where.reason() + "; set isolate = none");
        }
        if (cpus.isEmpty() || vcpuThreads.isEmpty()) {
            throw new IllegalArgumentException("nothing to isolate: CPUs " + cpus.format() + ", threads " + vcpuThreads);
        }
        this.journal = new CpusetJournal(bootId, List.of());
        this.recorder = recorder;
        long t0 = System.nanoTime();
        try {
            if (where.version() == CgroupVersion.V1) {
                applyV1(cpus, vcpuThreads);
            } else {
                applyV2(cpus, vcpuThreads, pid);
            }
            LOG.info("isolate = cpuset: CPU{} belong to the vCPU threads {} ({} changes to {} in {} ms)",
                    cpus.format(), vcpuThreads, journal.changes().size(), where.mount(),
                    (System.nanoTime() - t0) / 1_000_000);
            return journal;
        } catch (RuntimeException e) {
            try {
                giveBack(journal);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    private void applyV1(CpuList cpus, Set<Integer> vcpus) {
        String top = where.mount();
        CpuList all = cpuList(top + "/cpuset.effective_cpus");
        CpuList rest = checkCpus(cpus, all);
        String enclave = top + "/" + ENCLAVE;
        String primary = top + "/" + PRIMARY_V1;
        requireAbsent(enclave);
        requireAbsent(primary);
        List<String> overlapping = overlapping(top, cpus, Set.of(enclave, primary));
        String mems = read(top + "/cpuset.effective_mems");

        notePinnedThreads(all);
        narrow(overlapping, cpus);
        create(enclave);
        write(enclave + "/cpuset.mems", mems);
        write(enclave + "/cpuset.cpus", cpus.format());
        try {
            fs.write(enclave + "/cpuset.cpu_exclusive", "1");
        } catch (IOException e) {
            LOG.info("{}: cpu_exclusive not set ({}); the CPUs are the enclave's all the same", enclave, e.getMessage());
        }
        moveThreads(vcpus, enclave, "tasks", CgroupVersion.V1);
        create(primary);
        write(primary + "/cpuset.mems", mems);
        write(primary + "/cpuset.cpus", rest.format());
        record(new CpusetChange.MovedThreads(top, primary, "tasks"));
        int stayed = moveAll(top, primary, "tasks", vcpus);
        LOG.info("{}: {} tasks could not leave the root cpuset (kernel threads bound to their CPUs)", top, stayed);
    }

    private void applyV2(CpuList cpus, Set<Integer> vcpus, long pid) {
        String top = where.mount();
        CpuList all = cpuList(top + "/cpuset.cpus.effective");
        checkCpus(cpus, all);
        String enclave = top + "/" + ENCLAVE;
        requireAbsent(enclave);
        List<String> overlapping = overlapping(top, cpus, Set.of(enclave));
        String vmm = fs.cgroupOf((int) pid, CgroupVersion.V2);
        if (vmm == null) {
            throw new EnclaveException(PlatformErrors.CPUSET_CONTROL, "cannot find the cgroup of process " + pid
                    + " in " + fs.describe("/proc/" + pid + "/cgroup"));
        }

        notePinnedThreads(all);
        if (!List.of(read(top + "/cgroup.subtree_control").split("\\s+")).contains("cpuset")) {
            record(new CpusetChange.EnabledController(top, "cpuset"));
            write(top + "/cgroup.subtree_control", "+cpuset");
        }
        narrow(overlapping, cpus);
        if (!vmm.equals("/")) {
            // Threads move only within a threaded subtree, and the partition must sit right below the root.
            record(new CpusetChange.MovedProcess(pid, top, vmm, "/"));
            write(top + "/cgroup.procs", Long.toString(pid));
        }
        create(enclave);
        write(enclave + "/cgroup.type", "threaded");
        write(enclave + "/cpuset.cpus", cpus.format());
        String partition = partition(enclave, "isolated");
        if (!partition.equals("isolated") && !partition(enclave, "root").equals("root")) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "the kernel refused to make "
                    + fs.describe(enclave) + " a cpuset partition for CPU" + cpus.format()
                    + ": cpuset.cpus.partition reads '" + read(enclave + "/cpuset.cpus.partition")
                    + "' (the kernel says why in parentheses); set isolate = none");
        }
        moveThreads(vcpus, enclave, "cgroup.threads", CgroupVersion.V2);
        CpuList left = cpuList(top + "/cpuset.cpus.effective");
        if (!left.intersect(cpus).isEmpty()) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, fs.describe(top)
                    + "/cpuset.cpus.effective still lists CPU" + left.intersect(cpus).format() + " after "
                    + fs.describe(enclave) + " became a partition; set isolate = none");
        }
    }

    /** The CPUs left to the primary; refuses CPU0, CPUs that are not there, and taking every CPU. */
    private static CpuList checkCpus(CpuList cpus, CpuList all) {
        if (cpus.contains(0)) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset would take CPU0 from the "
                    + "primary (the enclave's CPUs are " + cpus.format() + ", shared with the primary): CPU0 always "
                    + "stays with the primary; set share_cpus = false, or isolate = none");
        }
        if (!cpus.minus(all).isEmpty()) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, "isolate = cpuset: CPU"
                    + cpus.minus(all).format() + " of the enclave is not among the CPUs cpusets can give ("
                    + all.format() + "); set isolate = none");
        }
        return all.minus(cpus);
    }

    private void requireAbsent(String dir) {
        if (fs.exists(dir)) {
            throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, fs.describe(dir) + " exists, but no "
                    + "state file of this enclave records it: another program made it, or the state file of an "
                    + "earlier enclave was lost. Remove it (rmdir, after moving its tasks to the parent cgroup) "
                    + "if nothing uses it, or set isolate = none");
        }
    }

    /**
     * Other cgroups whose cpuset.cpus lists some of {@code cpus}, deepest first (on v1 a parent cannot lose
     * CPUs a child still has). Refused, before anything changes, when one would be left without CPUs.
     */
    private List<String> overlapping(String top, CpuList cpus, Set<String> ours) {
        List<String> found = new ArrayList<>();
        collect(top, cpus, ours, found);
        for (String dir : found) {
            CpuList has = cpuList(dir + "/cpuset.cpus");
            if (has.minus(cpus).isEmpty()) {
                throw new EnclaveException(PlatformErrors.ISOLATION_UNSUPPORTED, fs.describe(dir + "/cpuset.cpus")
                        + " holds only CPU" + has.format() + ", all of them the enclave's (" + cpus.format() + "): "
                        + "its tasks would have no CPU left; give that cgroup other CPUs, choose other cpu_ids, "
                        + "or set isolate = none");
            }
        }
        found.sort(Comparator.comparingLong((String d) -> d.chars().filter(c -> c == '/').count()).reversed());
        return found;
    }

    private void collect(String dir, CpuList cpus, Set<String> ours, List<String> found) {
        List<String> children;
        try {
            children = fs.children(dir);
        } catch (IOException e) {
            throw failure("cannot list " + fs.describe(dir), e);
        }
        for (String child : children) {
            if (ours.contains(child)) {
                continue;
            }
            String file = child + "/cpuset.cpus";
            if (fs.exists(file) && !read(file).isEmpty() && !cpuList(file).intersect(cpus).isEmpty()) {
                found.add(child);
            }
            collect(child, cpus, ours, found);
        }
    }

    private void narrow(List<String> dirs, CpuList cpus) {
        for (String dir : dirs) {
            String file = dir + "/cpuset.cpus";
            String before = read(file);
            record(new CpusetChange.Wrote(file, before));
            write(file, CpuList.parse(before).minus(cpus).format());
        }
    }

    private void create(String dir) {
        record(new CpusetChange.Created(dir));
        try {
            fs.mkdir(dir);
        } catch (IOException e) {
            throw failure("cannot create " + fs.describe(dir), e);
        }
    }

    private String partition(String dir, String kind) {
        try {
            fs.write(dir + "/cpuset.cpus.partition", kind);
        } catch (IOException e) {
            LOG.info("{}: cpuset.cpus.partition = {} refused: {}", dir, kind, e.getMessage());
        }
        return read(dir + "/cpuset.cpus.partition");
    }

    /** Moves the vCPU threads, recorded per cgroup they come from, so each goes back where it was. */
    private void moveThreads(Set<Integer> tids, String to, String file, CgroupVersion version) {
        List<String> sources = new ArrayList<>();
        List<List<Integer>> bySource = new ArrayList<>();
        for (int tid : tids) {
            String cg = fs.cgroupOf(tid, version);
            if (cg == null) {
                throw new EnclaveException(PlatformErrors.CPUSET_CONTROL, "vCPU thread " + tid + " has exited");
            }
            String from = cg.equals("/") ? where.mount() : where.mount() + cg;
            int i = sources.indexOf(from);
            if (i < 0) {
                sources.add(from);
                bySource.add(new ArrayList<>());
                i = sources.size() - 1;
            }
            bySource.get(i).add(tid);
        }
        for (int i = 0; i < sources.size(); i++) {
            record(new CpusetChange.MovedThreads(sources.get(i), to, file));
            for (int tid : bySource.get(i)) {
                write(to + "/" + file, Integer.toString(tid));
            }
        }
    }

    /**
     * Moves every thread listed in {@code from}/{@code file} to {@code to}, except {@code keep}, pass after pass
     * until none is left that the kernel lets go (threads started meanwhile appear in the next pass).
     *
     * @return how many threads the kernel refused to move
     */
    private int moveAll(String from, String to, String file, Set<Integer> keep) {
        Set<Integer> refused = new HashSet<>();
        for (int pass = 0; pass < PASSES; pass++) {
            List<Integer> left = ids(from + "/" + file);
            left.removeAll(keep);
            left.removeAll(refused);
            if (left.isEmpty()) {
                break;
            }
            for (int tid : left) {
                try {
                    fs.write(to + "/" + file, Integer.toString(tid));
                } catch (IOException e) {
                    if (!String.valueOf(e.getMessage()).contains("No such process")) {
                        refused.add(tid);
                    }
                }
            }
        }
        return refused.size();
    }

    /**
     * Undoes a journal, newest change first, continuing past failures; the first is thrown at the end.
     * A journal from another boot is dropped: its cgroups vanished with that boot.
     */
    public void giveBack(CpusetJournal done) {
        if (done == null || done.changes().isEmpty()) {
            return;
        }
        if (!Objects.equals(done.bootId(), bootId)) {
            LOG.warn("not undoing {} cpuset changes recorded in boot {}: this is boot {}, whose cgroups started "
                    + "afresh", done.changes().size(), done.bootId(), bootId);
            return;
        }
        List<String> failed = new ArrayList<>();
        List<CpusetChange> changes = done.changes();
        for (int i = changes.size() - 1; i >= 0; i--) {
            try {
                undo(changes.get(i));
            } catch (IOException | RuntimeException e) {
                failed.add(changes.get(i) + ": " + e.getMessage());
            }
        }
        if (!failed.isEmpty()) {
            throw new EnclaveException(PlatformErrors.CPUSET_CONTROL, "could not give back every cpuset change: "
                    + String.join("; ", failed) + ". Fix by hand: move the tasks of the enclave cgroups to their "
                    + "parent, remove the directories, write the cpuset.cpus values named back");
        }
    }

    private void undo(CpusetChange change) throws IOException {
        if (change instanceof CpusetChange.Created c) {
            removeDir(c.dir());
        } else if (change instanceof CpusetChange.Wrote w) {
            if (fs.exists(w.file())) {
                fs.write(w.file(), w.before().isEmpty() ? "\n" : w.before());
            }
        } else if (change instanceof CpusetChange.EnabledController e) {
            try {
                fs.write(e.dir() + "/cgroup.subtree_control", "-" + e.controller());
            } catch (IOException busy) {
                // Someone enabled it below meanwhile (systemd, for AllowedCPUs=): it is theirs now.
                LOG.warn("{}/cgroup.subtree_control: -{} refused ({}); left enabled", e.dir(), e.controller(),
                        busy.getMessage());
            }
        } else if (change instanceof CpusetChange.MovedThreads m) {
            if (fs.exists(m.to()) && fs.exists(m.from())) {
                int stuck = moveAll(m.to(), m.from(), m.file(), Set.of());
                if (stuck > 0) {
                    throw new IOException(stuck + " threads could not move back from " + fs.describe(m.to()));
                }
            }
        } else if (change instanceof CpusetChange.Pinned p) {
            fs.repin(p);
        } else if (change instanceof CpusetChange.MovedProcess p) {
            String from = p.from().equals("/") ? p.mount() : p.mount() + p.from();
            if (fs.exists(from) && p.to().equals(fs.cgroupOf((int) p.pid(), CgroupVersion.V2))) {
                fs.write(from + "/cgroup.procs", Long.toString(p.pid()));
            }
        }
    }

    /** Removes a cgroup we made; threads still in it (started by threads we moved) go to its parent first. */
    private void removeDir(String dir) throws IOException {
        if (!fs.exists(dir)) {
            return;
        }
        String parent = dir.substring(0, dir.lastIndexOf('/'));
        String file = fs.exists(dir + "/cgroup.threads") ? "cgroup.threads" : "tasks";
        for (int attempt = 0; ; attempt++) {
            try {
                fs.rmdir(dir);
                return;
            } catch (IOException busy) {
                if (attempt == PASSES) {
                    throw busy;
                }
                moveAll(dir, parent, file, Set.of());
            }
        }
    }

    private void record(CpusetChange change) {
        record(List.of(change));
    }

    private void record(List<? extends CpusetChange> changes) {
        journal = journal.plus(changes);
        recorder.accept(journal);
    }

    /** Notes every pinned thread first, so the give-back (newest first) re-pins them last. One state write. */
    private void notePinnedThreads(CpuList all) {
        List<CpusetChange.Pinned> pinned = fs.pinnedThreads(all);
        if (!pinned.isEmpty()) {
            record(pinned);
        }
    }

    private String read(String file) {
        try {
            return fs.read(file);
        } catch (IOException e) {
            throw failure("cannot read " + fs.describe(file), e);
        }
    }

    private void write(String file, String value) {
        try {
            fs.write(file, value);
        } catch (IOException e) {
            throw failure("cannot write '" + value + "' to " + fs.describe(file), e);
        }
    }

    private CpuList cpuList(String file) {
        String text = read(file);
        try {
            return text.isEmpty() ? CpuList.empty() : CpuList.parse(text);
        } catch (IllegalArgumentException e) {
            throw new EnclaveException(PlatformErrors.CPUSET_CONTROL, fs.describe(file) + ": " + e.getMessage(), e);
        }
    }

    private List<Integer> ids(String file) {
        List<Integer> ids = new ArrayList<>();
        for (String line : read(file).split("\n")) {
            if (!line.isBlank()) {
                ids.add(Integer.parseInt(line.strip()));
            }
        }
        return ids;
    }

    private static EnclaveException failure(String what, IOException e) {
        return new EnclaveException(PlatformErrors.CPUSET_CONTROL, what + ": " + e.getMessage()
                + "; run as root, and check that the cgroup file system is mounted read-write", e);
    }
}
