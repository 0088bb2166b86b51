package org.enclaveruntime.cli;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.devices.CappedLogFile;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.service.LifecycleErrors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Starts the VMM as a process of its own (this same program, {@link VmmCommand#main}) and relays what it
 * reports until it is READY or has failed. The VMM outlives this process.
 */
final class VmmLauncher {
    private final List<String> vmmArguments;
    private final Path stderrLog;

    VmmLauncher(List<String> vmmArguments, Path stderrLog) {
        this.vmmArguments = vmmArguments;
        this.stderrLog = stderrLog;
    }

    /** The same JVM, flags and class path as this process, so a checkout and an installation both work. */
    private List<String> command() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib:jdwp") && !arg.startsWith("-javaagent")) {
                command.add(arg);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(VmmCommand.class.getName());
        command.addAll(vmmArguments);
        return command;
    }

    /**
     * Launches the VMM and waits for its verdict. Returns the READY line's JSON (the state record); throws
     * the VMM's own error if it failed, or E455 if it died or went silent. Only a failure is parsed here
     * (with databind, whose start-up cost a successful start should not pay).
     */
    String launch(Duration timeout, Consumer<String> progress) {
        Process process;
        try {
            if (stderrLog != null) {
                Files.createDirectories(stderrLog.getParent());
                // The VMM caps the file while it runs (LogSetup.capStderr); this keeps one that grew before.
                CappedLogFile.rollIfOver(stderrLog, LogSetup.STDERR_CAP);
            }
            ProcessBuilder builder = new ProcessBuilder(command())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(stderrLog == null ? ProcessBuilder.Redirect.DISCARD
                            : ProcessBuilder.Redirect.appendTo(stderrLog.toFile()));
            process = builder.start();
        } catch (IOException e) {
            throw new EnclaveException(LifecycleErrors.DAEMON, "cannot launch the VMM process: " + IoReason.of(e), e);
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        AtomicLong lastHeard = new AtomicLong(System.nanoTime());
        CompletableFuture<String> verdict = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    lastHeard.set(System.nanoTime());
                    if (line.startsWith(VmmCommand.PROGRESS)) {
                        progress.accept(line.substring(VmmCommand.PROGRESS.length()));
                    } else if (line.startsWith(VmmCommand.READY) || line.startsWith(VmmCommand.FAILED)) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        String line;
        try {
            // The VMM enforces boot_timeout itself; here only silence counts, so slow hashing or hugepage
            // reservation that reports progress is not cut short.
            while (true) {
                try {
                    line = verdict.get(200, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException stillWaiting) {
                    if (System.nanoTime() - lastHeard.get() > timeout.toNanos()) {
                        throw stillWaiting;
                    }
                }
            }
        } catch (TimeoutException e) {
            throw silent(process, timeout);
        } catch (InterruptedException | ExecutionException e) {
            process.destroyForcibly();
            throw new EnclaveException(LifecycleErrors.DAEMON, "waiting for the VMM process failed: " + e, e);
        }
        if (line == null) {
            int status = waitQuietly(process);
            throw new EnclaveException(LifecycleErrors.DAEMON, "the VMM process (pid " + process.pid()
                    + ") exited with status " + status + " before it reported READY"
                    + (stderrLog == null ? "" : "; its stderr is in " + stderrLog));
        }
        String json = line.substring(line.indexOf(' ') + 1);
        if (line.startsWith(VmmCommand.FAILED)) {
            waitQuietly(process);
            throw rebuild(parse(json).path("error"));
        }
        return json;
    }

    /**
     * A VMM that went silent is asked to stop (SIGTERM undoes its start: pages given back, state STOPPED);
     * only if it does not go within 30 s is it killed, and `enclavectl stop` then cleans up after it.
     */
    private static EnclaveException silent(Process process, Duration timeout) {
        process.destroy();
        boolean ended;
        try {
            ended = process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = false;
        }
        if (!ended) {
            process.destroyForcibly();
        }
        return new EnclaveException(LifecycleErrors.DAEMON, "the VMM process (pid " + process.pid()
                + ") reported nothing for " + timeout.toSeconds() + " s; it was " + (ended ? "stopped"
                : "killed (run `enclavectl stop` to give back what it held)"));
    }

    private static int waitQuietly(Process process) {
        try {
            return process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static JsonNode parse(String json) {
        try {
            return new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new EnclaveException(LifecycleErrors.DAEMON, "the VMM process sent an unreadable report: " + json, e);
        }
    }

    /** The VMM's error, with its own code, message and remedy, as if it had happened here. */
    private static EnclaveException rebuild(JsonNode error) {
        ErrorCode code = ErrorCatalog.find(error.path("code").asText()).orElse(LifecycleErrors.DAEMON);
        return new EnclaveException(code, error.path("message").asText("(no message)"),
                error.path("remedy").asText(null), null);
    }
}
