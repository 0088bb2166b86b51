package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** `enclavectl sdk ...`: the SGX-compatible developer kit's tools (docs/sdk-edl.md). */
@Command(name = "sdk", mixinStandardHelpOptions = true,
        description = "Developer kit tools: generate the ECALL/OCALL bridges from an EDL file.",
        subcommands = {SdkEdger8rCommand.class, CommandLine.HelpCommand.class})
final class SdkCommand implements Runnable {
    @CommandLine.ParentCommand
    EnclaveCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "an sdk command is required (edger8r)");
    }
}
