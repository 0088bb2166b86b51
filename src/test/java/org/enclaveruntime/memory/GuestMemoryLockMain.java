package org.enclaveruntime.memory;

import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A second process for {@link GuestMemoryLockTest}: creates args[0] bytes of ordinary guest RAM under whatever
 * limits it was started with and prints one line: "CREATED" or the error code, then what of guest RAM this
 * process still maps and holds open ("mappings=N fds=N").
 */
public final class GuestMemoryLockMain {
    public static void main(String[] args) throws IOException {
        String outcome;
        try {
            GuestMemory.create(Long.parseLong(args[0]), MemoryBacking.ORDINARY); // kept open: a success must show up below
            outcome = "CREATED";
        } catch (EnclaveException e) {
            outcome = e.code().id() + " " + e.getMessage();
        }
        long mappings = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("enclave-ram")).count();
        long fds = 0;
        try (DirectoryStream<Path> open = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : open) {
                try {
                    fds += Files.readSymbolicLink(fd).toString().contains("enclave-ram") ? 1 : 0;
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own fd
                }
            }
        }
        System.out.println("mappings=" + mappings + " fds=" + fds + " " + outcome);
    }
}
