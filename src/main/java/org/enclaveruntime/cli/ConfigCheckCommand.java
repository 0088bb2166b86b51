package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.config.ConfigSource;
import org.enclaveruntime.config.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

/** `enclavectl config check`: validates; prints one line and exits 0, or lists every problem and exits 3. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check the configuration file's syntax and values. Prints '<file>: OK' and exits 0, "
                + "or prints every problem (file, line, key, value, what is allowed) and exits 3.")
final class ConfigCheckCommand implements Runnable {
    @ParentCommand
    ConfigCommand parent;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        LoadedConfig loaded = parent.load();
        long explicit = loaded.explicitCount();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", ConfigShowCommand.sourceJson(loaded));
        json.put("valid", true);
        json.put("keys_set", explicit);
        json.put("keys_known", ConfigKeys.ALL.size());
        output.print(spec.commandLine().getOut(), json, () -> loaded.source() instanceof ConfigSource.File file
                ? String.format("%s: OK (%d of %d keys set, the others default)", file.path(), explicit,
                        ConfigKeys.ALL.size())
                : loaded.source().describe() + ": OK");
    }
}
