package org.enclaveruntime.cli;

import org.enclaveruntime.config.CleanupSettings;
import org.enclaveruntime.service.ControlProtocol;
import org.enclaveruntime.service.EnclaveStopper;
import org.enclaveruntime.service.StopRequest;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/** `enclavectl stop`: shuts the enclave down, scrubs and returns its memory and CPUs ({@link EnclaveStopper}). */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = "Stop the enclave: ask it to shut down, wait, then scrub and give back its memory and CPUs.",
        footer = {"", "Stopping an enclave that is not running is not an error (exit 0); after a crash, `stop` "
                + "cleans up what the dead VMM left. Of the configuration, `stop` needs only run_dir: it works "
                + "when other keys no longer validate."})
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
        CleanupSettings settings = Wiring.cleanupSettings(parent.global);
        settings.invalid().ifPresent(refused -> LoggerFactory.getLogger(StopCommand.class).warn(
                "the configuration does not validate ({}: {}); stopping with run_dir = {}", refused.code().id(),
                refused.getMessage().lines().findFirst().orElse(""), settings.runDir()));
        String result = new EnclaveStopper().stop(new StopRequest(new RunDirectory(settings.runDir()), force,
                Duration.ofSeconds(graceSeconds)));
        output.print(spec.commandLine().getOut(), Map.of("result", result, "state", EnclaveState.STOPPED), () -> result);
        return 0;
    }
}
