package org.enclaveruntime.errors;

/**
 * Process exit statuses of enclavectl. Scripts branch on these, so a value never changes meaning;
 * docs/exit-codes.md is the user-facing copy of this table.
 */
public enum ExitStatus {
    OK(0, "success"),
    FAILURE(1, "an operation failed for a reason not covered below"),
    USAGE(2, "the command line is wrong (unknown option, missing argument)"),
    CONFIG(3, "the configuration is invalid"),
    CONFLICT(4, "the request conflicts with the current state (already running, not running, lock held)"),
    RESOURCES(5, "the platform cannot provide what was asked (CPUs, memory, hugepages, permissions)"),
    KVM(6, "KVM is missing, not permitted, or refused an operation"),
    IMAGE(7, "the enclave image or an enclave module is missing, damaged, or not trusted"),
    ENCLAVE(8, "the enclave failed: crashed, panicked, or did not become ready in time"),
    INTERNAL(70, "an internal error (a bug): run again with -v and report the output");

    private final int code;
    private final String meaning;

    ExitStatus(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
