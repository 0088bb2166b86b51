package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.vmm.Enclave;
import org.enclaveruntime.vmm.EnclaveExit;
import org.enclaveruntime.vmm.ReadyResult;
import org.enclaveruntime.vmm.VmBuilder;
import org.enclaveruntime.vmm.VmSpec;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.ErrorRecord;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.enclaveruntime.platform.CpuAffinity;
import org.enclaveruntime.platform.HugepageGrant;
import org.enclaveruntime.platform.HugepageReservation;
import org.enclaveruntime.platform.PartitionPlan;
import org.enclaveruntime.platform.ThreadAffinity;

import java.io.IOException;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.Set;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs one enclave for the life of the VMM process: takes the lock, records each state, boots the enclave,
 * serves the control socket, and tears everything down when asked (control socket, SIGTERM) or when the
 * enclave ends by itself. Every step either completes or is undone before the error is reported.
 */
public final class EnclaveService {
    private static final Logger log = LoggerFactory.getLogger(EnclaveService.class);
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(5);

    /** What the process that started the VMM is told. */
    public interface Events {
        void progress(String step);

        void ready(StateRecord running);

        void failed(EnclaveException error);

        /** A stop has begun (control socket or SIGTERM); the teardown follows. */
        default void stopping() {
        }
    }

    /**
     * Everything one enclave needs, resolved from the configuration and the image. The partition plan is
     * made only once the lock is held and a dead predecessor's hugepages are back in the pool: planned
     * earlier, those leftovers would look like free pages that are about to vanish.
     */
    public record Launch(Supplier<PartitionPlan> planner, Function<PartitionPlan, VmSpec> vmFor, RunDirectory runDir,
                         Duration bootTimeout, String image, Map<String, String> measurements, Path vsockSocket) {
    }

    private final Launch launch;
    private final Events events;
    private final StateFile stateFile;
    private final CountDownLatch tornDown = new CountDownLatch(1);
    private final HugepageReservation hugepages = new HugepageReservation(Path.of("/"));
    /**
     * Guards the state file and the decision how the enclave ended. A stop (control socket, SIGTERM) and the
     * enclave's own end can race; whichever writes first decides, and nothing is written after the final state.
     */
    private final Object lifecycle = new Object();
    private volatile boolean stopRequested;
    private boolean finished;
    private StateRecord record;
    private List<HugepageGrant> grants = List.of();
    private List<ThreadAffinity> confined = List.of();
    private volatile Enclave enclave;
    private volatile String outcome = "stopped";

    public EnclaveService(Launch launch, Events events) {
        this.launch = launch;
        this.events = events;
        this.stateFile = new StateFile(launch.runDir());
    }

    /** Runs the enclave until it ends; returns the process exit status (8 when the enclave crashed). */
    public int run() {
        try (EnclaveLock lock = EnclaveLock.acquire(launch.runDir())) {
            // From here on SIGTERM is a stop, during boot too: the start is then undone, not abandoned midway.
            Thread hook = new Thread(() -> stop(DEFAULT_GRACE), "sigterm");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                return runLocked();
            } finally {
                tornDown.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook itself is what brought us here
                }
            }
        } catch (EnclaveException e) {
            events.failed(e);
            return e.exitStatus().code();
        }
    }

    private int runLocked() {
        long pid = ProcessHandle.current().pid();
        Optional<StateRecord> previous = stateFile.read();
        List<HugepageGrant> leftovers = previous.map(StateRecord::reservedHugepages).orElse(List.of());
        // The predecessor's grants stay recorded until they are given back, so a death in between loses nothing.
        write(new StateRecord(EnclaveState.STARTING, pid, null, null, null, null, launch.image(),
                launch.measurements(), launch.vsockSocket() == null ? null : launch.vsockSocket().toString(),
                null, null, null, leftovers == null ? List.of() : leftovers));
        previous.ifPresent(EnclaveService::reclaim);
        write(record.withReservedHugepages(List.of()));
        ControlServer control;
        try {
            PartitionPlan plan = launch.planner().get();
            VmSpec vm = launch.vmFor().apply(plan);
            write(new StateRecord(EnclaveState.STARTING, pid, vm.cid(), plan.cpuIds().cpus(),
                    vm.memoryBytes() >> 20, plan.pageSize().toString(), launch.image(), launch.measurements(),
                    record.vsockSocket(), vm.consoleLog() == null ? null : vm.consoleLog().toString(), null, null,
                    List.of()));
            if (plan.hugepages().stream().anyMatch(need -> need.toAdd() > 0)) {
                requireNoStop();
                events.progress("reserving hugepages");
                // Recorded before use: if this process dies from here on, the next start or stop gives them back.
                grants = hugepages.reserve(plan);
                write(record.withReservedHugepages(grants));
            }
            requireNoStop();
            events.progress("booting " + vm.vcpuCount() + " vCPU(s), " + (vm.memoryBytes() >> 20) + " MiB");
            enclave = VmBuilder.boot(vm);
            if (stopRequested) {
                enclave.shutdown(Duration.ZERO); // the stop came while the VM was being built
            }
            ReadyResult ready = enclave.awaitReady(launch.bootTimeout());
            if (!(ready instanceof ReadyResult.Ready)) {
                requireNoStop();
                throw bootFailure(ready);
            }
            if (!plan.shared()) {
                confined = CpuAffinity.confineOtherThreads(plan.cpuIds(), vcpuThreadIds());
            }
            control = new ControlServer(launch.runDir().controlSocket(), this::stop);
        } catch (EnclaveException e) {
            abandon(e);
            return e.exitStatus().code();
        } catch (IOException e) {
            abandon(new EnclaveException(LifecycleErrors.DAEMON,
                    "cannot open the control socket " + launch.runDir().controlSocket() + ": " + e.getMessage(), e));
            return LifecycleErrors.DAEMON.exitStatus().code();
        } catch (RuntimeException e) {
            abandon(new EnclaveException(GeneralErrors.INTERNAL, "start failed unexpectedly: " + e, e));
            return GeneralErrors.INTERNAL.exitStatus().code();
        }
        try {
            synchronized (lifecycle) {
                if (!stopRequested) {
                    write(new StateRecord(EnclaveState.RUNNING, pid, record.cid(), record.cpuIds(),
                            record.memoryMib(), record.pageSize(), record.image(), record.measurements(),
                            record.vsockSocket(), record.consoleLog(), Instant.now().toString(), null,
                            record.reservedHugepages()));
                }
            }
            events.ready(record);
            return finish(enclave.awaitExit());
        } finally {
            control.close();
        }
    }

    /** Control socket or SIGTERM: ask the guest to stop, wait for the teardown, say how it ended. */
    private String stop(Duration grace) {
        boolean first;
        synchronized (lifecycle) {
            first = !stopRequested && !finished;
            if (first) {
                stopRequested = true;
                try {
                    write(record.withState(EnclaveState.STOPPING));
                } catch (EnclaveException e) {
                    // The stop must happen even if the state cannot be written.
                    log.warn("cannot record STOPPING: {}", e.toString());
                }
            }
        }
        if (first) {
            events.stopping();
            log.info("stopping the enclave (grace {} ms)", grace.toMillis());
            Enclave running = enclave;
            if (running != null) {
                running.shutdown(grace);
            }
        }
        try {
            tornDown.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return outcome;
    }

    /**
     * Records how the enclave ended and gives back what it held; returns the process exit status. The final
     * state is written before the hugepages go back: should this process die in between, the pages stay
     * reserved (a leak an operator can see) rather than being given back twice (which could take pages
     * another user has reserved since).
     */
    private int finish(EnclaveExit exit) {
        enclave.close();
        int status = 0;
        synchronized (lifecycle) {
            finished = true;
            if (stopRequested) {
                outcome = "stopped (" + describe(exit) + ")";
                write(StateRecord.stopped(null));
                log.info("enclave {}", outcome);
            } else if (exit instanceof EnclaveExit.CleanShutdown clean && clean.code() == 0) {
                outcome = "exited";
                write(StateRecord.stopped(null));
                log.info("enclave shut down by itself");
            } else {
                outcome = describe(exit);
                EnclaveException crash = new EnclaveException(LifecycleErrors.CRASHED, "the enclave " + outcome);
                log.error("{}", crash.toString());
                write(record.withState(EnclaveState.CRASHED).withLastError(ErrorRecord.of(crash))
                        .withReservedHugepages(List.of()));
                status = crash.exitStatus().code();
            }
        }
        giveBack();
        return status;
    }

    /** Undoes a start that failed (or was stopped) after the lock was taken, and records why. */
    private void abandon(EnclaveException e) {
        if (enclave != null) {
            enclave.close();
        }
        synchronized (lifecycle) {
            finished = true;
            outcome = stopRequested ? "stopped before it was ready" : "failed to start: " + e.getMessage();
            write(StateRecord.stopped(stopRequested ? null : ErrorRecord.of(e)));
        }
        giveBack();
        log.error("start failed: {}", e.toString());
        events.failed(e);
    }

    private void requireNoStop() {
        if (stopRequested) {
            throw new EnclaveException(LifecycleErrors.BOOT_FAILED, "a stop was requested before the enclave was ready");
        }
    }

    /** Every state change goes through here, under the lifecycle monitor, so writes never interleave. */
    private void write(StateRecord next) {
        synchronized (lifecycle) {
            stateFile.write(next);
            record = next;
        }
    }

    /** Returns the hugepages this VMM added and lets the VMM's other threads use every CPU again. */
    private void giveBack() {
        CpuAffinity.restore(confined);
        confined = List.of();
        hugepages.releaseAll(grants);
        grants = List.of();
    }

    /**
     * Gives back what a VMM that died had recorded as reserved. Called by the next start, and by stop
     * after a crash, always while holding the lock or after the holder is gone.
     */
    public static void reclaim(StateRecord previous) {
        List<HugepageGrant> left = previous.reservedHugepages();
        if (left != null && !left.isEmpty()) {
            log.info("giving back hugepages left by VMM {}: {}", previous.pid(), left);
            new HugepageReservation(Path.of("/")).releaseAll(left);
        }
    }

    /** The kernel thread ids of the vCPU threads, found by the names the VMM gives them. */
    private static Set<Integer> vcpuThreadIds() {
        Set<Integer> ids = new HashSet<>();
        for (int tid : CpuAffinity.threadsOfThisProcess()) {
            try {
                if (Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).startsWith("vcpu-")) {
                    ids.add(tid);
                }
            } catch (IOException gone) {
                // the thread ended while we looked: nothing to keep
            }
        }
        return ids;
    }

    private EnclaveException bootFailure(ReadyResult result) {
        if (result instanceof ReadyResult.Ended ended) {
            return new EnclaveException(LifecycleErrors.BOOT_FAILED, "the enclave " + describe(ended.exit())
                    + " before it was ready");
        }
        return new EnclaveException(LifecycleErrors.BOOT_TIMEOUT, "the enclave did not report READY within "
                + launch.bootTimeout().toMillis() + " ms");
    }

    /** How an ending reads in a status line or an error message: "crashed: triple fault on vCPU 0". */
    static String describe(EnclaveExit exit) {
        if (exit instanceof EnclaveExit.CleanShutdown clean) {
            return "shut down by itself with exit code " + clean.code();
        } else if (exit instanceof EnclaveExit.Stopped stopped) {
            return stopped.forced() ? "did not shut down in time; its vCPUs were stopped" : "shut down cleanly";
        } else if (exit instanceof EnclaveExit.Crashed crashed) {
            return "crashed: " + crashed.reason() + " on vCPU " + crashed.vcpu();
        } else if (exit instanceof EnclaveExit.Panicked panicked) {
            return "panicked: " + panicked.message();
        } else if (exit instanceof EnclaveExit.Failed failed) {
            return "failed: " + failed.reason();
        }
        return exit.toString();
    }
}
