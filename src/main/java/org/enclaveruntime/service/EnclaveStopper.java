package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.ErrorRecord;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.state.StatusReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Stops the enclave of one run directory, whatever state it is in: asks a ready VMM through the control
 * socket, sends SIGTERM to one still booting (its stop then undoes the start), kills one on --force, and cleans
 * up after a VMM that died (CRASHED) by giving back what its state file records.
 *
 * <p>It needs nothing but the run directory, and copes with a state file that cannot be read (E304): the VMM is
 * then found through the lock alone, and the damaged file is set aside and replaced by a STOPPED record.
 */
public final class EnclaveStopper {
    private static final Logger log = LoggerFactory.getLogger(EnclaveStopper.class);
    /** How long a killed VMM may take to disappear from the process table and /proc/locks. */
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    /** Beyond the grace, how long a teardown (scrub, free, state) may take before the VMM counts as stuck. */
    private static final Duration TEARDOWN_MARGIN = Duration.ofSeconds(30);

    /** What a clean-up under the lock found. */
    private enum Cleanup { NOTHING_TO_DO, CLEANED, DAMAGED_SET_ASIDE, BUSY }

    /** Stops whatever runs and returns one line saying what was done. */
    public String stop(StopRequest request) {
        RunDirectory dir = request.runDir();
        EnclaveStatus status;
        try {
            status = new StatusReader(dir).read();
        } catch (EnclaveException e) {
            if (e.code() != StateErrors.STATE_FILE) {
                throw e;
            }
            return stopWithDamagedState(request, e);
        }
        switch (status.state()) {
            case STOPPED:
                return "enclave is not running";
            case CRASHED:
                return say(cleanUp(dir, status.lastError()), dir, "cleaned up after the crashed enclave ("
                        + status.lastError().code() + ": " + status.lastError().message() + ")");
            default:
                break;
        }
        long pid = status.pid();
        if (request.force()) {
            kill(pid);
            awaitVmmGone(dir, pid, KILL_WAIT);
            return say(cleanUp(dir, null), dir, "enclave stopped: VMM process " + pid + " killed");
        }
        Duration teardown = request.grace().plus(TEARDOWN_MARGIN);
        if (status.state() == EnclaveState.STARTING) {
            // The control socket opens once the enclave is ready; until then SIGTERM is the VMM's stop.
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            awaitVmmGone(dir, pid, teardown);
            requireScrubbed(dir);
            return "enclave stopped before it was ready";
        }
        String outcome;
        try {
            outcome = new ControlClient(dir.controlSocket()).stop(request.grace());
        } catch (EnclaveException e) {
            if (e.code() == LifecycleErrors.STOP_TIMEOUT) {
                throw e;
            }
            // Another stop (or the enclave's own end) may be tearing it down: the socket is then gone or
            // closes on us. Wait for that to finish before calling it a failure.
            awaitVmmGone(dir, pid, teardown);
            EnclaveStatus after = new StatusReader(dir).read();
            if (after.state() == EnclaveState.STOPPED) {
                return "enclave stopped";
            }
            if (after.state() == EnclaveState.CRASHED) {
                return say(cleanUp(dir, after.lastError()), dir, "the enclave ended while stopping ("
                        + after.lastError().message() + ")");
            }
            throw e;
        }
        awaitVmmGone(dir, pid, TEARDOWN_MARGIN);
        requireScrubbed(dir);
        return "enclave " + outcome;
    }

    /**
     * After a stop the VMM asked for, CRASHED means its teardown could not scrub guest RAM (a vCPU thread would
     * not stop): not a clean stop. The next stop or start cleans up after it.
     */
    private static void requireScrubbed(RunDirectory dir) {
        EnclaveStatus after = new StatusReader(dir).read();
        if (after.state() == EnclaveState.CRASHED && after.lastError() != null
                && after.lastError().code().equals(LifecycleErrors.NOT_SCRUBBED.id())) {
            throw new EnclaveException(LifecycleErrors.NOT_SCRUBBED, after.lastError().message());
        }
    }

    /**
     * A state file that cannot be read does not say which VMM runs or what it reserved; the lock still says
     * whether one runs, and which. That VMM is stopped (or killed) by its pid, and the file set aside.
     */
    private String stopWithDamagedState(StopRequest request, EnclaveException damage) {
        RunDirectory dir = request.runDir();
        log.warn("{}; stopping by the lock alone", damage.getMessage());
        OptionalLong holder = EnclaveLock.holder(dir.lockFile());
        String what = "no VMM was running";
        if (holder.isPresent()) {
            long pid = holder.getAsLong();
            if (request.force()) {
                kill(pid);
                awaitVmmGone(dir, pid, KILL_WAIT);
                what = "VMM process " + pid + " killed";
            } else {
                askToStop(dir, pid, request.grace());
                awaitVmmGone(dir, pid, request.grace().plus(TEARDOWN_MARGIN));
                what = "VMM process " + pid + " stopped";
            }
        }
        Cleanup done = cleanUp(dir, null);
        if (done == Cleanup.NOTHING_TO_DO) {
            // The VMM's own teardown replaced the damaged file with a STOPPED record.
            return "enclave stopped (" + what + ")";
        }
        return say(done, dir, "enclave stopped (" + what + ")");
    }

    /** Without a readable state it is unknown whether the VMM is ready; the socket exists only once it is. */
    private static void askToStop(RunDirectory dir, long pid, Duration grace) {
        if (Files.exists(dir.controlSocket())) {
            try {
                new ControlClient(dir.controlSocket()).stop(grace);
                return;
            } catch (EnclaveException e) {
                log.info("the control socket did not take the stop ({}); sending SIGTERM", e.getMessage());
            }
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    }

    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private static String say(Cleanup done, RunDirectory dir, String cleaned) {
        return switch (done) {
            case NOTHING_TO_DO -> "enclave is not running";
            case CLEANED -> cleaned;
            case DAMAGED_SET_ASIDE -> cleaned + "; the unreadable state file was set aside as "
                    + dir.damagedStateFile() + " (hugepages it may have recorded as reserved were not given back: "
                    + "compare /proc/sys/vm/nr_hugepages with what you expect)";
            case BUSY -> "enclave is being handled by another process (pid "
                    + EnclaveLock.holder(dir.lockFile()).orElse(-1) + "); nothing done here";
        };
    }

    /**
     * Records STOPPED and gives back what a dead VMM had reserved, holding the lock while doing so: two
     * stops, or a stop and a start, must never both give the same hugepages back. A state file that cannot be
     * read is set aside: what it recorded is lost, and the new record says so.
     */
    private static Cleanup cleanUp(RunDirectory dir, ErrorRecord lastError) {
        Optional<EnclaveLock> lock = EnclaveLock.tryAcquire(dir);
        if (lock.isEmpty()) {
            return Cleanup.BUSY;
        }
        try (EnclaveLock held = lock.get()) {
            StateFile stateFile = new StateFile(dir);
            StateRecord dead;
            try {
                dead = stateFile.read().orElse(null);
            } catch (EnclaveException e) {
                if (e.code() != StateErrors.STATE_FILE) {
                    throw e;
                }
                stateFile.setAside(dir.damagedStateFile());
                stateFile.write(StateRecord.stopped(ErrorRecord.of(StateErrors.STATE_FILE.id(), e.getMessage()
                        + "; set aside as " + dir.damagedStateFile() + " by `stop`, which could not give back "
                        + "hugepages it may have recorded")));
                return Cleanup.DAMAGED_SET_ASIDE;
            }
            if (dead == null || dead.state() == EnclaveState.STOPPED) {
                return Cleanup.NOTHING_TO_DO;
            }
            // Cpusets first: their undo may run twice, so a stop killed after it loses nothing; hugepages only
            // after the record no longer lists them, as giving those back twice could take someone else's.
            EnclaveService.reclaimCpuset(dead);
            stateFile.write(StateRecord.stopped(lastError));
            EnclaveService.reclaim(dead.withCpusetIsolation(null));
        }
        return Cleanup.CLEANED;
    }

    /**
     * Whether the process still runs. A process that has exited but not been reaped yet (a zombie: the VMM's
     * parent, `start`, is gone, and whoever inherited it reaps when it gets round to it, 1.2 s later in our
     * containers) holds no memory, file or CPU any more, so it counts as exited, where ProcessHandle.isAlive
     * would count it as alive. Unless it is our own child (`start` and `stop` in one JVM, as in the tests):
     * then the JDK's reaper collects it at once, and waiting for that keeps isAlive true to its word.
     */
    static boolean running(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        // "pid (comm) S ppid ...": comm may contain anything, so the fields start after the last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 1).trim().split(" ", 3);
        boolean exited = fields[0].equals("Z") || fields[0].equals("X");
        boolean ourChild = fields.length > 1 && fields[1].equals(Long.toString(ProcessHandle.current().pid()));
        return !exited || ourChild;
    }

    /** Returns once the VMM has released the lock and its process has exited: no orphan outlives stop. */
    private static void awaitVmmGone(RunDirectory dir, long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (EnclaveLock.holder(dir.lockFile()).isPresent() || running(pid)) {
            if (System.nanoTime() > deadline) {
                throw new EnclaveException(LifecycleErrors.STOP_TIMEOUT, "the VMM process " + pid
                        + " still runs " + timeout.toSeconds() + " s after it was asked to stop");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
