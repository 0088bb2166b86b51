package org.enclaveruntime.state;

import org.enclaveruntime.platform.CpusetJournal;
import org.enclaveruntime.platform.HugepageGrant;

import java.util.List;
import java.util.Map;

/**
 * What the state file says: written by whoever changes the enclave's state, always whole (see
 * {@link StateFile}). Times are ISO-8601 instants; a null field is unknown or not applicable.
 */
public record StateRecord(
        EnclaveState state,
        Long pid,
        Long cid,
        List<Integer> cpuIds,
        Long memoryMib,
        String pageSize,
        String image,
        Map<String, String> measurements,
        String vsockSocket,
        String consoleLog,
        String startedAt,
        ErrorRecord lastError,
        List<HugepageGrant> reservedHugepages,
        CpusetJournal cpusetIsolation) {

    /** A record without cpuset changes (isolate = none, or none made yet). */
    public StateRecord(EnclaveState state, Long pid, Long cid, List<Integer> cpuIds, Long memoryMib, String pageSize,
                       String image, Map<String, String> measurements, String vsockSocket, String consoleLog,
                       String startedAt, ErrorRecord lastError, List<HugepageGrant> reservedHugepages) {
        this(state, pid, cid, cpuIds, memoryMib, pageSize, image, measurements, vsockSocket, consoleLog, startedAt,
                lastError, reservedHugepages, null);
    }

    /**
     * The record of a stopped enclave, written by the process {@code writer} (the VMM that tore it down, or the
     * CLI that cleaned up): while the writer still holds the lock, status knows it is the teardown it sees.
     */
    public static StateRecord stopped(ErrorRecord lastError) {
        return new StateRecord(EnclaveState.STOPPED, ProcessHandle.current().pid(), null, null, null, null, null, null, null, null, null,
                lastError, List.of());
    }

    public StateRecord withState(EnclaveState newState) {
        return new StateRecord(newState, pid, cid, cpuIds, memoryMib, pageSize, image, measurements,
                vsockSocket, consoleLog, startedAt, lastError, reservedHugepages, cpusetIsolation);
    }

    public StateRecord withLastError(ErrorRecord error) {
        return new StateRecord(state, pid, cid, cpuIds, memoryMib, pageSize, image, measurements,
                vsockSocket, consoleLog, startedAt, error, reservedHugepages, cpusetIsolation);
    }

    public StateRecord withReservedHugepages(List<HugepageGrant> pages) {
        return new StateRecord(state, pid, cid, cpuIds, memoryMib, pageSize, image, measurements,
                vsockSocket, consoleLog, startedAt, lastError, List.copyOf(pages), cpusetIsolation);
    }

    /** The cpuset changes to give back at stop, or after a crash by the next start or stop. */
    public StateRecord withCpusetIsolation(CpusetJournal changes) {
        return new StateRecord(state, pid, cid, cpuIds, memoryMib, pageSize, image, measurements,
                vsockSocket, consoleLog, startedAt, lastError, reservedHugepages, changes);
    }
}
