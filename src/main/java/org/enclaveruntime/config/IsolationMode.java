package org.enclaveruntime.config;

/** runtime.isolate: whether the enclave's CPUs are fenced off from the primary VM's tasks. */
public enum IsolationMode {
    /** Move the primary's tasks off the enclave's CPUs with a cpuset. */
    CPUSET("cpuset"),
    NONE("none");

    private final String word;

    IsolationMode(String word) {
        this.word = word;
    }

    /** The word in the configuration file. */
    public String word() {
        return word;
    }
}
