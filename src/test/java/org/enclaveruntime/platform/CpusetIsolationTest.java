package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StateRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * isolate = cpuset on simulated kernels ({@link FakeCgroupKernel}): a v1 host with Docker's cpusets, a v2
 * host under systemd, crashes at every step, refusals. CpusetIsolationHostTest does it on this machine.
 */
class CpusetIsolationTest {
    private static final String BOOT = "boot-1";
    private static final int VMM = 200;
    private static final Set<Integer> VCPUS = Set.of(201, 202);
    private static final CpuList ENCLAVE = CpuList.parse("2-3");

    /** The development host's layout, plus Docker: cpuset on v1, tasks in the root and in containers. */
    private static FakeCgroupKernel v1Host(boolean withVmm) {
        FakeCgroupKernel k = new FakeCgroupKernel(CgroupVersion.V1, "/sys/fs/cgroup/cpuset", CpuList.parse("0-3"))
                .group("/docker", "0-3").group("/docker/c1", "1-3")
                .process(1, "/", 1).process(100, "/", 100, 101).process(300, "/docker/c1", 300, 301)
                .kernelThread(2).kernelThread(3).pin(101, "0");
        return withVmm ? k.process(VMM, "/", VMM, 201, 202, 203).pin(201, "2").pin(202, "3") : k;
    }

    /** A systemd host on cgroup v2: the VMM in a session scope, domain controllers on, cpuset not yet. */
    private static FakeCgroupKernel v2Host(boolean withVmm) {
        FakeCgroupKernel k = new FakeCgroupKernel(CgroupVersion.V2, "/sys/fs/cgroup", CpuList.parse("0-3"))
                .subtreeControl("/", "memory pids")
                .group("/init.scope", "").group("/system.slice", "").group("/system.slice/sshd.service", "")
                .group("/user.slice", "").group("/user.slice/session-1.scope", "")
                .process(1, "/init.scope", 1).process(100, "/system.slice/sshd.service", 100, 101)
                .process(150, "/user.slice/session-1.scope", 150).kernelThread(2).pin(150, "0-1");
        return withVmm ? k.process(VMM, "/user.slice/session-1.scope", VMM, 201, 202, 203).pin(201, "2") : k;
    }

    /** cgroup v2 where systemd already runs cpuset, with AllowedCPUs=0-3 on system.slice. */
    private static FakeCgroupKernel v2WithCpuset(boolean withVmm) {
        FakeCgroupKernel k = new FakeCgroupKernel(CgroupVersion.V2, "/sys/fs/cgroup", CpuList.parse("0-3"))
                .subtreeControl("/", "cpuset memory").group("/system.slice", "0-3")
                .process(1, "/system.slice", 1, 11).kernelThread(2).pin(11, "1-3");
        return withVmm ? k.process(VMM, "/", VMM, 201, 202) : k;
    }

    private static void assertIsolated(FakeCgroupKernel k) {
        for (int tid : k.threads()) {
            CpuList allowed = k.allowed(tid);
            if (VCPUS.contains(tid)) {
                assertTrue(ENCLAVE.containsAll(allowed) && !allowed.isEmpty(), "vCPU thread " + tid + ": " + allowed);
            } else if (!k.isKernelThread(tid)) {
                assertTrue(allowed.intersect(ENCLAVE).isEmpty(), "thread " + tid + " may still run on " + allowed);
                assertFalse(allowed.isEmpty(), "thread " + tid + " has no CPU left");
            }
        }
    }

    /** The journal as the next start reads it from the state file. */
    private static CpusetJournal throughStateFile(CpusetJournal j) throws Exception {
        StateRecord r = new StateRecord(EnclaveState.RUNNING, (long) VMM, null, null, null, null, null, null, null,
                null, null, null, List.of(), j);
        return StateJson.parse(StateJson.toBytes(r)).cpusetIsolation();
    }

    private void appliesAndGivesBackExactly(Supplier<FakeCgroupKernel> scene) throws Exception {
        FakeCgroupKernel k = scene.get();
        String before = k.snapshot();
        CpusetIsolation isolation = new CpusetIsolation(k, k.support(), BOOT);
        List<CpusetJournal> recorded = new ArrayList<>();
        CpusetJournal journal = isolation.apply(ENCLAVE, VCPUS, VMM, recorded::add);
        assertEquals(journal, recorded.get(recorded.size() - 1), "the state file holds every change");
        long pinned = journal.changes().stream().filter(c -> c instanceof CpusetChange.Pinned).count();
        assertTrue(pinned > 0, "the scenes pin threads");
        assertEquals(journal.changes().size() - pinned + 1, recorded.size(),
                "each change recorded on its own, before it; the pinned threads in one write");
        assertIsolated(k);
        assertNotEquals(before, k.snapshot());

        isolation.giveBack(throughStateFile(journal));
        assertEquals(before, k.snapshot());
    }

    @Test
    void v1IsolatesFromTheRootAndFromOtherCpusets() throws Exception {
        appliesAndGivesBackExactly(() -> v1Host(true));
        FakeCgroupKernel k = v1Host(true);
        new CpusetIsolation(k, k.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { });
        assertEquals("1", k.read("/sys/fs/cgroup/cpuset/enclave/cpuset.cpu_exclusive"));
        assertEquals("201\n202", k.read("/sys/fs/cgroup/cpuset/enclave/tasks"));
        assertEquals("1", k.read("/sys/fs/cgroup/cpuset/docker/c1/cpuset.cpus"));
        assertEquals("0-1", k.read("/sys/fs/cgroup/cpuset/docker/cpuset.cpus"));
        assertEquals("2\n3", k.read("/sys/fs/cgroup/cpuset/tasks"), "only kernel threads stay in the root");
        assertEquals("0-1", k.allowed(203).format(), "the VMM's other threads leave the enclave CPUs too");
    }

    @Test
    void v2MakesAPartitionAndMovesTheVmmBackAfterwards() throws Exception {
        appliesAndGivesBackExactly(() -> v2Host(true));
        FakeCgroupKernel k = v2Host(true);
        new CpusetIsolation(k, k.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { });
        assertEquals("isolated", k.read("/sys/fs/cgroup/enclave/cpuset.cpus.partition"));
        assertEquals("threaded", k.read("/sys/fs/cgroup/enclave/cgroup.type"));
        assertEquals("/", k.cgroupOf(VMM, CgroupVersion.V2));
        assertEquals("0-1", k.read("/sys/fs/cgroup/cpuset.cpus.effective"));
    }

    @Test
    void v2NarrowsCgroupsThatListTheEnclaveCpus() throws Exception {
        appliesAndGivesBackExactly(() -> v2WithCpuset(true));
    }

    /** A VMM killed after recording change n (made or not) leaves what the next start gives back. */
    @Test
    void aCrashAtAnyStepLeavesNothingAfterTheNextStart() throws Exception {
        for (Supplier<FakeCgroupKernel> scene : List.<Supplier<FakeCgroupKernel>>of(() -> v1Host(true),
                () -> v2Host(true), () -> v2WithCpuset(true))) {
            FakeCgroupKernel whole = scene.get();
            int steps = new CpusetIsolation(whole, whole.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { })
                    .changes().size();
            for (int n = 1; n <= steps + 1; n++) {
                FakeCgroupKernel k = scene.get();
                String before = k.snapshot();
                AtomicReference<CpusetJournal> stateFile = new AtomicReference<>();
                int dieAt = n;
                try {
                    new CpusetIsolation(k, k.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> {
                        stateFile.set(j);
                        if (j.changes().size() >= dieAt) {
                            throw new Killed();
                        }
                    });
                } catch (Killed expected) {
                    // SIGKILL: nothing of the VMM runs after this
                }
                for (int tid : List.of(VMM, 201, 202, 203)) {
                    k.exit(tid);
                }
                new CpusetIsolation(k, k.support(), BOOT).giveBack(throughStateFile(stateFile.get()));
                FakeCgroupKernel expected = scene.get();
                for (int tid : List.of(VMM, 201, 202, 203)) {
                    expected.exit(tid);
                }
                assertEquals(expected.snapshot(), k.snapshot(), "killed at change " + n + " of " + steps);
                assertNotEquals(before, k.snapshot(), "the dead VMM's threads are gone");
            }
        }
    }

    @Test
    void aJournalFromAnotherBootIsNotUndone() throws Exception {
        FakeCgroupKernel k = v1Host(true);
        CpusetJournal journal = new CpusetIsolation(k, k.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { });
        String applied = k.snapshot();
        new CpusetIsolation(k, k.support(), "boot-2").giveBack(journal);
        assertEquals(applied, k.snapshot());
    }

    @Test
    void refusalsChangeNothing() {
        FakeCgroupKernel k = v1Host(true);
        String before = k.snapshot();
        CpusetIsolation isolation = new CpusetIsolation(k, k.support(), BOOT);
        EnclaveException cpu0 = assertThrows(EnclaveException.class,
                () -> isolation.apply(CpuList.parse("0-1"), VCPUS, VMM, j -> { }));
        assertSame(PlatformErrors.ISOLATION_UNSUPPORTED, cpu0.code());
        assertTrue(cpu0.getMessage().contains("CPU0 always stays with the primary"), cpu0.getMessage());

        EnclaveException absent = assertThrows(EnclaveException.class,
                () -> isolation.apply(CpuList.parse("3-4"), VCPUS, VMM, j -> { }));
        assertTrue(absent.getMessage().contains("CPU4 of the enclave"), absent.getMessage());

        FakeCgroupKernel tight = v1Host(true).group("/docker/c2", "3");
        String tightBefore = tight.snapshot();
        EnclaveException emptied = assertThrows(EnclaveException.class,
                () -> new CpusetIsolation(tight, tight.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { }));
        assertTrue(emptied.getMessage().contains("/sys/fs/cgroup/cpuset/docker/c2/cpuset.cpus holds only CPU3"),
                emptied.getMessage());
        assertEquals(tightBefore, tight.snapshot());

        FakeCgroupKernel taken = v2Host(true).group("/enclave", "");
        EnclaveException exists = assertThrows(EnclaveException.class,
                () -> new CpusetIsolation(taken, taken.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { }));
        assertTrue(exists.getMessage().contains("/sys/fs/cgroup/enclave exists"), exists.getMessage());
        assertEquals(before, k.snapshot());
    }

    @Test
    void aFailureHalfwayIsUndoneBeforeTheError() {
        // The kernel refuses to move vCPU thread 202 (as for a thread that is not ours to move).
        FakeCgroupKernel k = v2Host(true).kernelThread(202);
        String before = k.snapshot();
        EnclaveException e = assertThrows(EnclaveException.class,
                () -> new CpusetIsolation(k, k.support(), BOOT).apply(ENCLAVE, VCPUS, VMM, j -> { }));
        assertSame(PlatformErrors.CPUSET_CONTROL, e.code());
        assertTrue(e.getMessage().contains("cannot write '202' to /sys/fs/cgroup/enclave/cgroup.threads"),
                e.getMessage());
        assertEquals(before, k.snapshot());
    }

    @Test
    void nowhereToIsolateIsRefused() {
        FakeCgroupKernel k = v1Host(true);
        CpusetIsolation none = new CpusetIsolation(k, new CpusetSupport(null, null, "no cpuset here"), BOOT);
        EnclaveException e = assertThrows(EnclaveException.class, () -> none.apply(ENCLAVE, VCPUS, VMM, j -> { }));
        assertSame(PlatformErrors.ISOLATION_UNSUPPORTED, e.code());
        assertTrue(e.getMessage().contains("no cpuset here"), e.getMessage());
    }

    /** Stands for SIGKILL: an Error, which apply does not catch, so nothing is undone. */
    private static final class Killed extends Error {
    }
}
