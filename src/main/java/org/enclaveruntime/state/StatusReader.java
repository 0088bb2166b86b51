package org.enclaveruntime.state;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Derives the enclave's state. The state file says what the VMM last intended; the lock says whether a VMM
 * is alive. A state that needs a live VMM (STARTING, RUNNING, STOPPING) without a lock holder means the
 * VMM died without cleaning up: CRASHED.
 */
public final class StatusReader {
    private final RunDirectory dir;

    public StatusReader(RunDirectory dir) {
        this.dir = dir;
    }

    public EnclaveStatus read() {
        StateFile file = new StateFile(dir);
        Optional<StateRecord> saved = file.read();
        OptionalLong holder = EnclaveLock.holder(dir.lockFile());
        if (holder.isEmpty() && saved.isPresent() && saved.get().state().needsHolder()) {
            // The VMM writes its final state before it lets go of the lock: if it finished between the two
            // reads above, the file now says so. Read it once more before calling it a crash.
            saved = file.read();
        }
        if (saved.isEmpty()) {
            // A holder without a state file is a VMM that has taken the lock and not yet written its state.
            return holder.isPresent()
                    ? empty(EnclaveState.STARTING, holder.getAsLong(), null)
                    : empty(EnclaveState.STOPPED, null, null);
        }
        StateRecord r = saved.get();
        if (holder.isPresent() && !Long.valueOf(holder.getAsLong()).equals(r.pid())) {
            // A new VMM holds the lock while the file still describes its predecessor.
            return empty(EnclaveState.STARTING, holder.getAsLong(), null);
        }
        if (holder.isPresent() && !r.state().needsHolder()) {
            // The holder wrote STOPPED or CRASHED itself and is giving back what it held.
            return empty(EnclaveState.STOPPING, holder.getAsLong(), r.lastError());
        }
        EnclaveState state = r.state();
        Long pid = r.pid();
        ErrorRecord lastError = r.lastError();
        if (holder.isEmpty() && state.needsHolder()) {
            state = EnclaveState.CRASHED;
            if (lastError == null) {
                lastError = ErrorRecord.of(StateErrors.VMM_DIED.id(), "the VMM process "
                        + (pid == null ? "" : pid + " ") + "ended without stopping the enclave (killed or crashed)");
            }
        }
        boolean live = state == EnclaveState.RUNNING || state == EnclaveState.STOPPING;
        return new EnclaveStatus(state, state == EnclaveState.STOPPED ? null : pid, r.cid(), r.cpuIds(),
                r.memoryMib(), r.pageSize(), r.image(), r.measurements(), r.vsockSocket(), r.consoleLog(),
                r.startedAt(), live ? uptime(r.startedAt()) : null, lastError);
    }

    private static EnclaveStatus empty(EnclaveState state, Long pid, ErrorRecord error) {
        return new EnclaveStatus(state, pid, null, null, null, null, null, null, null, null, null, null, error);
    }

    private static Long uptime(String startedAt) {
        if (startedAt == null) {
            return null;
        }
        try {
            return Math.max(0, Duration.between(Instant.parse(startedAt), Instant.now()).toSeconds());
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
