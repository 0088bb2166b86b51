package org.enclaveruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `enclavectl module ...`: sign, describe and verify enclave modules (docs/module-format.md). */
@Command(name = "module", mixinStandardHelpOptions = true,
        description = "Sign, describe and verify enclave modules (signed ELF shared objects).",
        subcommands = {ModuleSignCommand.class, ModuleDescribeCommand.class, ModuleVerifyCommand.class,
                CommandLine.HelpCommand.class})
final class ModuleCommand implements Runnable {
    @CommandLine.ParentCommand
    EnclaveCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a module command is required "
                + "(sign, describe, verify)");
    }
}
