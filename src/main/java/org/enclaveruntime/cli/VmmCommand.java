package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.state.StateJson;
import org.enclaveruntime.state.StateRecord;
import org.enclaveruntime.service.EnclaveService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.nio.file.Path;
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
        return run(parent.global, options);
    }

    /**
     * The VMM process's entry point, which {@link VmmLauncher} starts: the same as `enclavectl vmm ARGS`
     * without building picocli's command model, which cost the VMM about 0.15 s of its start. It reads only
     * the words the launcher writes (Wiring.globalArguments, ConfigOverrideOptions.asArguments); anything
     * else is a bug in the launcher, reported on stderr (log_dir/vmm.stderr) with exit status 70.
     */
    public static void main(String[] args) {
        GlobalOptions global = new GlobalOptions();
        ConfigOverrideOptions options = new ConfigOverrideOptions();
        for (String a : args) {
            String value = a.substring(a.indexOf('=') + 1);
            if (a.equals("-v")) {
                global.verbose = true;
            } else if (a.startsWith("--config=")) {
                global.config = Path.of(value);
            } else if (a.startsWith(ConfigOverrides.FLAG_CPU_COUNT + "=")) {
                options.cpuCount = value;
            } else if (a.startsWith(ConfigOverrides.FLAG_CPU_IDS + "=")) {
                options.cpuIds = value;
            } else if (a.startsWith(ConfigOverrides.FLAG_MEMORY + "=")) {
                options.memory = value;
            } else if (a.startsWith(ConfigOverrides.FLAG_IMAGE + "=")) {
                options.image = Path.of(value);
            } else if (a.equals(ConfigOverrides.FLAG_DEBUG)) {
                options.debug = true;
            } else if (a.equals("--no-" + ConfigOverrides.FLAG_DEBUG.substring(2))) {
                options.debug = false;
            } else {
                System.err.println("error " + GeneralErrors.INTERNAL.id() + ": the VMM was started with an "
                        + "argument it does not know: '" + a + "'");
                System.exit(GeneralErrors.INTERNAL.exitStatus().code());
            }
        }
        int status;
        try {
            status = run(global, options);
        } catch (RuntimeException | Error e) {
            System.err.println("error " + GeneralErrors.INTERNAL.id() + ": " + EnclaveException.unexpected(e).getMessage());
            e.printStackTrace();
            status = GeneralErrors.INTERNAL.exitStatus().code();
        }
        System.exit(status);
    }

    private static int run(GlobalOptions global, ConfigOverrideOptions options) {
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
            Wiring wiring = Wiring.forStart(global, options);
            LogSetup.capStderr(wiring.vmmStderr());
            launch = wiring.withLogging().launch();
        } catch (EnclaveException e) {
            // Nothing is reserved yet; the parent reports the error as its own.
            events.failed(e);
            return e.exitStatus().code();
        }
        return new EnclaveService(launch, events).run();
    }
}
