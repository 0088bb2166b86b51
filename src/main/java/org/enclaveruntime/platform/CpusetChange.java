package org.enclaveruntime.platform;

/**
 * One change isolate = cpuset makes to the cgroup tree. Each is recorded in the state file before it is
 * made, and its undo is safe whether or not the change was made: a VMM that dies between recording and
 * changing leaves a record whose undo finds nothing to do.
 */
public sealed interface CpusetChange {
    /** A cgroup we created; undone by removing it (after the threads moved into it are moved out). */
    record Created(String dir) implements CpusetChange {
    }

    /** A control file of someone else's cgroup we wrote; undone by writing {@code before} back. */
    record Wrote(String file, String before) implements CpusetChange {
    }

    /** A controller we enabled in {@code dir}/cgroup.subtree_control (v2); undone by disabling it. */
    record EnabledController(String dir, String controller) implements CpusetChange {
    }

    /**
     * Threads moved from cgroup {@code from} to {@code to} through their {@code file} ("tasks" on v1,
     * "cgroup.threads" on v2); undone by moving every thread then in {@code to} back, which includes threads
     * those threads started meanwhile.
     */
    record MovedThreads(String from, String to, String file) implements CpusetChange {
    }

    /**
     * The VMM process moved from cgroup {@code from} to {@code to}, both paths within the v2 hierarchy mounted
     * at {@code mount}; undone only if a process {@code pid} still lives in {@code to} (after a crash the pid
     * may belong to someone else).
     */
    record MovedProcess(long pid, String mount, String from, String to) implements CpusetChange {
    }

    /**
     * A thread of the primary pinned (sched_setaffinity) to {@code cpus}, fewer than all CPUs, noted before any
     * cpuset changes: kernels before 6.2 reset a task's mask to its cpuset's CPUs when those change or the task
     * moves, and forget the pinning. Undone by pinning it again if the same thread (same {@code startTime},
     * so not a reused id) still lives and its mask differs.
     */
    record Pinned(int tid, long startTime, String cpus) implements CpusetChange {
    }
}
