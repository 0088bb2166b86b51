package org.enclaveruntime.platform;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.ErrorCode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads and writes the small text files of /sys and /proc below an injectable root ("/" in production, a
 * fake tree in tests), turning every failure into an error that names the file.
 */
final class SysfsFiles {
    private final Path root;

    SysfsFiles(Path root) {
        this.root = root;
    }

    /** The real file for an absolute kernel path such as "/proc/meminfo". */
    Path resolve(String absolute) {
        return root.resolve(absolute.substring(1));
    }

    boolean exists(String absolute) {
        return Files.exists(resolve(absolute));
    }

    String read(String absolute) {
        Path file = resolve(absolute);
        try {
            return readWhole(file);
        } catch (IOException e) {
            throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, "cannot read " + file + ": " + reason(e), e);
        }
    }

    long readLong(String absolute, ErrorCode onFailure) {
        Path file = resolve(absolute);
        String text;
        try {
            text = readWhole(file);
        } catch (IOException e) {
            throw new EnclaveException(onFailure, "cannot read " + file + ": " + reason(e), e);
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new EnclaveException(onFailure, file + " holds '" + text + "', not a number", e);
        }
    }

    /**
     * One read with a large buffer. Files.readString must not be used here: for a file whose size reads as 0
     * (every /proc/sys file) it reads one byte first, and sysctl files return nothing at a non-zero offset,
     * so "32" came back as "3".
     */
    static String readWhole(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_FILE), StandardCharsets.US_ASCII).strip();
        }
    }

    /** Larger than any control file we read; /proc/meminfo is about 1.5 KiB. */
    private static final int MAX_FILE = 1 << 16;

    CpuList readCpuList(String absolute) {
        String text = read(absolute);
        try {
            return CpuList.parse(text);
        } catch (IllegalArgumentException e) {
            throw new EnclaveException(PlatformErrors.TOPOLOGY_UNREADABLE, resolve(absolute) + ": " + e.getMessage(), e);
        }
    }

    void writeLong(String absolute, long value, ErrorCode onFailure) {
        Path file = resolve(absolute);
        try {
            // No CREATE: a missing control file is an error, not a new file (which a fake tree would allow).
            Files.writeString(file, value + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new EnclaveException(onFailure, "cannot write " + value + " to " + file + ": " + reason(e), e);
        }
    }

    static String reason(IOException e) {
        return IoReason.of(e);
    }
}
