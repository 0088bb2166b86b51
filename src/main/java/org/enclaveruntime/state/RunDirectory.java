package org.enclaveruntime.state;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;
import org.enclaveruntime.errors.GeneralErrors;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** run_dir (default /run/enclave) and the files in it. Only this class knows their names. */
public record RunDirectory(Path path) {
    public Path stateFile() {
        return path.resolve("state.json");
    }

    /** Where a damaged state file is set aside by the stop that replaces it, for whoever wants to look. */
    public Path damagedStateFile() {
        return path.resolve("state.json.damaged");
    }

    public Path lockFile() {
        return path.resolve("enclave.lock");
    }

    public Path controlSocket() {
        return path.resolve("control.sock");
    }

    /** Creates run_dir with mode 0750 if it does not exist; the mode of an existing directory is kept. */
    public RunDirectory create() {
        try {
            if (!Files.isDirectory(path)) {
                Files.createDirectories(path);
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-x---"));
            }
            return this;
        } catch (IOException | UnsupportedOperationException e) {
            throw failure(StateErrors.RUN_DIR, "cannot create run directory " + path, e);
        }
    }

    /**
     * The error for a failed operation on a file of the run directory. "Permission denied" almost always means
     * the command was run without root, so it says that rather than blaming the file.
     */
    static EnclaveException failure(ErrorCode code, String what, Exception e) {
        if (e instanceof AccessDeniedException) {
            return new EnclaveException(GeneralErrors.NOT_ROOT, what + ": permission denied", "Run enclavectl as "
                    + "root (sudo enclavectl ...): the run directory, /dev/kvm and the hugepage pool belong to root.", e);
        }
        return new EnclaveException(code, what + ": " + reason(e), e);
    }

    static String reason(Exception e) {
        return e instanceof IOException io ? IoReason.of(io) : "not supported by this file system";
    }
}
