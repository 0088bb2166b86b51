package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.vmm.EnclaveExit;

import java.util.Optional;

/**
 * How an enclave that has ended is recorded: STOPPED (error null) or CRASHED with the error. A stop that was
 * asked for, or the guest's own clean exit, is STOPPED; any other end is a crash; and a teardown that left
 * guest RAM unscrubbed is CRASHED whatever came before, because STOPPED promises the memory was scrubbed.
 *
 * @param outcome how it ended, as `stop` and the log say it
 */
record EnclaveEnding(String outcome, EnclaveException error) {
    boolean crashed() {
        return error != null;
    }

    /**
     * @param stopRequested whether a stop (control socket, SIGTERM) came first
     * @param exit          how the vCPUs ended
     * @param leftBehind    why guest RAM could not be scrubbed at teardown, or empty
     */
    static EnclaveEnding of(boolean stopRequested, EnclaveExit exit, Optional<String> leftBehind) {
        String how = EnclaveService.describe(exit);
        if (leftBehind.isPresent()) {
            String outcome = (stopRequested ? "stopped (" + how + ")" : how) + ", but " + leftBehind.get();
            return new EnclaveEnding(outcome, new EnclaveException(LifecycleErrors.NOT_SCRUBBED, "the enclave " + outcome));
        }
        if (stopRequested) {
            return new EnclaveEnding("stopped (" + how + ")", null);
        }
        if (exit instanceof EnclaveExit.CleanShutdown clean && clean.code() == 0) {
            return new EnclaveEnding("exited", null);
        }
        return new EnclaveEnding(how, new EnclaveException(LifecycleErrors.CRASHED, "the enclave " + how));
    }
}
