package org.enclaveruntime.image;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;
import org.enclaveruntime.errors.GeneralErrors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/** Writes header, table, sections and zero padding, in the canonical layout the header describes. */
final class ImageWriter {
    private ImageWriter() {
    }

    static void write(ImageHeader header, Map<SectionType, ByteBuffer> contents, WritableByteChannel out)
            throws IOException {
        byte[] headerAndTable = header.encode();
        writeFully(out, ByteBuffer.wrap(headerAndTable));
        long position = headerAndTable.length;
        for (ImageSection s : header.sections()) {
            writeFully(out, ByteBuffer.allocate((int) (s.offset() - position)));
            ByteBuffer content = contents.get(s.type()).duplicate();
            if (content.remaining() != s.size()) {
                throw new IllegalStateException(s.type() + " content is " + content.remaining() + " bytes, planned "
                        + s.size());
            }
            writeFully(out, content);
            position = s.end();
        }
    }

    static byte[] toBytes(ImageHeader header, Map<SectionType, ByteBuffer> contents) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(header.imageSize(), 1 << 20));
        try {
            write(header, contents, Channels.newChannel(bytes));
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return bytes.toByteArray();
    }

    /**
     * Writes to a temporary file next to {@code target}, syncs it and renames it over {@code target}: a
     * reader sees the old image or the new one, never half of one; on failure the temporary file is removed.
     */
    static void writeAtomically(Path target, ImageHeader header, Map<SectionType, ByteBuffer> contents) {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path temp = null;
        try {
            temp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
            // createTempFile makes it 0600; an image is not secret, and signing in place keeps the old mode.
            Files.setPosixFilePermissions(temp, Files.exists(absolute)
                    ? Files.getPosixFilePermissions(absolute) : PosixFilePermissions.fromString("rw-r--r--"));
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                write(header, contents, ch);
                ch.force(true);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("this file system cannot replace the file atomically", e);
            }
            temp = null;
        } catch (IOException e) {
            throw new EnclaveException(GeneralErrors.IO, "cannot write " + target + ": " + IoReason.of(e), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // The original error is what matters; a stray temp file is named after the target.
                }
            }
        }
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }
}
