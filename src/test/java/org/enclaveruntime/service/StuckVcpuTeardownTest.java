package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.kvm.Kvm;
import org.enclaveruntime.memory.MemoryBacking;
import org.enclaveruntime.platform.CpuList;
import org.enclaveruntime.platform.IsolationMode;
import org.enclaveruntime.platform.PageSize;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.testing.RequiresKvm;
import org.enclaveruntime.vmm.VmSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A teardown that cannot scrub is CRASHED with the reason, never STOPPED, and guest RAM is released once that
 * is safe. The stuck vCPU thread is real, not simulated: the guest (test-console-flood) writes to its console
 * without end, the console is a pipe nobody reads, so the vCPU thread blocks in the VMM's console write, where
 * no kick reaches it. Closing the pipe's reading end lets it go, and then guest RAM must be released.
 */
@RequiresKvm
class StuckVcpuTeardownTest {
    private static final Path GUESTS = Path.of(System.getProperty("enclave.build.dir", "target"), "guest");
    private static final long RAM = 64L << 20;

    @TempDir
    Path dir;

    @Test
    void aVcpuThreadThatWillNotStopMakesTheEndACrashAndItsMemoryIsReleasedOnceItEnds() throws Exception {
        Path fifo = dir.resolve("console.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        // Opening a pipe's reading end waits for its writer (the VMM's console): on a thread of its own.
        CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return new FileInputStream(fifo.toFile());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        byte[] elf = Files.readAllBytes(GUESTS.resolve("test-console-flood.elf"));
        Path kvm = Path.of(System.getProperty("enclave.kvm.device", Kvm.DEFAULT_DEVICE.toString()));
        RunDirectory run = new RunDirectory(dir.resolve("run"));
        PartitionPlan plan = new PartitionPlan(CpuList.empty(), RAM >> 20, PageSize.SIZE_4K, -1, List.of(),
                CpuList.empty(), 0, true, "test: no partition", null);
        EnclaveService.Launch launch = new EnclaveService.Launch(() -> plan,
                p -> new VmSpec(1, RAM, elf, true, fifo, 3, List.of(), MemoryBacking.ORDINARY, kvm),
                run, Duration.ofMinutes(5), "test-console-flood", Map.of(), null, IsolationMode.NONE);
        CountDownLatch ready = new CountDownLatch(1);
        CompletableFuture<EnclaveException> failed = new CompletableFuture<>();
        EnclaveService service = new EnclaveService(launch, new EnclaveService.Events() {
            @Override
            public void progress(String step) {
            }

            @Override
            public void ready(StateRecord running) {
                ready.countDown();
            }

            @Override
            public void failed(EnclaveException error) {
                failed.complete(error);
            }
        });
        CompletableFuture<Integer> vmm = CompletableFuture.supplyAsync(service::run);
        InputStream unread = reader.get(5, TimeUnit.MINUTES);
        try {
            assertTrue(ready.await(5, TimeUnit.MINUTES), "not ready: " + failed.getNow(null));
            awaitVcpuBlockedInPipeWrite();
            assertEquals(1, guestRamMappings(), "guest RAM is mapped while the enclave runs");

            String reply = new ControlClient(run.controlSocket()).stop(Duration.ofSeconds(1));
            assertTrue(reply.contains("vcpu-0 did not stop") && reply.contains("not scrubbed"), reply);
            assertEquals(LifecycleErrors.NOT_SCRUBBED.exitStatus().code(), vmm.get(2, TimeUnit.MINUTES));
            StateRecord after = new StateFile(run).read().orElseThrow();
            assertEquals(EnclaveState.CRASHED, after.state(), "never STOPPED: " + after);
            assertEquals("E457", after.lastError().code());
            assertTrue(after.lastError().message().contains("vcpu-0"), after.lastError().message());
            assertEquals(1, guestRamMappings(), "unmapping under the stuck thread would crash the VMM");
        } finally {
            unread.close(); // the console write fails (EPIPE), the vCPU thread sees the stop and ends
        }
        long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (guestRamMappings() != 0 && System.nanoTime() < bound) {
            Thread.sleep(20);
        }
        assertEquals(0, guestRamMappings(), "guest RAM released once the vCPU thread ended");
    }

    /** Waits until the vCPU thread sleeps in pipe_write: the pipe is full and the thread cannot be kicked. */
    private static void awaitVcpuBlockedInPipeWrite() throws Exception {
        long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < bound) {
            try (var tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    if (Files.readString(task.resolve("comm")).startsWith("vcpu-0")
                            && Files.readString(task.resolve("wchan")).contains("pipe_write")) {
                        return;
                    }
                }
            } catch (IOException threadEnded) {
                // a thread ended while we looked: look again
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the vCPU thread never blocked in the console write");
    }

    private static long guestRamMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("enclave-ram")).count();
    }
}
