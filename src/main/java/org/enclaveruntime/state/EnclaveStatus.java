package org.enclaveruntime.state;

import java.util.List;
import java.util.Map;

/**
 * What `enclavectl status` reports: the truth derived from the lock, the holder's pid and the state file.
 * Field names become the JSON keys (snake_case); null fields are unknown or not applicable.
 */
public record EnclaveStatus(
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
        Long uptimeS,
        ErrorRecord lastError) {
}
