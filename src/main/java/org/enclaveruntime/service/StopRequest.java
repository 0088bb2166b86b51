package org.enclaveruntime.service;

import org.enclaveruntime.state.RunDirectory;

import java.time.Duration;

/**
 * What `stop` is asked to do. Only the run directory is needed, so a stop works with a configuration that
 * no longer validates as long as run_dir can be found in it.
 *
 * @param runDir the enclave's run directory (state file, lock, control socket)
 * @param force  kill the VMM (SIGKILL) instead of asking the enclave to shut down
 * @param grace  how long the enclave may take to shut down before its vCPUs are stopped
 */
public record StopRequest(RunDirectory runDir, boolean force, Duration grace) {
    public StopRequest {
        if (grace.isNegative() || grace.compareTo(ControlProtocol.MAX_GRACE) > 0) {
            throw new IllegalArgumentException("grace " + grace + " is outside 0.." + ControlProtocol.MAX_GRACE);
        }
    }
}
