package org.enclaveruntime.cli;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.vmm.EnclaveService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.util.Map;

/**
 * The VMM process that `start` launches: same jar, hidden command. It reports to its parent through stdout,
 * one line each: `PROGRESS text`, then `READY {status}` or `FAILED {error}`, and then closes stdout so the
 * parent can exit while the VMM runs on.
 */
@Command(name = "vmm", hidden = true, description = "Run the VMM (started by `enclavectl start`).")
final class VmmCommand implements java.util.concurrent.Callable<Integer> {
    static final String PROGRESS = "PROGRESS ";
    static final String READY = "READY ";
    static final String FAILED = "FAILED ";

    @ParentCommand
    EnclaveCtl parent;

    @Mixin
    ConfigOverrideOptions options;

    @Override
    public Integer call() {
        // A session of its own: the terminal's Ctrl-C and hang-up reach the CLI that started us, not the VMM.
        LibC.INSTANCE.setsid();
        PrintStream toParent = System.out;
        EnclaveService.Events events = new EnclaveService.Events() {
            @Override
            public void progress(String step) {
                toParent.println(PROGRESS + step);
                toParent.flush();
            }

            @Override
            public void ready(StateRecord running) {
                toParent.println(READY + StateJson.toLine(running));
                toParent.close();
            }

            @Override
            public void failed(EnclaveException error) {
                toParent.println(FAILED + OutputOptions.toJson(Map.of("error", ErrorReporter.asMap(error)))
                        .replace('\n', ' '));
                toParent.close();
            }
        };
        EnclaveService.Launch launch;
        try {
            launch = Wiring.forStart(parent.global, options).withLogging().launch();
        } catch (EnclaveException e) {
            // Nothing is reserved yet; the parent reports the error as its own.
            events.failed(e);
            return e.exitStatus().code();
        }
        return new EnclaveService(launch, events).run();
    }
}
