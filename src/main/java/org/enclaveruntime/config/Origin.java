package org.enclaveruntime.config;

/** Where an effective configuration value came from, as `config show` prints it. */
public sealed interface Origin {
    /** The location prefix of a message about {@code key} given here: "enclave.conf:3: cpu_count". */
    String locate(ConfigKey<?> key);

    record BuiltIn() implements Origin {
        @Override
        public String locate(ConfigKey<?> key) {
            return "built-in default of " + key.qualifiedName();
        }

        @Override
        public String toString() {
            return "default";
        }
    }

    /** @param file the file's name as given (--config, $ENCLAVE_CONF or /etc/enclave.conf) */
    record FileLine(String file, int line) implements Origin {
        @Override
        public String locate(ConfigKey<?> key) {
            return this + ": " + key.name();
        }

        @Override
        public String toString() {
            return file + ":" + line;
        }
    }

    /** @param flag the command-line option, such as "--memory" */
    record Flag(String flag) implements Origin {
        @Override
        public String locate(ConfigKey<?> key) {
            return flag;
        }

        @Override
        public String toString() {
            return flag;
        }
    }
}
