package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.state.StatusReader;
import org.enclaveruntime.vmm.ControlClient;
import org.enclaveruntime.vmm.EnclaveService;
import org.enclaveruntime.vmm.LifecycleErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
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
            description = "How long the enclave may take to shut down before its vCPUs are stopped (default: ${DEFAULT-VALUE}).")
    long graceSeconds;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Wiring wiring = Wiring.forCommand(parent.global).withLogging();
        String result = stop(wiring, force, Duration.ofSeconds(Math.max(0, graceSeconds)));
        PrintWriter out = spec.commandLine().getOut();
        output.print(out, Map.of("result", result, "state", EnclaveState.STOPPED), () -> result);
        return 0;
    }

    /** Stops whatever runs and returns one line saying what was done. Shared with `restart`. */
    static String stop(Wiring wiring, boolean force, Duration grace) {
        EnclaveStatus status = new StatusReader(wiring.runDirectory()).read();
        StateFile stateFile = new StateFile(wiring.runDirectory());
        switch (status.state()) {
            case STOPPED:
                return "enclave is not running";
            case CRASHED:
                StateRecord dead = stateFile.read().orElseThrow();
                stateFile.write(StateRecord.stopped(status.lastError()));
                EnclaveService.reclaim(dead);
                return "cleaned up after the crashed enclave (" + status.lastError().code() + ": "
                        + status.lastError().message() + ")";
            default:
                break;
        }
        long pid = status.pid();
        String result;
        if (force) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            awaitLockFree(wiring, pid, Duration.ofSeconds(10));
            // Read after the VMM is gone: it may have recorded hugepages up to its last moment.
            StateRecord killed = stateFile.read().orElse(null);
            stateFile.write(StateRecord.stopped(null));
            if (killed != null) {
                EnclaveService.reclaim(killed);
            }
            result = "enclave stopped: VMM process " + pid + " killed";
        } else {
            String outcome = new ControlClient(wiring.runDirectory().controlSocket()).stop(grace);
            awaitLockFree(wiring, pid, grace.plusSeconds(10));
            result = "enclave " + outcome;
        }
        return result;
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
