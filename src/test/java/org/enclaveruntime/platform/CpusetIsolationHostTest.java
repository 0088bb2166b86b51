package org.enclaveruntime.platform;

import org.enclaveruntime.linux.Native;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.testing.CpusetView;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * isolate = cpuset on this machine's real cgroups (v1 on the development host, v2 in the nested harness),
 * without an enclave: CPU1 goes to one thread of this JVM standing for a vCPU, then back. For that second
 * every other task of the machine runs on the other CPUs. Needs root and a second CPU.
 */
class CpusetIsolationHostTest {
    private static final CpuList CPU1 = CpuList.of(1);

    @Test
    void cpu1GoesToOneThreadAloneAndEverythingComesBack() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to change cgroups");
        CpusetSupport where = CpusetSupport.detect();
        Assumptions.assumeTrue(where.available(), where.reason());
        Assumptions.assumeTrue(TopologyReader.read().onlineCpus().containsAll(CpuList.parse("0-1")), "needs CPU0-1");

        Process sleep = new ProcessBuilder("sleep", "300").start();
        Process pinned = new ProcessBuilder("taskset", "-c", "0", "sleep", "300").start();
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Integer> vcpuTid = new CompletableFuture<>();
        Thread vcpu = new Thread(() -> {
            CpuAffinity.pinCurrentThread(CPU1);
            vcpuTid.complete(Native.gettid());
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "vcpu-test");
        vcpu.start();
        int tid = vcpuTid.get(120, TimeUnit.SECONDS); // loading JNR takes seconds in the nested harness
        long self = ProcessHandle.current().pid();
        Thread.sleep(100); // taskset has exec'd sleep by now

        String treeBefore = CpusetView.tree();
        Map<String, CpuList> before = watched(sleep, pinned, self, tid);
        CpusetIsolation isolation = CpusetIsolation.here();
        AtomicReference<CpusetJournal> stateFile = new AtomicReference<>();
        Map<String, CpuList> after;
        try {
            CpusetJournal journal = isolation.apply(CPU1, Set.of(tid), self, stateFile::set);
            System.out.println("isolate = cpuset on " + where.mount() + ": " + journal.changes().size()
                    + " changes: " + journal.changes());
            assertEquals(journal, stateFile.get());
            Process later = new ProcessBuilder("sleep", "300").start();
            try {
                for (Map.Entry<String, CpuList> e : watched(sleep, pinned, self, tid).entrySet()) {
                    if (e.getKey().equals("vcpu")) {
                        assertEquals(CPU1, e.getValue(), "the vCPU thread runs on its CPU alone");
                    } else {
                        assertTrue(e.getValue().intersect(CPU1).isEmpty(), e.getKey() + " may run on " + e.getValue());
                        assertTrue(!e.getValue().isEmpty(), e.getKey());
                    }
                }
                assertTrue(CpusetView.allowed(later.pid()).intersect(CPU1).isEmpty(), "a process started meanwhile");
            } finally {
                later.destroyForcibly();
            }
            isolation.giveBack(throughStateFile(journal));
            after = watched(sleep, pinned, self, tid);
        } finally {
            isolation.giveBack(stateFile.get()); // undoing twice changes nothing; here it only matters on failure
            release.countDown();
            sleep.destroyForcibly();
            pinned.destroyForcibly();
        }
        assertEquals(treeBefore, CpusetView.tree());
        before.keySet().retainAll(after.keySet());
        after.keySet().retainAll(before.keySet());
        assertEquals(before, after, "every task may run where it could before, a pinned one included");
        assertTrue(after.containsKey("sleep") && after.containsKey("pinned sleep") && after.containsKey("vcpu"));
    }

    /** Where the tasks the test watches may run: PID 1's threads, two sleeps, this JVM's threads. */
    private static Map<String, CpuList> watched(Process sleep, Process pinned, long self, int vcpuTid)
            throws Exception {
        Map<String, CpuList> m = new java.util.TreeMap<>();
        m.put("sleep", CpusetView.allowed(sleep.pid()));
        m.put("pinned sleep", CpusetView.allowed(pinned.pid()));
        CpusetView.threads(1).forEach((t, cpus) -> m.put("pid 1 thread " + t, cpus));
        for (Map.Entry<Integer, CpuList> t : CpusetView.threads(self).entrySet()) {
            if (t.getKey() == vcpuTid) {
                m.put("vcpu", t.getValue());
            } else if (List.of("main", "java").contains(CpusetView.name(self, t.getKey()))) {
                m.put("jvm main thread", t.getValue());
            }
        }
        return m;
    }

    private static CpusetJournal throughStateFile(CpusetJournal j) throws Exception {
        StateRecord r = new StateRecord(EnclaveState.RUNNING, 1L, null, null, null, null, null, null, null, null,
                null, null, List.of(), j);
        Path file = Files.createTempFile("state", ".json");
        try {
            Files.write(file, StateJson.toBytes(r));
            return StateJson.parse(Files.readAllBytes(file)).cpusetIsolation();
        } finally {
            Files.delete(file);
        }
    }
}
