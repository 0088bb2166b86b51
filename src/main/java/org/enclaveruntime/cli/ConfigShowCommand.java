package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigKey;
import org.enclaveruntime.config.ConfigSource;
import org.enclaveruntime.config.LoadedConfig;
import org.enclaveruntime.config.Setting;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** `enclavectl config show`: every key's effective value and where it came from. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print the effective configuration: every key, its value, and where the value came "
                + "from (default, FILE:LINE, or a command-line flag).")
final class ConfigShowCommand implements Runnable {
    private static final String UNSET = "unset";

    @ParentCommand
    ConfigCommand parent;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        LoadedConfig loaded = parent.load();
        output.print(spec.commandLine().getOut(), asJson(loaded), () -> asTable(loaded));
    }

    private static String asTable(LoadedConfig loaded) {
        List<Map.Entry<ConfigKey<?>, Optional<Setting>>> keys = loaded.allKeys();
        int keyWidth = "KEY".length();
        int valueWidth = "VALUE".length();
        for (var entry : keys) {
            keyWidth = Math.max(keyWidth, entry.getKey().qualifiedName().length());
            valueWidth = Math.max(valueWidth, entry.getValue().map(Setting::text).orElse("-").length());
        }
        String row = "%-" + keyWidth + "s  %-" + valueWidth + "s  %s%n";
        StringBuilder s = new StringBuilder();
        s.append("source: ").append(loaded.source().describe()).append('\n');
        s.append(String.format(row, "KEY", "VALUE", "ORIGIN"));
        for (var entry : keys) {
            Optional<Setting> setting = entry.getValue();
            s.append(String.format(row, entry.getKey().qualifiedName(), setting.map(Setting::text).orElse("-"),
                    setting.map(v -> v.origin().toString()).orElse(UNSET)));
        }
        return s.toString();
    }

    /** {path, reason}: which file was read and why that one; `config check` reports the same object. */
    static Map<String, Object> sourceJson(LoadedConfig loaded) {
        Map<String, Object> source = new LinkedHashMap<>();
        if (loaded.source() instanceof ConfigSource.File file) {
            source.put("path", file.path().toString());
            source.put("reason", file.reason().name().toLowerCase(Locale.ROOT));
        } else {
            source.put("path", null);
            source.put("reason", "built_in_defaults");
        }
        return source;
    }

    private static Map<String, Object> asJson(LoadedConfig loaded) {
        Map<String, Object> source = sourceJson(loaded);
        Map<String, Object> values = new LinkedHashMap<>();
        for (var entry : loaded.allKeys()) {
            Map<String, Object> value = new LinkedHashMap<>();
            value.put("value", entry.getValue().map(Setting::text).orElse(null));
            value.put("origin", entry.getValue().map(v -> v.origin().toString()).orElse(UNSET));
            values.put(entry.getKey().qualifiedName(), value);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", source);
        json.put("values", values);
        return json;
    }
}
