package org.enclaveruntime.service;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What `start` says when the enclave did not become ready in time: how long it waited, where every vCPU
 * was when it was stopped, and (debug mode) the console's last lines. A hang before READY leaves nothing
 * else to go on.
 */
record BootTimeoutReport(Duration waited, List<String> registers, List<String> consoleLines, Path console) {
    static final int CONSOLE_LINES = 10;
    /** Enough for ten long lines; the console log may be far bigger. */
    private static final int TAIL_BYTES = 8192;

    static BootTimeoutReport of(Duration waited, List<String> registers, Path console) {
        return new BootTimeoutReport(waited, List.copyOf(registers),
                console == null ? List.of() : lastLines(console, CONSOLE_LINES), console);
    }

    String message() {
        StringBuilder b = new StringBuilder("the enclave did not become ready within ")
                .append(waited.toMillis()).append(" ms (boot_timeout); it was stopped");
        if (!registers.isEmpty()) {
            b.append("; where its vCPUs were: ").append(String.join("; ", registers));
        }
        if (console == null) {
            b.append("; no console log (set debug = true to keep one)");
        } else if (consoleLines.isEmpty()) {
            b.append("; the console (").append(console).append(") is empty: the runtime printed nothing");
        } else {
            b.append("; last console lines (").append(console).append("):");
            for (String line : consoleLines) {
                b.append("\n  | ").append(line);
            }
        }
        return b.toString();
    }

    /** The file's last {@code count} lines, without their newlines; none when it cannot be read. */
    static List<String> lastLines(Path file, int count) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            int take = (int) Math.min(length, TAIL_BYTES);
            byte[] tail = new byte[take];
            f.seek(length - take);
            f.readFully(tail);
            List<String> lines = new ArrayList<>(Arrays.asList(new String(tail, StandardCharsets.UTF_8).split("\n", -1)));
            if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
                lines.remove(lines.size() - 1); // the text ended with a newline
            }
            if (take < length && !lines.isEmpty()) {
                lines.remove(0); // cut in the middle
            }
            return List.copyOf(lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException e) {
            return List.of();
        }
    }
}
