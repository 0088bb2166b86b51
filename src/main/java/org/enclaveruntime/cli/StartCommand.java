package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveStatus;
import org.enclaveruntime.state.StateErrors;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.state.StatusReader;
import org.enclaveruntime.service.EnclaveService;
import org.enclaveruntime.service.PreflightCheck;
import org.enclaveruntime.service.StartRefusal;
import org.enclaveruntime.systemd.NotifyingEvents;
import org.enclaveruntime.systemd.SystemdNotifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/** `enclavectl start`: boots the enclave and returns once it is READY (or has failed). */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Start the enclave: verify the image, partition CPUs and memory, boot, wait until ready.",
        footer = {"", "Without --foreground the VMM runs on as a process of its own; `enclavectl stop` ends it."})
final class StartCommand implements Callable<Integer> {
    @ParentCommand
    EnclaveCtl parent;

    @Mixin
    ConfigOverrideOptions options;

    @Mixin
    OutputOptions output;

    @Option(names = "--foreground", description = "Run the VMM in this process until the enclave stops (for systemd and debugging).")
    boolean foreground;

    @Option(names = "--dry-run", description = "Print the partition plan (CPUs, memory, page size, what the primary keeps) "
            + "and the checks start makes first (lock, KVM, image, isolation); reserve nothing. Exits as start would fail, if it would.")
    boolean dryRun;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Wiring wiring = Wiring.forStart(parent.global, options);
        if (dryRun) {
            DryRun report = wiring.dryRun();
            output.print(spec.commandLine().getOut(), report.asJson(), report::describe);
            // The report is printed either way; the error, as `start` would report it, goes to stderr.
            return report.firstFailure().map(e -> ErrorReporter.print(spec.commandLine().getErr(), e, false))
                    .orElse(0);
        }
        wiring.withLogging();
        return start(wiring, options, foreground, output, spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** Shared with `restart`. */
    static int start(Wiring wiring, ConfigOverrideOptions options, boolean foreground, OutputOptions output,
                     PrintWriter out, PrintWriter err) {
        // Under systemd (Type=notify) the foreground VMM is the service: it tells systemd each step, READY
        // and STOPPING, and why it failed, also when it fails before the service runs.
        SystemdNotifier systemd = foreground ? SystemdNotifier.fromEnvironment() : SystemdNotifier.none();
        OptionalLong holder = EnclaveLock.holder(wiring.runDirectory().lockFile());
        if (holder.isPresent()) {
            throw systemd.failing(new EnclaveException(StateErrors.ALREADY_RUNNING,
                    "an enclave is already running (VMM pid " + holder.getAsLong() + ")"));
        }
        // Refuse early, reserve late: a host without a usable KVM is refused before anything is spawned.
        PreflightCheck kvm = wiring.kvmCheck();
        if (!kvm.passed()) {
            StartRefusal.record(wiring.runDirectory(), kvm.failure());
            throw systemd.failing(kvm.failure()); // under systemd: the E400 message in the journal
        }
        Progress progress = new Progress(err, output.json());
        if (foreground) {
            EnclaveService.Launch launch;
            try {
                launch = wiring.launch();
            } catch (EnclaveException e) {
                throw systemd.failing(e);
            }
            return new EnclaveService(launch, new NotifyingEvents(systemd, new EnclaveService.Events() {
                @Override
                public void progress(String step) {
                    progress.accept(step);
                }

                @Override
                public void ready(StateRecord running) {
                    progress.done();
                    printSummary(wiring, output, out);
                }

                @Override
                public void failed(EnclaveException error) {
                    progress.done();
                    throw error;
                }
            })).run();
        }
        List<String> args = new ArrayList<>(wiring.globalArguments());
        args.addAll(options.asArguments());
        Duration timeout = wiring.config().bootTimeout().plusSeconds(30);
        new VmmLauncher(args, wiring.vmmStderr())
                .launch(timeout, progress);
        progress.done();
        printSummary(wiring, output, out);
        return 0;
    }

    private static void printSummary(Wiring wiring, OutputOptions output, PrintWriter out) {
        EnclaveStatus s = new StatusReader(wiring.runDirectory()).read();
        output.printRendered(out, () -> StateJson.toJson(s), () -> String.format("enclave started: pid %d, cid %d, %d vCPU(s) %s, %d MiB%s",
                s.pid(), s.cid(), s.cpuIds() == null ? 0 : s.cpuIds().size(), s.cpuIds(), s.memoryMib(),
                s.consoleLog() == null ? "" : ", console " + s.consoleLog()));
    }
}
