package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.config.ConfigSource;
import org.enclaveruntime.config.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/** `enclavectl config check`: validates; prints one line and exits 0, or lists every problem and exits 3. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check the configuration file's syntax and values. Prints '<file>: OK' and exits 0, "
                + "or prints every problem (file, line, key, value, what is allowed) and exits 3.")
final class ConfigCheckCommand implements Runnable {
    @ParentCommand
    ConfigCommand parent;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        LoadedConfig loaded = parent.load();
        PrintWriter out = spec.commandLine().getOut();
        long explicit = loaded.explicitCount();
        if (loaded.source() instanceof ConfigSource.File file) {
            out.printf("%s: OK (%d of %d keys set, the others default)%n", file.path(), explicit,
                    ConfigKeys.ALL.size());
        } else {
            out.println(loaded.source().describe() + ": OK");
        }
        out.flush();
    }
}
