package org.enclaveruntime.platform;

/** Outcome of one doctor check. Only FAIL makes `doctor` exit non-zero. */
public enum CheckStatus {
    OK, WARN, FAIL
}
