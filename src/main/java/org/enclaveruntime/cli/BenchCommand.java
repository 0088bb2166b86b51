package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `enclavectl bench ...`: measurements against the running enclave. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure the running enclave (docs/performance.md).",
        subcommands = {BenchEcallCommand.class, CommandLine.HelpCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.ParentCommand
    EnclaveCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a bench command is required (ecall)");
    }
}
