package org.enclaveruntime.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;

/**
 * Options every command takes, before or after the command name. Inherited down the command tree,
 * so `enclavectl -v status` and `enclavectl status -v` mean the same.
 */
public final class GlobalOptions {
    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Configuration file (default: $ENCLAVE_CONF, else /etc/enclave.conf, else built-in defaults).")
    Path config;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log debug messages to stderr and show stack traces of errors.")
    boolean verbose;

    public Path config() {
        return config;
    }

    public boolean verbose() {
        return verbose;
    }
}
