package org.enclaveruntime.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The result of {@link ConfigLoader#load}: the typed configuration, the file it came from, and for every key
 * that has a value, that value's origin (what `config show` prints).
 *
 * @param settings keyed by {@link ConfigKey}, in the order of {@link ConfigKeys#ALL}; keys without a value
 *                 (trusted_cert unset, the unused one of cpu_count/cpu_ids) are absent
 */
public record LoadedConfig(EnclaveConfig config, ConfigSource source, Map<ConfigKey<?>, Setting> settings) {
    public LoadedConfig {
        settings = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings));
    }

    public Optional<Setting> setting(ConfigKey<?> key) {
        return Optional.ofNullable(settings.get(key));
    }

    /** Every key in {@link ConfigKeys#ALL} order, with its setting if it has one. */
    public List<Map.Entry<ConfigKey<?>, Optional<Setting>>> allKeys() {
        return ConfigKeys.ALL.stream()
                .<Map.Entry<ConfigKey<?>, Optional<Setting>>>map(k -> Map.entry(k, setting(k)))
                .toList();
    }

    /** How many keys got their value from the file (or a flag) rather than the built-in default. */
    public long explicitCount() {
        return settings.values().stream().filter(s -> !(s.origin() instanceof Origin.BuiltIn)).count();
    }
}
