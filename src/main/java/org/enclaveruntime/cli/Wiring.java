package org.enclaveruntime.cli;

import org.enclaveruntime.state.RunDirectory;

import java.nio.file.Path;

/** Builds the objects commands work with from the global options and the configuration. */
final class Wiring {
    private Wiring() {
    }

    // Replaced by the configuration's run_dir once the config package lands.
    static RunDirectory runDirectory(GlobalOptions global) {
        return new RunDirectory(Path.of("/run/enclave"));
    }
}
