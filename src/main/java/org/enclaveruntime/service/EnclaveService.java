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
import org.enclaveruntime.platform.CpusetIsolation;
import org.enclaveruntime.platform.CpusetJournal;
import org.enclaveruntime.platform.HugepageGrant;
import org.enclaveruntime.platform.HugepageReservation;
import org.enclaveruntime.platform.IsolationMode;
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
                         Duration bootTimeout, String image, Map<String, String> measurements, Path vsockSocket,
                         IsolationMode isolate) {
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
    private CpusetJournal cpuset;
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
                null, null, null, leftovers == null ? List.of() : leftovers)
                .withCpusetIsolation(previous.map(StateRecord::cpusetIsolation).orElse(null)));
        previous.ifPresent(EnclaveService::reclaim);
        write(record.withReservedHugepages(List.of()).withCpusetIsolation(null));
        ControlServer control;
        try {
            PartitionPlan plan = launch.planner().get();
            if (plan.hugepages().stream().anyMatch(need -> need.toAdd() > 0)) {
                requireNoStop();
                events.progress("reserving hugepages");
                // hugepages = auto may fall back from 1G to 2M pages here, so the VM is sized afterwards.
                HugepageReservation.Reserved reserved = hugepages.reserveOrFallBack(plan);
                plan = reserved.plan();
                grants = reserved.grants();
            }
            VmSpec vm = launch.vmFor().apply(plan);
            // Recorded before use: if this process dies from here on, the next start or stop gives them back.
            write(new StateRecord(EnclaveState.STARTING, pid, vm.cid(), plan.cpuIds().cpus(),
                    vm.memoryBytes() >> 20, plan.pageSize().toString(), launch.image(), launch.measurements(),
                    record.vsockSocket(), vm.consoleLog() == null ? null : vm.consoleLog().toString(), null, null,
                    grants));
            requireNoStop();
            events.progress("booting " + vm.vcpuCount() + " vCPU(s), " + (vm.memoryBytes() >> 20) + " MiB");
            enclave = VmBuilder.boot(vm);
            if (stopRequested) {
                enclave.shutdown(Duration.ZERO); // the stop came while the VM was being built
            }
            ReadyResult ready = enclave.awaitReady(launch.bootTimeout());
            if (!(ready instanceof ReadyResult.Ready)) {
                requireNoStop();
                throw bootFailure(ready, vm);
            }
            if (!plan.shared()) {
                confined = CpuAffinity.confineOtherThreads(plan.cpuIds(), vcpuThreadIds());
            }
            if (launch.isolate() == IsolationMode.CPUSET) {
                requireNoStop();
                events.progress("isolating CPU" + plan.cpuIds().format() + " (isolate = cpuset)");
                // Each change is in the state file before it is made; on failure apply undoes what it did.
                cpuset = CpusetIsolation.here().apply(plan.cpuIds(), vcpuThreadIds(), pid,
                        journal -> write(record.withCpusetIsolation(journal)));
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
                            record.reservedHugepages()).withCpusetIsolation(record.cpusetIsolation()));
                }
            }
            events.ready(record);
            return finish(enclave.awaitExit());
        } finally {
            // A stop waiting for the teardown gets its answer out before this process may exit: a stop that
            // raced with the enclave's own end would otherwise read a closed socket and report E450.
            tornDown.countDown();
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
        CpusetJournal left = releaseCpuset();
        int status = 0;
        synchronized (lifecycle) {
            finished = true;
            EnclaveEnding ending = EnclaveEnding.of(stopRequested, exit, enclave.leftBehind());
            outcome = ending.outcome();
            if (ending.crashed()) {
                log.error("{}", ending.error().toString());
                writeCrashed(ending.error(), left);
                status = ending.error().exitStatus().code();
            } else {
                write(StateRecord.stopped(null).withCpusetIsolation(left));
                log.info("enclave {}", outcome);
            }
        }
        giveBack();
        return status;
    }

    /**
     * CRASHED with the error. The hugepages go back right after (giveBack), so the record no longer lists them;
     * cpuset changes that could not be given back stay recorded for the next start or stop.
     */
    private void writeCrashed(EnclaveException error, CpusetJournal left) {
        write(record.withState(EnclaveState.CRASHED).withLastError(ErrorRecord.of(error))
                .withReservedHugepages(List.of()).withCpusetIsolation(left));
    }

    /** Undoes a start that failed (or was stopped) after the lock was taken, and records why. */
    private void abandon(EnclaveException e) {
        if (enclave != null) {
            enclave.close();
        }
        CpusetJournal left = releaseCpuset();
        synchronized (lifecycle) {
            finished = true;
            outcome = stopRequested ? "stopped before it was ready" : "failed to start: " + e.getMessage();
            Optional<String> leftBehind = enclave == null ? Optional.empty() : enclave.leftBehind();
            if (leftBehind.isPresent()) {
                outcome += ", but " + leftBehind.get();
                writeCrashed(new EnclaveException(LifecycleErrors.NOT_SCRUBBED, "the enclave " + outcome), left);
            } else {
                write(StateRecord.stopped(stopRequested ? null : ErrorRecord.of(e)).withCpusetIsolation(left));
            }
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

    /**
     * Gives the enclave's CPUs back to every task, before the final state is written: unlike hugepages, a
     * cpuset change left behind keeps the primary off CPUs, while undoing one twice changes nothing.
     *
     * @return null when everything was given back, else the changes for the next start or stop to retry
     */
    private CpusetJournal releaseCpuset() {
        CpusetJournal done = cpuset;
        cpuset = null;
        if (done == null) {
            return null;
        }
        try {
            CpusetIsolation.here().giveBack(done);
            return null;
        } catch (EnclaveException e) {
            log.error("{}", e.toString());
            return done;
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
        reclaimCpuset(previous);
        List<HugepageGrant> left = previous.reservedHugepages();
        if (left != null && !left.isEmpty()) {
            log.info("giving back hugepages left by VMM {}: {}", previous.pid(), left);
            new HugepageReservation(Path.of("/")).releaseAll(left);
        }
    }

    /**
     * Gives back the cpuset changes a dead VMM recorded. Undoing a change twice is harmless, so unlike
     * hugepages this may (and should) happen before the record that lists them is replaced.
     */
    public static void reclaimCpuset(StateRecord previous) {
        CpusetJournal cpuset = previous.cpusetIsolation();
        if (cpuset != null && !cpuset.changes().isEmpty()) {
            log.info("giving back the cpuset changes left by VMM {}: {}", previous.pid(), cpuset.changes());
            CpusetIsolation.here().giveBack(cpuset);
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

    private EnclaveException bootFailure(ReadyResult result, VmSpec vm) {
        if (result instanceof ReadyResult.Ended ended) {
            return new EnclaveException(LifecycleErrors.BOOT_FAILED, "the enclave " + describe(ended.exit())
                    + " before it was ready");
        }
        List<String> registers = enclave.stopAndReadRegisters("not ready within boot_timeout");
        Path console = vm.debug() ? vm.consoleLog() : null;
        return new EnclaveException(LifecycleErrors.BOOT_TIMEOUT,
                BootTimeoutReport.of(launch.bootTimeout(), registers, console).message());
    }

    /** How an ending reads in a status line or an error message: "crashed: #PF page fault at rip=0x100000, cr2=0x0, ... on vCPU 0". */
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
