package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The state file, run_dir/state.json. Written atomically — temporary file, fsync, rename over the old one,
 * fsync of the directory — so a reader, or the next start after a power cut or SIGKILL, sees either the old
 * or the new record, never a mixture.
 */
public final class StateFile {
    private final Path path;

    public StateFile(RunDirectory dir) {
        this(dir.stateFile());
    }

    StateFile(Path path) {
        this.path = path;
    }

    public Path path() {
        return path;
    }

    public Optional<StateRecord> read() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw RunDirectory.failure(StateErrors.STATE_FILE, "cannot read " + path, e);
        }
        try {
            return Optional.of(StateJson.parse(bytes));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new EnclaveException(StateErrors.STATE_FILE, path + " is not a valid state record: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw RunDirectory.failure(StateErrors.STATE_FILE, "cannot read " + path, e);
        }
    }

    /**
     * Moves a state file that cannot be read out of the way, to {@code aside}, replacing an earlier one there:
     * the next write then starts afresh, and the damaged bytes stay for whoever wants to know what wrote them.
     * Only while holding the lock.
     */
    public void setAside(Path aside) {
        try {
            Files.move(path, aside, StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException gone) {
            // nothing left to set aside
        } catch (IOException e) {
            throw RunDirectory.failure(StateErrors.STATE_FILE, "cannot move the damaged " + path + " to " + aside, e);
        }
    }

    public void write(StateRecord record) {
        Path dir = path.getParent();
        Path temp = dir.resolve(path.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            byte[] bytes = StateJson.toBytes(record);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the temporary file is named by pid and replaced by the next write
            }
            throw RunDirectory.failure(StateErrors.RUN_DIR, "cannot write " + path, e);
        }
    }
}
