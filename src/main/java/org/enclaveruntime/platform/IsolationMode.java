package org.enclaveruntime.platform;

import java.util.Locale;
import java.util.Optional;

/** The `isolate` setting: whether the primary's other tasks are moved off the enclave's CPUs. */
public enum IsolationMode {
    /** A cgroup v2 cpuset partition takes the enclave's CPUs away from every other task. */
    CPUSET("cpuset"),
    /** Only the VMM's own threads are kept off the enclave's CPUs (pinning); the primary's tasks may still run there. */
    NONE("none");

    private final String text;

    IsolationMode(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    public static Optional<IsolationMode> parse(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (IsolationMode m : values()) {
            if (m.text.equals(v)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return text;
    }
}
