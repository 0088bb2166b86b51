package org.enclaveruntime.state;

/** The states of the enclave, as `status` reports them. See docs/design.md for the transitions. */
public enum EnclaveState {
    STOPPED, STARTING, RUNNING, STOPPING, CRASHED;

    /** A state in which a live VMM process must hold the lock; without one the enclave has crashed. */
    public boolean needsHolder() {
        return this == STARTING || this == RUNNING || this == STOPPING;
    }
}
