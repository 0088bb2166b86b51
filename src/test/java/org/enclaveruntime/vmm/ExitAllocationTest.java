package org.enclaveruntime.vmm;

import org.enclaveruntime.devices.HypercallPorts;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.testing.RequiresKvm;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exits allocate nothing: the vCPU thread's allocated bytes (as HotSpot counts them for the thread) after
 * {@value #LONG} exits of one kind, minus the same after {@value #SHORT}, on a JVM that has run the same
 * guest once before (class loading and first-use set-up are done then).
 *
 * <p>The bound, {@value #BOUND} bytes for {@value #EXITS} exits, is under a fifth of a byte per exit:
 * anything allocated per exit, even one boxed Long (16 bytes), would be 1.6 MB. What it leaves room for is
 * the JVM's own one-off work on the thread while the longer loop runs (none was seen).
 */
@RequiresKvm
class ExitAllocationTest {
    private static final long RAM = 16L << 20;
    private static final int SHORT = 1_000;
    private static final int EXITS = 100_000;
    private static final int LONG = SHORT + EXITS;
    private static final long BOUND = 16 * 1024;
    private static final Duration DONE_TIMEOUT = Duration.ofMinutes(3);
    private static com.sun.management.ThreadMXBean threads;
    /** Keeps the JIT from proving the boxes of the control test unnecessary. */
    static volatile Object escape;

    @BeforeAll
    static void countAllocations() {
        threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "this JVM cannot count a thread's allocations");
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    /** Runs the guest to its DONE report and returns the vCPU thread's allocated bytes at that point. */
    private static long allocatedAfter(ExitLoopGuest.Kind kind, int n) throws Exception {
        VmSpec spec = new VmSpec(1, RAM, ExitLoopGuest.elf(kind, n), false, null, 3, List.of(),
                MemoryBacking.ORDINARY);
        Enclave e = VmBuilder.boot(spec);
        CompletableFuture<EnclaveExit> stop = null;
        try {
            if (kind == ExitLoopGuest.Kind.WAIT) {
                // The guest waits for the flag, then every WAIT returns at once.
                stop = CompletableFuture.supplyAsync(() -> e.shutdown(DONE_TIMEOUT.plusMinutes(1)));
            }
            long deadline = System.nanoTime() + DONE_TIMEOUT.toNanos();
            while (!done(e)) {
                assertTrue(e.exitIfEnded() == null, "the guest ended: " + e.exitIfEnded());
                assertTrue(System.nanoTime() < deadline, kind + ": no DONE report within " + DONE_TIMEOUT);
                Thread.sleep(5);
            }
            long bytes = threads.getThreadAllocatedBytes(e.vcpuThreads().get(0).getId());
            System.out.printf("  %s x %d: done after %d ms%n", kind, n, (System.nanoTime() - deadline
                    + DONE_TIMEOUT.toNanos()) / 1_000_000);
            assertTrue(bytes >= 0, "the vCPU thread must still be alive");
            if (kind == ExitLoopGuest.Kind.NOTIFY) {
                assertEquals(n, e.notifications(), "every 32-bit NOTIFY went to the ioeventfd");
            }
            return bytes;
        } finally {
            e.close();
            if (stop != null) {
                stop.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static boolean done(Enclave e) {
        List<HypercallPorts.Report> reports = e.reports();
        return !reports.isEmpty() && reports.get(reports.size() - 1).value() == ExitLoopGuest.DONE;
    }

    @ParameterizedTest
    @EnumSource(ExitLoopGuest.Kind.class)
    void exitsOfEveryKindAllocateNothing(ExitLoopGuest.Kind kind) throws Exception {
        allocatedAfter(kind, SHORT); // warm-up: first use of every class on this path
        long few = allocatedAfter(kind, SHORT);
        long many = allocatedAfter(kind, LONG);
        long growth = many - few;
        System.out.printf("%s: vCPU thread allocated %d bytes after %d exits, %d after %d: %+d for %d exits%n",
                kind, few, SHORT, many, LONG, growth, EXITS);
        assertTrue(growth <= BOUND, kind + ": " + growth + " bytes allocated for " + EXITS + " exits (bound "
                + BOUND + ")");
    }

    /** The test can fail: a REPORT handler that boxes its value is caught by the same measurement. */
    @Test
    void theMeasurementSeesAnAllocationPerExit() {
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < EXITS; i++) {
            escape = Long.valueOf(1000L + i); // what `LOG.debug("{}", value)` would cost per exit
        }
        long growth = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(growth > BOUND, "boxing " + EXITS + " values allocated only " + growth + " bytes");
    }
}
