package org.enclaveruntime.state;

import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The one-enclave-per-instance lock: a POSIX record lock on run_dir/enclave.lock, held by the VMM process for
 * its whole life. The kernel drops it when the process dies, however it dies, so a crash never leaves a stale
 * lock behind.
 *
 * <p>A POSIX lock (fcntl) rather than flock(2) because the kernel lists POSIX locks with their owner's pid in
 * /proc/locks: `status` can name the holder without taking the lock, and taking it, even briefly, would race
 * with a concurrent `start`.
 */
public final class EnclaveLock implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private EnclaveLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock or fails with E301 naming the holder. */
    public static EnclaveLock acquire(RunDirectory dir) {
        return tryAcquire(dir).orElseThrow(() -> {
            OptionalLong pid = holder(dir.lockFile());
            String who = pid.isPresent() ? "the VMM process " + pid.getAsLong() : "another process";
            return new EnclaveException(StateErrors.ALREADY_RUNNING,
                    "an enclave is already running: " + who + " holds " + dir.lockFile());
        });
    }

    /** Takes the lock if it is free; empty if another process (or this one) holds it. */
    public static Optional<EnclaveLock> tryAcquire(RunDirectory dir) {
        dir.create();
        Path file = dir.lockFile();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            ensureMode(file);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                return Optional.empty();
            }
            return Optional.of(new EnclaveLock(file, channel, lock));
        } catch (OverlappingFileLockException e) {
            closeQuietly(channel);
            return Optional.empty();
        } catch (IOException e) {
            closeQuietly(channel);
            throw RunDirectory.failure(StateErrors.RUN_DIR, "cannot open lock file " + file, e);
        }
    }

    /**
     * The pid of the process holding the lock, read from /proc/locks by the file's device and inode; empty
     * when nobody holds it or the file does not exist.
     */
    public static OptionalLong holder(Path lockFile) {
        return holder(lockFile, Path.of("/proc/locks"));
    }

    static OptionalLong holder(Path lockFile, Path procLocks) {
        String key;
        try {
            long dev = (Long) Files.getAttribute(lockFile, "unix:dev");
            long ino = (Long) Files.getAttribute(lockFile, "unix:ino");
            key = String.format("%02x:%02x:%d", major(dev), minor(dev), ino);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException e) {
            throw RunDirectory.failure(StateErrors.RUN_DIR, "cannot inspect lock file " + lockFile, e);
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(procLocks);
        } catch (IOException e) {
            throw RunDirectory.failure(StateErrors.RUN_DIR, "cannot read " + procLocks, e);
        }
        for (String line : lines) {
            // "1: POSIX  ADVISORY  WRITE 4242 00:1a:1234 0 EOF"; waiters are listed as "1: -> POSIX ...".
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[1].equals("POSIX") && f[5].equals(key)) {
                return OptionalLong.of(Long.parseLong(f[4]));
            }
        }
        return OptionalLong.empty();
    }

    // The encoding of dev_t in glibc's gnu_dev_major/gnu_dev_minor.
    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL & 0xffffffffL);
    }

    private static void ensureMode(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was locked through this channel
            }
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // Closing the channel drops the lock in any case; nothing to report to a user.
        }
    }
}
