package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.state.StatusReader;
import org.enclaveruntime.state.ErrorRecord;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.service.ControlClient;
import org.enclaveruntime.service.ControlProtocol;
import org.enclaveruntime.service.EnclaveService;
import org.enclaveruntime.service.LifecycleErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** `enclavectl stop`: shuts the enclave down, scrubs and returns its memory and CPUs. */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = "Stop the enclave: ask it to shut down, wait, then scrub and give back its memory and CPUs.",
        footer = {"", "Stopping an enclave that is not running is not an error (exit 0); after a crash, `stop` "
                + "cleans up what the dead VMM left."})
final class StopCommand implements Callable<Integer> {
    @ParentCommand
    EnclaveCtl parent;

    @Option(names = "--force", description = "Kill the VMM (SIGKILL) instead of asking the enclave to shut down.")
    boolean force;

    @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long the enclave may take to shut down before its vCPUs are stopped, 0..3600 (default: ${DEFAULT-VALUE}).")
    long graceSeconds;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (graceSeconds < 0 || graceSeconds > ControlProtocol.MAX_GRACE.toSeconds()) {
            throw new ParameterException(spec.commandLine(), "--grace must be 0.."
                    + ControlProtocol.MAX_GRACE.toSeconds() + " seconds, not " + graceSeconds);
        }
        Wiring wiring = Wiring.forCommand(parent.global).withLogging();
        String result = stop(wiring, force, Duration.ofSeconds(graceSeconds));
        PrintWriter out = spec.commandLine().getOut();
        output.print(out, Map.of("result", result, "state", EnclaveState.STOPPED), () -> result);
        return 0;
    }

    /** Stops whatever runs and returns one line saying what was done. Shared with `restart`. */
    static String stop(Wiring wiring, boolean force, Duration grace) {
        RunDirectory dir = wiring.runDirectory();
        EnclaveStatus status = new StatusReader(dir).read();
        switch (status.state()) {
            case STOPPED:
                return "enclave is not running";
            case CRASHED:
                return cleanUp(dir, status.lastError(), "cleaned up after the crashed enclave ("
                        + status.lastError().code() + ": " + status.lastError().message() + ")");
            default:
                break;
        }
        long pid = status.pid();
        if (force) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            awaitLockFree(wiring, pid, Duration.ofSeconds(10));
            return cleanUp(dir, null, "enclave stopped: VMM process " + pid + " killed");
        }
        Duration teardown = grace.plusSeconds(30);
        if (status.state() == EnclaveState.STARTING) {
            // The control socket opens once the enclave is ready; until then SIGTERM is the VMM's stop.
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            awaitLockFree(wiring, pid, teardown);
            return "enclave stopped before it was ready";
        }
        String outcome;
        try {
            outcome = new ControlClient(dir.controlSocket()).stop(grace);
        } catch (EnclaveException e) {
            if (e.code() == LifecycleErrors.STOP_TIMEOUT) {
                throw e;
            }
            // Another stop (or the enclave's own end) may be tearing it down: the socket is then gone or
            // closes on us. Wait for that to finish before calling it a failure.
            awaitLockFree(wiring, pid, teardown);
            EnclaveStatus after = new StatusReader(dir).read();
            if (after.state() == EnclaveState.STOPPED) {
                return "enclave stopped";
            }
            if (after.state() == EnclaveState.CRASHED) {
                return cleanUp(dir, after.lastError(), "the enclave ended while stopping ("
                        + after.lastError().message() + ")");
            }
            throw e;
        }
        awaitLockFree(wiring, pid, Duration.ofSeconds(30));
        return "enclave " + outcome;
    }

    /**
     * Records STOPPED and gives back what a dead VMM had reserved, holding the lock while doing so: two
     * stops, or a stop and a start, must never both give the same hugepages back.
     */
    private static String cleanUp(RunDirectory dir, ErrorRecord lastError, String done) {
        Optional<EnclaveLock> lock = EnclaveLock.tryAcquire(dir);
        if (lock.isEmpty()) {
            return "enclave is being handled by another process (pid "
                    + EnclaveLock.holder(dir.lockFile()).orElse(-1) + "); nothing done here";
        }
        try (EnclaveLock held = lock.get()) {
            StateFile stateFile = new StateFile(dir);
            StateRecord dead = stateFile.read().orElse(null);
            if (dead == null || dead.state() == EnclaveState.STOPPED) {
                return "enclave is not running";
            }
            stateFile.write(StateRecord.stopped(lastError));
            EnclaveService.reclaim(dead);
        }
        return done;
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
    private static void awaitLockFree(Wiring wiring, long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (EnclaveLock.holder(wiring.runDirectory().lockFile()).isPresent()
                || running(pid)) {
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
