package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.config.LoadedConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `enclavectl config`: the group of check and show. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Check or show the configuration (--config FILE, else $ENCLAVE_CONF, else "
                + "/etc/enclave.conf, else built-in defaults).",
        subcommands = {ConfigCheckCommand.class, ConfigShowCommand.class})
final class ConfigCommand implements Runnable {
    @ParentCommand
    EnclaveCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: check or show");
    }

    /**
     * Loads the configuration the way every command does. --config is declared once, on the top command,
     * and inherited: picocli stores its value in the top command's GlobalOptions wherever it is typed.
     */
    LoadedConfig load() {
        return ConfigLoader.load(root.global.config(), System.getenv(), ConfigOverrides.NONE);
    }
}
