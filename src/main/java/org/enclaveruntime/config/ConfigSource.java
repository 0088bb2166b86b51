package org.enclaveruntime.config;

import java.nio.file.Path;

/** Which configuration file was read, and why that one; or none. */
public sealed interface ConfigSource {
    /** Why a file was chosen. */
    enum Reason {
        CONFIG_OPTION("--config"),
        ENVIRONMENT("$ENCLAVE_CONF"),
        DEFAULT_LOCATION("default location");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A human description: "/etc/enclave.conf (default location)". */
    String describe();

    record File(Path path, Reason reason) implements ConfigSource {
        @Override
        public String describe() {
            return path + " (" + reason.label() + ")";
        }
    }

    /** No file: neither --config nor $ENCLAVE_CONF was given and {@code absent} does not exist. */
    record BuiltInDefaults(Path absent) implements ConfigSource {
        @Override
        public String describe() {
            return "built-in defaults (no --config, $ENCLAVE_CONF unset, " + absent + " absent)";
        }
    }
}
