package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** run_dir (default /run/enclave) and the files in it. Only this class knows their names. */
public record RunDirectory(Path path) {
    public Path stateFile() {
        return path.resolve("state.json");
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
            throw new EnclaveException(StateErrors.RUN_DIR, "cannot create run directory " + path + ": " + reason(e), e);
        }
    }

    static String reason(Exception e) {
        String type = e.getClass().getSimpleName().replace("Exception", "");
        return e.getMessage() == null ? type : type + " " + e.getMessage();
    }
}
