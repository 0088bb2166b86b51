package org.enclaveruntime.image;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An image that has passed every check of docs/image-format.md: structure, CRC, section hashes, runtime
 * ELF, metadata, and (if signed) that the signature matches its own certificate. Whether the signer is
 * trusted is a separate question: {@link #verifySignature(X509Certificate)}. Immutable; the section
 * buffers it hands out are read-only views of the file's bytes.
 */
public final class EnclaveImage {
    /** The stack each vCPU gets at the top of RAM (docs/guest-abi.md). */
    public static final long STACK_PER_VCPU = 64 * 1024;
    /** Implementation limit: the whole file is mapped as one buffer. */
    public static final long MAX_IMAGE_SIZE = Integer.MAX_VALUE;

    private final String origin;
    private final ImageHeader header;
    private final Map<SectionType, ByteBuffer> contents;
    private final RuntimeElf runtime;
    private final ImageMetadata metadata;
    private final Optional<ImageSignature> signature;
    private final Measurements measurements;

    EnclaveImage(String origin, ImageHeader header, Map<SectionType, ByteBuffer> contents, RuntimeElf runtime,
                 ImageMetadata metadata, Optional<ImageSignature> signature, Measurements measurements) {
        this.origin = origin;
        this.header = header;
        this.contents = new EnumMap<>(contents);
        this.runtime = runtime;
        this.metadata = metadata;
        this.signature = signature;
        this.measurements = measurements;
    }

    /**
     * Maps and checks the image file; hashing runs at the speed of the page cache or the disk. The
     * section buffers stay views of the file: for inspecting an image (describe, verify). To boot, use
     * {@link #load(Path)}, so that what is booted cannot change after it was checked.
     */
    public static EnclaveImage open(Path path) {
        return read(path, false);
    }

    /**
     * Reads the image file into private memory and checks it there: what the VMM then copies into the
     * enclave is exactly what was hashed, even if someone writes into the file meanwhile.
     */
    public static EnclaveImage load(Path path) {
        return read(path, true);
    }

    private static EnclaveImage read(Path path, boolean copy) {
        // Checked before opening: opening a FIFO would block until someone writes to it.
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw new EnclaveException(ImageErrors.UNREADABLE, path + ": not a regular file");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MAX_IMAGE_SIZE) {
                throw new EnclaveException(ImageErrors.BAD_LAYOUT, path + ": the file is " + size
                        + " bytes; images of 2 GiB or more are not supported");
            }
            ByteBuffer bytes;
            if (copy || size == 0) {
                bytes = ByteBuffer.allocate((int) size);
                while (bytes.hasRemaining() && ch.read(bytes) >= 0) {
                    // read until full or end of file; a file that shrank meanwhile fails the size check below
                }
                bytes.flip();
            } else {
                bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            }
            return ImageReader.read(bytes, path.toString());
        } catch (NoSuchFileException e) {
            throw new EnclaveException(ImageErrors.UNREADABLE, path + ": no such file", e);
        } catch (IOException e) {
            throw new EnclaveException(ImageErrors.UNREADABLE, path + ": cannot read: " + IoReason.of(e), e);
        }
    }

    /** Checks an image held in memory (its remaining bytes). */
    public static EnclaveImage parse(ByteBuffer bytes, String origin) {
        return ImageReader.read(bytes, origin);
    }

    public static EnclaveImage parse(byte[] bytes) {
        return parse(ByteBuffer.wrap(bytes), "image");
    }

    /** The path or name the image was read from; error messages start with it. */
    public String origin() {
        return origin;
    }

    public int formatVersion() {
        return ImageHeader.FORMAT_VERSION;
    }

    public long size() {
        return header.imageSize();
    }

    /** The vCPU count the image suggests when the configuration does not set one. */
    public int defaultVcpuCount() {
        return header.vcpuCount();
    }

    /** The memory (MiB) the image suggests when the configuration does not set it. */
    public int defaultMemoryMib() {
        return header.memoryMib();
    }

    /** The section table, in file order. */
    public List<ImageSection> sections() {
        return header.sections();
    }

    /** A read-only view of a section's bytes (position 0, little-endian order). */
    public Optional<ByteBuffer> content(SectionType type) {
        return Optional.ofNullable(contents.get(type)).map(ByteBuffer::duplicate);
    }

    /** The runtime ELF's bytes, for the VMM to load as {@link #runtime()} describes. */
    public ByteBuffer runtimeElf() {
        return content(SectionType.RUNTIME).orElseThrow();
    }

    /** The parsed runtime ELF: entry point and PT_LOAD segments, checked by every rule of docs/image-format.md. */
    public RuntimeElf runtime() {
        return runtime;
    }

    public ImageMetadata metadata() {
        return metadata;
    }

    public Optional<ImageSignature> signature() {
        return signature;
    }

    public Measurements measurements() {
        return measurements;
    }

    /**
     * Requires that the image is signed by {@code trusted} or by a certificate it issued (through the chain
     * stored in the image). The signature itself was already checked when the image was read.
     *
     * @throws EnclaveException {@link ImageErrors#NOT_SIGNED} or {@link ImageErrors#UNTRUSTED_SIGNER}
     */
    public void verifySignature(X509Certificate trusted) {
        ImageSignature sig = signature.orElseThrow(() -> new EnclaveException(ImageErrors.NOT_SIGNED,
                origin + ": the image is not signed, but a trusted certificate ("
                        + trusted.getSubjectX500Principal().getName() + ") is required"));
        sig.requireTrustedBy(trusted, origin);
    }

    /**
     * The least RAM that holds this image: the runtime's highest segment, rounded up to 4 KiB, plus 64 KiB
     * of stack per vCPU at the top (docs/guest-abi.md). Heap is whatever is left between them.
     */
    public long requiredMemoryBytes(int vcpuCount) {
        return Math.addExact(runtime.imageEnd(), Math.multiplyExact(STACK_PER_VCPU, (long) vcpuCount));
    }

    /** {@link #requireFits(long, int)} with the image's default vCPU count. */
    public void requireFits(long memoryBytes) {
        requireFits(memoryBytes, header.vcpuCount());
    }

    /**
     * The rule the boot applies too ({@link RuntimeElf#requireFits}): the runtime ends below the lowest
     * vCPU stack.
     *
     * @throws EnclaveException {@link ImageErrors#DOES_NOT_FIT}, saying how much memory is needed
     */
    public void requireFits(long memoryBytes, int vcpuCount) {
        runtime.requireFits(memoryBytes, memoryBytes - Math.multiplyExact(STACK_PER_VCPU, (long) vcpuCount));
    }

    ImageHeader header() {
        return header;
    }

    @Override
    public String toString() {
        return origin + " (" + header.imageSize() + " bytes, pcr0 " + measurements.pcr0().hex() + ")";
    }
}
