package org.enclaveruntime.platform;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.linux.Native;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Thread affinity through sched_setaffinity / sched_getaffinity. Each vCPU thread pins itself to its own
 * CPU of cpu_ids; the VMM's other threads are then kept off the enclave's CPUs.
 */
public final class CpuAffinity {
    /** Mask size: 1024 CPUs, glibc's cpu_set_t. Larger machines would need a larger mask. */
    private static final int MASK_BYTES = 128;
    private static final int EINVAL = 22;
    private static final int ESRCH = 3;

    private CpuAffinity() {
    }

    /** Pins the calling thread; a vCPU thread calls this first thing. */
    public static void pinCurrentThread(CpuList cpus) {
        pin(Native.gettid(), cpus);
    }

    public static void pin(int tid, CpuList cpus) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("an affinity mask needs at least one CPU");
        }
        if (cpus.cpus().get(cpus.size() - 1) >= MASK_BYTES * 8) {
            throw new EnclaveException(PlatformErrors.AFFINITY, "cannot pin thread " + tid + " to CPU" + cpus.format()
                    + ": enclavectl handles CPUs 0-" + (MASK_BYTES * 8 - 1) + " only");
        }
        Pointer mask = Memory.allocateDirect(Runtime.getSystemRuntime(), MASK_BYTES, true);
        for (int cpu : cpus.cpus()) {
            int index = cpu / 8;
            mask.putByte(index, (byte) (mask.getByte(index) | (1 << (cpu % 8))));
        }
        if (LibC.INSTANCE.sched_setaffinity(tid, MASK_BYTES, mask) != 0) {
            int errno = Native.errno();
            String why = errno == EINVAL ? "; none of these CPUs is online and allowed to this process (online: "
                    + online() + ")" : errno == ESRCH ? "; the thread has exited" : "";
            throw new EnclaveException(PlatformErrors.AFFINITY, "cannot pin thread " + tid + " to CPU" + cpus.format()
                    + ": sched_setaffinity failed: " + Native.describe(errno) + why);
        }
    }

    public static CpuList ofCurrentThread() {
        return of(Native.gettid());
    }

    public static CpuList of(int tid) {
        Pointer mask = Memory.allocateDirect(Runtime.getSystemRuntime(), MASK_BYTES, true);
        if (LibC.INSTANCE.sched_getaffinity(tid, MASK_BYTES, mask) != 0) {
            int errno = Native.errno();
            throw new EnclaveException(PlatformErrors.AFFINITY, "cannot read the CPU affinity of thread " + tid
                    + ": " + Native.describe(errno));
        }
        List<Integer> cpus = new ArrayList<>();
        for (int i = 0; i < MASK_BYTES; i++) {
            int b = mask.getByte(i) & 0xff;
            for (int bit = 0; bit < 8; bit++) {
                if ((b & (1 << bit)) != 0) {
                    cpus.add(i * 8 + bit);
                }
            }
        }
        return CpuList.of(cpus);
    }

    /**
     * Takes {@code enclaveCpus} out of the affinity of every thread of this process except {@code keep}
     * (the vCPU threads), so that the VMM's own threads (event loop, JVM compiler and GC threads) do not
     * run on the enclave's CPUs. A thread whose mask would become empty gets every other online CPU.
     *
     * <p>Race limits: this walks /proc/self/task once. A thread started afterwards inherits the mask of the
     * thread that starts it, so threads started by confined threads are confined, but a thread started by a
     * vCPU thread, or one started during the walk, is not; a thread that exits during the walk is skipped.
     * Call it after the vCPU threads are pinned and before the VMM starts further threads, and do not start
     * threads from vCPU threads.
     *
     * @return every changed thread's previous mask, for {@link #restore}
     */
    public static List<ThreadAffinity> confineOtherThreads(CpuList enclaveCpus, Set<Integer> keep) {
        CpuList fallback = online().minus(enclaveCpus);
        if (fallback.isEmpty()) {
            // share_cpus plans may cover every CPU: there is nowhere else to go.
            return List.of();
        }
        List<ThreadAffinity> changed = new ArrayList<>();
        for (int tid : threadsOfThisProcess()) {
            if (keep.contains(tid)) {
                continue;
            }
            CpuList before;
            try {
                before = of(tid);
            } catch (EnclaveException exited) {
                continue;
            }
            if (before.intersect(enclaveCpus).isEmpty()) {
                continue;
            }
            CpuList after = before.minus(enclaveCpus);
            try {
                pin(tid, after.isEmpty() ? fallback : after);
                changed.add(new ThreadAffinity(tid, before));
            } catch (EnclaveException exited) {
                // The thread ended between reading and writing its mask: nothing to confine.
            }
        }
        return changed;
    }

    /** Puts back the masks {@link #confineOtherThreads} changed, skipping threads that have exited. */
    public static void restore(List<ThreadAffinity> previous) {
        for (ThreadAffinity t : previous) {
            try {
                pin(t.tid(), t.cpus());
            } catch (EnclaveException exited) {
                // Gone: nothing to restore.
            }
        }
    }

    /** The kernel thread ids of this process. */
    public static List<Integer> threadsOfThisProcess() {
        List<Integer> tids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                tids.add(Integer.parseInt(task.getFileName().toString()));
            }
        } catch (IOException e) {
            throw new EnclaveException(PlatformErrors.AFFINITY, "cannot list /proc/self/task: " + SysfsFiles.reason(e), e);
        }
        return tids;
    }

    private static CpuList online() {
        try {
            return CpuList.parse(SysfsFiles.readWhole(Path.of("/sys/devices/system/cpu/online")));
        } catch (IOException | IllegalArgumentException e) {
            return CpuList.empty();
        }
    }
}
