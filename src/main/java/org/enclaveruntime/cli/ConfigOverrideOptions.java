package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigOverrides;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The flags that override configuration values for one run (`@Mixin` in `enclavectl start`). Values stay
 * text: the configuration loader checks them by the file's rules, so `--memory 3M` fails with the same
 * code and wording as `memory = 3M` (exit 3), and --cpu-count with --cpu-ids is E205.
 */
public final class ConfigOverrideOptions {
    @Option(names = ConfigOverrides.FLAG_CPU_COUNT, paramLabel = "N",
            description = "Number of CPUs for the enclave (replaces cpu_count/cpu_ids of the configuration).")
    String cpuCount;

    @Option(names = ConfigOverrides.FLAG_CPU_IDS, paramLabel = "LIST",
            description = "Exactly which CPUs, e.g. 2-3,6 (replaces cpu_count/cpu_ids of the configuration).")
    String cpuIds;

    @Option(names = ConfigOverrides.FLAG_MEMORY, paramLabel = "SIZE",
            description = "Enclave memory with unit K, M or G, e.g. 2048M (replaces memory).")
    String memory;

    @Option(names = ConfigOverrides.FLAG_IMAGE, paramLabel = "FILE",
            description = "Enclave image (replaces image); a relative path is relative to the current directory.")
    Path image;

    @Option(names = ConfigOverrides.FLAG_DEBUG, negatable = true,
            description = "Debug mode: keep the enclave's console output (replaces debug).")
    Boolean debug;

    public ConfigOverrides toOverrides() {
        ConfigOverrides overrides = ConfigOverrides.NONE;
        if (cpuCount != null) {
            overrides = overrides.withCpuCount(cpuCount);
        }
        if (cpuIds != null) {
            overrides = overrides.withCpuIds(cpuIds);
        }
        if (memory != null) {
            overrides = overrides.withMemory(memory);
        }
        if (image != null) {
            overrides = overrides.withImage(image);
        }
        if (debug != null) {
            overrides = overrides.withDebug(debug);
        }
        return overrides;
    }

    /** The same flags as command-line words, to hand them on to the VMM process. */
    public List<String> asArguments() {
        List<String> args = new ArrayList<>();
        if (cpuCount != null) {
            args.add(ConfigOverrides.FLAG_CPU_COUNT + "=" + cpuCount);
        }
        if (cpuIds != null) {
            args.add(ConfigOverrides.FLAG_CPU_IDS + "=" + cpuIds);
        }
        if (memory != null) {
            args.add(ConfigOverrides.FLAG_MEMORY + "=" + memory);
        }
        if (image != null) {
            args.add(ConfigOverrides.FLAG_IMAGE + "=" + image.toAbsolutePath());
        }
        if (debug != null) {
            args.add(debug ? ConfigOverrides.FLAG_DEBUG : "--no-" + ConfigOverrides.FLAG_DEBUG.substring(2));
        }
        return args;
    }
}
