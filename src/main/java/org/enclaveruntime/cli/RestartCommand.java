package org.enclaveruntime.cli;

import org.enclaveruntime.service.EnclaveStopper;
import org.enclaveruntime.service.StopRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.time.Duration;
import java.util.concurrent.Callable;

/** `enclavectl restart`: stop (if running) and start with the settings given here and in the configuration. */
@Command(name = "restart", mixinStandardHelpOptions = true,
        description = "Stop the enclave if it runs, then start it again with the same options as `start`.")
final class RestartCommand implements Callable<Integer> {
    @ParentCommand
    EnclaveCtl parent;

    @Mixin
    ConfigOverrideOptions options;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Wiring wiring = Wiring.forStart(parent.global, options).withLogging();
        new EnclaveStopper().stop(new StopRequest(wiring.runDirectory(), false, Duration.ofSeconds(5)));
        return StartCommand.start(wiring, options, false, output, spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
