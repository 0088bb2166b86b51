package org.enclaveruntime.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Values given on the command line (`enclavectl start --cpu-count 4 ...`), which replace the file's.
 * Numbers and sizes stay text so that they are checked by the same rules, with the same messages, as
 * in the file ("--memory: '3M' is below the minimum 64M"). A relative --image is taken relative to the
 * current directory, as a user typing it expects.
 */
public record ConfigOverrides(Optional<String> cpuCount, Optional<String> cpuIds, Optional<String> memory,
                              Optional<Path> image, Optional<Boolean> debug) {
    public static final String FLAG_CPU_COUNT = "--cpu-count";
    public static final String FLAG_CPU_IDS = "--cpu-ids";
    public static final String FLAG_MEMORY = "--memory";
    public static final String FLAG_IMAGE = "--image";
    public static final String FLAG_DEBUG = "--debug";

    public static final ConfigOverrides NONE = new ConfigOverrides(Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty());

    public ConfigOverrides withCpuCount(String count) {
        return new ConfigOverrides(Optional.of(count), cpuIds, memory, image, debug);
    }

    public ConfigOverrides withCpuIds(String ids) {
        return new ConfigOverrides(cpuCount, Optional.of(ids), memory, image, debug);
    }

    public ConfigOverrides withMemory(String size) {
        return new ConfigOverrides(cpuCount, cpuIds, Optional.of(size), image, debug);
    }

    public ConfigOverrides withImage(Path path) {
        return new ConfigOverrides(cpuCount, cpuIds, memory, Optional.of(path), debug);
    }

    public ConfigOverrides withDebug(boolean on) {
        return new ConfigOverrides(cpuCount, cpuIds, memory, image, Optional.of(on));
    }

    /** One value to apply: the key, the flag that gave it, and its text. */
    record Entry(ConfigKey<?> key, String flag, String text) {
    }

    List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        cpuCount.ifPresent(v -> entries.add(new Entry(ConfigKeys.CPU_COUNT, FLAG_CPU_COUNT, v.trim())));
        cpuIds.ifPresent(v -> entries.add(new Entry(ConfigKeys.CPU_IDS, FLAG_CPU_IDS, v.trim())));
        memory.ifPresent(v -> entries.add(new Entry(ConfigKeys.MEMORY, FLAG_MEMORY, v.trim())));
        image.ifPresent(p -> entries.add(new Entry(ConfigKeys.IMAGE, FLAG_IMAGE, p.toAbsolutePath().toString())));
        debug.ifPresent(d -> entries.add(new Entry(ConfigKeys.DEBUG, FLAG_DEBUG, d.toString())));
        return entries;
    }
}
