package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The enclavectl command. This class and {@link Wiring} are where the program is assembled: the
 * subcommands are listed here, and each lives in a class of its own.
 */
@Command(name = "enclavectl",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Manage the enclave of this instance: an isolated VM carved out of this VM's CPUs and "
                + "memory, reachable only through vsock.",
        subcommands = {
                StartCommand.class,
                StopCommand.class,
                RestartCommand.class,
                StatusCommand.class,
                ConsoleCommand.class,
                VmmCommand.class,
                ExplainCommand.class,
                ConfigCommand.class,
                DoctorCommand.class,
                ImageCommand.class,
                CommandLine.HelpCommand.class
        },
        footer = {"", "Exit codes: 0 ok, 1 failure, 2 usage, 3 config, 4 state conflict, 5 resources, 6 KVM, "
                + "7 image, 8 enclave failed, 70 internal. See docs/exit-codes.md.",
                "Run `enclavectl explain CODE` for the long form of an error code."})
public final class EnclaveCtl implements Runnable {
    @Mixin
    GlobalOptions global;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns the exit status; tests call this instead of main. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new EnclaveCtl());
        ErrorReporter reporter = new ErrorReporter();
        cli.setExecutionExceptionHandler(reporter);
        cli.setParameterExceptionHandler(reporter);
        return cli.execute(args);
    }
}
