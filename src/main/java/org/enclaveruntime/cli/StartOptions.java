package org.enclaveruntime.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What `start`, `restart` and the VMM process take on top of the configuration file. */
final class StartOptions {
    static final class Cpus {
        @Option(names = "--cpu-count", paramLabel = "N", description = "Number of vCPUs (overrides cpu_count/cpu_ids).")
        Integer count;

        @Option(names = "--cpu-ids", paramLabel = "LIST", description = "CPUs to give the enclave, e.g. 2-3,6 (overrides cpu_count/cpu_ids).")
        String ids;
    }

    @ArgGroup(exclusive = true)
    Cpus cpus;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Enclave memory, e.g. 512M or 2G (overrides memory).")
    String memory;

    @Option(names = "--image", paramLabel = "PATH", description = "Enclave image (overrides image).")
    Path image;

    @Option(names = "--debug", description = "Keep the enclave's console in log_dir/console.log (overrides debug).")
    boolean debug;

    /** The same options as command-line words, to hand them to the VMM process. */
    List<String> asArguments() {
        List<String> args = new ArrayList<>();
        if (cpus != null && cpus.count != null) {
            args.add("--cpu-count=" + cpus.count);
        }
        if (cpus != null && cpus.ids != null) {
            args.add("--cpu-ids=" + cpus.ids);
        }
        if (memory != null) {
            args.add("--memory=" + memory);
        }
        if (image != null) {
            args.add("--image=" + image.toAbsolutePath());
        }
        if (debug) {
            args.add("--debug");
        }
        return args;
    }
}
