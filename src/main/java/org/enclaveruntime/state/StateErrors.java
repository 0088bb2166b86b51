package org.enclaveruntime.state;

import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.ExitStatus;

import java.util.List;

/** E3xx: the run directory, the state file and the one-enclave lock. */
public final class StateErrors {
    private StateErrors() {
    }

    public static final ErrorCode ALREADY_RUNNING = new ErrorCode("E301", ExitStatus.CONFLICT,
            "an enclave is already running",
            "Stop it first (`enclavectl stop`), or use `enclavectl restart`.",
            "Exactly one enclave runs per instance. The VMM process of the running enclave holds the lock "
                    + "file enclave.lock in run_dir for its whole life; the message names its pid. "
                    + "`enclavectl status` shows what it runs.");

    public static final ErrorCode NOT_RUNNING = new ErrorCode("E302", ExitStatus.CONFLICT,
            "no enclave is running",
            "Start one with `enclavectl start`.",
            "The command needs a running enclave, but no VMM process holds the lock in run_dir.");

    public static final ErrorCode RUN_DIR = new ErrorCode("E303", ExitStatus.RESOURCES,
            "the run directory is not usable",
            "Check run_dir in [runtime] of the configuration: it must be a directory root can create and write.",
            "enclavectl keeps the state file, the lock and the control socket in run_dir (default "
                    + "/run/enclave, created with mode 0750). The message names the path and the system's "
                    + "reason.");

    public static final ErrorCode STATE_FILE = new ErrorCode("E304", ExitStatus.FAILURE,
            "the state file cannot be read",
            "Run `enclavectl stop --force`: it kills the VMM if one runs (found through the lock), sets the file "
                    + "aside as state.json.damaged and writes a new one; then `enclavectl start` again.",
            "The state file in run_dir is written atomically (temporary file, fsync, rename), so a damaged "
                    + "file means something other than enclavectl wrote it. `start` refuses to run over it; `stop` "
                    + "(with or without --force) stops the VMM that holds the lock, sets the file aside and "
                    + "records STOPPED. Hugepages the damaged file recorded as reserved cannot be given back: "
                    + "compare /proc/sys/vm/nr_hugepages with what you expect.");

    public static final ErrorCode VMM_DIED = new ErrorCode("E305", ExitStatus.ENCLAVE,
            "the VMM process died",
            "Run `enclavectl start` again (it cleans up first); look at log_dir/enclavectl.log for the cause.",
            "The state file says an enclave was running, but no process holds the lock any more: the VMM was "
                    + "killed (for example with SIGKILL, or by the out-of-memory killer) or crashed. The "
                    + "enclave is gone. The next `start` or `stop` gives back what the dead VMM had reserved.");

    public static final List<ErrorCode> ALL = List.of(ALREADY_RUNNING, NOT_RUNNING, RUN_DIR, STATE_FILE, VMM_DIED);
}
