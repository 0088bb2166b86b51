package org.enclaveruntime.devices;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file a guest may fill as fast as it likes without filling the disk: when a write would take the file
 * past its cap, the file's content is copied to {@code <name>.1} (replacing the older one) and the file is
 * truncated. Together the two hold at most twice the cap plus one write. Copy-and-truncate rather than
 * rename, so that the same file descriptor keeps working: the VMM's stderr is a descriptor it inherits.
 * Writes from other processes or native code to the same file count towards the cap when the next write
 * here checks it.
 */
public final class CappedLogFile extends OutputStream {
    private final Path path;
    private final Path rolled;
    private final long cap;
    private final FileChannel channel;
    private final boolean ownsChannel;

    private CappedLogFile(Path path, long cap, FileChannel channel, boolean ownsChannel) {
        if (cap <= 0) {
            throw new IllegalArgumentException("cap " + cap);
        }
        this.path = path;
        this.rolled = rolledPath(path);
        this.cap = cap;
        this.channel = channel;
        this.ownsChannel = ownsChannel;
    }

    /** Opens (creating, appending) {@code path} capped at {@code cap} bytes. */
    public static CappedLogFile open(Path path, long cap) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        return new CappedLogFile(path, cap, channel, true);
    }

    /**
     * Caps a descriptor this process inherited that is open on {@code path} in append mode (stderr
     * redirected to a file). Closing the stream leaves the descriptor open.
     */
    public static CappedLogFile inherited(FileDescriptor fd, Path path, long cap) {
        return new CappedLogFile(path, cap, new FileOutputStream(fd).getChannel(), false);
    }

    /** Where the previous content goes: {@code <name>.1}. */
    public static Path rolledPath(Path path) {
        return path.resolveSibling(path.getFileName() + ".1");
    }

    /** Moves {@code path} to {@code <name>.1} if it is over {@code cap} bytes (for files opened elsewhere). */
    public static void rollIfOver(Path path, long cap) throws IOException {
        if (Files.isRegularFile(path) && Files.size(path) > cap) {
            Files.move(path, rolledPath(path), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return;
        }
        long size = channel.size();
        if (size > 0 && size + len > cap) {
            Files.copy(path, rolled, StandardCopyOption.REPLACE_EXISTING);
            channel.truncate(0);
        }
        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        if (ownsChannel) {
            channel.close();
        }
    }
}
