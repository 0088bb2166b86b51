package org.enclaveruntime.vmm;

import java.time.Duration;

/** What {@link Enclave#awaitReady} saw first. */
public sealed interface ReadyResult {
    /** The boot vCPU reported READY, {@code bootTime} after {@link Enclave#boot} was called. */
    record Ready(Duration bootTime) implements ReadyResult {
    }

    /** The enclave ended before it became ready. */
    record Ended(EnclaveExit exit) implements ReadyResult {
    }

    /** Neither happened within the timeout; the enclave is still running. */
    record TimedOut(Duration waited) implements ReadyResult {
    }
}
