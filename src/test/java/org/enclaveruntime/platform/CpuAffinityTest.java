package org.enclaveruntime.platform;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.Native;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real pinning on this machine, read back from /proc. Needs at least 2 online CPUs. */
class CpuAffinityTest {
    private static final CpuList ONLINE = TopologyReader.read().onlineCpus();
    private static final int LAST = ONLINE.cpus().get(ONLINE.size() - 1);

    @Test
    void pinsAThreadAndProcShowsIt() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        Thread vcpu = new Thread(() -> {
            try {
                int tid = Native.gettid();
                CpuAffinity.pinCurrentThread(CpuList.of(LAST));
                assertEquals(CpuList.of(LAST), CpuAffinity.ofCurrentThread());
                seen.complete(cpusAllowed(tid));
            } catch (Throwable t) {
                seen.completeExceptionally(t);
            }
        }, "vcpu-0");
        vcpu.start();
        assertEquals(String.valueOf(LAST), seen.get(10, TimeUnit.SECONDS));
        vcpu.join();
    }

    @Test
    void refusesACpuThatDoesNotExist() {
        int tid = Native.gettid();
        CpuList before = CpuAffinity.ofCurrentThread();
        int absent = LAST + 64;
        EnclaveException e = assertThrows(EnclaveException.class, () -> CpuAffinity.pin(tid, CpuList.of(absent)));
        assertSame(PlatformErrors.AFFINITY, e.code());
        assertTrue(e.getMessage().contains("CPU" + absent), e.getMessage());
        assertTrue(e.getMessage().contains("online: " + ONLINE.format()), e.getMessage());
        assertEquals(before, CpuAffinity.ofCurrentThread(), "a refused pin changes nothing");

        e = assertThrows(EnclaveException.class, () -> CpuAffinity.pin(tid, CpuList.of(5000)));
        assertTrue(e.getMessage().contains("0-1023"), e.getMessage());
    }

    @Test
    void keepsTheOtherThreadsOffTheEnclaveCpus() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger helperTid = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(1);
        Thread helper = new Thread(() -> {
            helperTid.set(Native.gettid());
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "vmm-event-loop");
        helper.start();
        started.await();
        int me = Native.gettid();
        CpuList helperBefore = CpuAffinity.of(helperTid.get());
        try {
            List<ThreadAffinity> changed = List.of();
            try {
                changed = CpuAffinity.confineOtherThreads(CpuList.of(LAST), Set.of(me));
                assertEquals(ONLINE.minus(CpuList.of(LAST)).format(), cpusAllowed(helperTid.get()));
                assertTrue(CpuAffinity.of(me).contains(LAST), "the kept thread is untouched");
                assertTrue(changed.stream().anyMatch(t -> t.tid() == helperTid.get()));
                assertFalse(changed.stream().anyMatch(t -> t.tid() == me));
            } finally {
                CpuAffinity.restore(changed);
            }
            assertEquals(helperBefore.format(), cpusAllowed(helperTid.get()));
        } finally {
            release.countDown();
        }
        helper.join();
    }

    private static String cpusAllowed(int tid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring("Cpus_allowed_list:".length()).strip();
            }
        }
        throw new IllegalStateException("no Cpus_allowed_list for thread " + tid);
    }
}
