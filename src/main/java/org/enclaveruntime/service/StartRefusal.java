package org.enclaveruntime.service;

import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.state.EnclaveLock;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.ErrorRecord;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Records why a start was refused before the VMM took the lock (no KVM, a bad image, ...), as last_error of a
 * STOPPED record, so that `status` says why the enclave is not running, as it does for a start that failed later.
 */
public final class StartRefusal {
    private static final Logger log = LoggerFactory.getLogger(StartRefusal.class);

    private StartRefusal() {
    }

    /**
     * Writes STOPPED with {@code refusal} as last_error, holding the lock while doing so, and only over a
     * STOPPED record or none: a CRASHED one still lists what the next start or stop must give back. Nothing
     * is written while another process holds the lock. Never fails: the refusal is what the user must see.
     */
    public static void record(RunDirectory dir, EnclaveException refusal) {
        try {
            Optional<EnclaveLock> lock = EnclaveLock.tryAcquire(dir);
            if (lock.isEmpty()) {
                return;
            }
            try (EnclaveLock held = lock.get()) {
                StateFile stateFile = new StateFile(dir);
                Optional<StateRecord> now = stateFile.read();
                if (now.isEmpty() || now.get().state() == EnclaveState.STOPPED) {
                    stateFile.write(StateRecord.stopped(ErrorRecord.of(refusal)));
                }
            }
        } catch (EnclaveException e) {
            log.warn("cannot record the failed start in {}: {}", dir.path(), e.toString());
        }
    }
}
