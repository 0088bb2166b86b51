package org.enclaveruntime.devices;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CappedLogFileTest {
    private static final int CAP = 4096;

    @TempDir
    Path dir;

    /** Writes numbered lines of different lengths; returns everything written. */
    private static byte[] fill(OutputStream out, int bytes) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; all.size() < bytes; i++) {
            byte[] line = ("line " + i + " " + "x".repeat(i % 97) + "\n").getBytes();
            out.write(line);
            all.write(line);
        }
        return all.toByteArray();
    }

    private void assertCappedTail(Path file, byte[] written) throws Exception {
        byte[] current = Files.readAllBytes(file);
        byte[] previous = Files.readAllBytes(CappedLogFile.rolledPath(file));
        assertTrue(current.length <= CAP, "file holds " + current.length + " bytes");
        assertTrue(previous.length <= CAP, ".1 holds " + previous.length + " bytes");
        assertTrue(previous.length > CAP / 2, "a roll keeps what the file held: " + previous.length);
        byte[] kept = new byte[previous.length + current.length];
        System.arraycopy(previous, 0, kept, 0, previous.length);
        System.arraycopy(current, 0, kept, previous.length, current.length);
        byte[] tail = new byte[kept.length];
        System.arraycopy(written, written.length - kept.length, tail, 0, kept.length);
        assertArrayEquals(tail, kept, "the two files are the last bytes written, in order");
    }

    @Test
    void aFileWrittenPastItsCapKeepsTheLastTwoCapsWorth() throws Exception {
        Path file = dir.resolve("console.log");
        byte[] written;
        try (CappedLogFile out = CappedLogFile.open(file, CAP)) {
            written = fill(out, 50 * CAP);
        }
        assertCappedTail(file, written);
        assertFalse(Files.exists(dir.resolve("console.log.1.1")));
    }

    @Test
    void anInheritedDescriptorIsCappedInPlace() throws Exception {
        Path file = dir.resolve("vmm.stderr");
        try (FileOutputStream appending = new FileOutputStream(file.toFile(), true)) {
            CappedLogFile out = CappedLogFile.inherited(appending.getFD(), file, CAP);
            byte[] written = fill(out, 20 * CAP);
            out.close();
            assertTrue(appending.getFD().valid(), "closing the cap leaves the descriptor open");
            assertCappedTail(file, written);
            appending.write('!');
        }
        assertTrue(Files.readString(file).endsWith("!"), "the descriptor still appends to the capped file");
    }

    @Test
    void rollIfOverMovesOnlyAnOversizedFile() throws Exception {
        Path file = dir.resolve("vmm.stderr");
        Files.write(file, new byte[CAP]);
        CappedLogFile.rollIfOver(file, CAP);
        assertTrue(Files.exists(file));
        Files.write(file, new byte[CAP + 1]);
        CappedLogFile.rollIfOver(file, CAP);
        assertFalse(Files.exists(file));
        assertEquals(CAP + 1, Files.size(CappedLogFile.rolledPath(file)));
        CappedLogFile.rollIfOver(dir.resolve("absent"), CAP);
    }
}
