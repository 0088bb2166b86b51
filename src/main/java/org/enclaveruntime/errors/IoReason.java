package org.enclaveruntime.errors;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The system's reason for a failed file operation, in words for a user. An IOException's own toString
 * names its Java class, and a FileSystemException's message names the path the JDK tried, which may be a
 * temporary file the user never asked for; the caller names the path the user gave instead.
 */
public final class IoReason {
    private IoReason() {
    }

    /** "no such file", "permission denied", "Is a directory", "No space left on device", ... */
    public static String of(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof FileSystemException fs) {
            return fs.getReason() == null ? "the operation failed" : fs.getReason();
        }
        if (e.getCause() instanceof IOException cause && cause != e) {
            return of(cause);
        }
        return e.getMessage() == null || e.getMessage().isBlank() ? "input/output error" : e.getMessage();
    }
}
