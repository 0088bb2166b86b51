package org.enclaveruntime.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestTag;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the tests tagged {@code kvm} that ran, failed and were skipped, and writes one line to
 * target/kvm-tests.txt, which the build prints at the end of {@code mvn verify}: a reader sees at a glance
 * whether this host ran the real KVM tests or skipped them. Registered through META-INF/services.
 */
public final class KvmTestTally implements TestExecutionListener {
    private static final TestTag KVM = TestTag.create("kvm");
    // Static: Surefire may hand one JVM several test plans; the line covers them all.
    private static final AtomicInteger RUN = new AtomicInteger();
    private static final AtomicInteger FAILED = new AtomicInteger();
    private static final AtomicInteger SKIPPED = new AtomicInteger();

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        if (test.isTest() && test.getTags().contains(KVM)) {
            SKIPPED.incrementAndGet();
        }
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (test.isTest() && test.getTags().contains(KVM)) {
            RUN.incrementAndGet();
            if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
                FAILED.incrementAndGet();
            }
        }
    }

    @Override
    public void testPlanExecutionFinished(TestPlan plan) {
        String dir = System.getProperty("enclave.build.dir");
        if (dir == null) {
            return; // run outside Maven (an IDE): nothing to print at the end of a build
        }
        try {
            Files.writeString(Path.of(dir, "kvm-tests.txt"), line() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String line() {
        int run = RUN.get();
        int skipped = SKIPPED.get();
        String failed = FAILED.get() > 0 ? ", " + FAILED.get() + " failed" : "";
        if (skipped == 0) {
            return "KVM tests: " + run + " run" + failed + ", 0 skipped";
        }
        return "KVM tests: " + run + " run" + failed + ", " + skipped + " SKIPPED (no KVM device "
                + KvmCondition.device() + " on this host; -Denclave.requireKvm=true makes that a failure)";
    }
}
