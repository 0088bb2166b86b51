package org.enclaveruntime.image;

import org.enclaveruntime.errors.IoReason;
import org.enclaveruntime.errors.EnclaveException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an image from a runtime ELF (and, for cloud hosts, kernel, initrd and command line). Deterministic:
 * the same inputs and settings give the same bytes; the only time recorded is SOURCE_DATE_EPOCH, if given.
 */
public final class ImageBuilder {
    static final int DEFAULT_MEMORY_MIB = 64;
    private static final int MAX_CMDLINE = 4096;

    private record Input(SectionType type, String fileName, byte[] bytes) {
    }

    private Input runtime;
    private Input kernel;
    private Input initrd;
    private String cmdline;
    private String name = "enclave";
    private String version = "unversioned";
    private String builder = "enclavectl";
    private Integer memoryMib;
    private int vcpuCount = 1;
    private Long sourceDateEpoch;

    public ImageBuilder runtime(Path elf) {
        runtime = read(SectionType.RUNTIME, elf, "--runtime");
        return this;
    }

    public ImageBuilder runtime(byte[] elf, String fileName) {
        runtime = new Input(SectionType.RUNTIME, fileName, elf.clone());
        return this;
    }

    public ImageBuilder kernel(Path file) {
        kernel = read(SectionType.KERNEL, file, "--kernel");
        return this;
    }

    public ImageBuilder initrd(Path file) {
        initrd = read(SectionType.INITRD, file, "--initrd");
        return this;
    }

    public ImageBuilder cmdline(String commandLine) {
        cmdline = commandLine;
        return this;
    }

    public ImageBuilder name(String value) {
        name = requireText("--name", value);
        return this;
    }

    public ImageBuilder version(String value) {
        version = requireText("--version", value);
        return this;
    }

    /** What made the image, such as "enclavectl 0.1.0"; recorded in the metadata. */
    public ImageBuilder builder(String value) {
        builder = requireText("builder", value);
        return this;
    }

    /** The default memory recorded in the header; without it: 64 MiB, or more if the image needs more. */
    public ImageBuilder memoryMib(int mib) {
        if (mib < ImageHeader.MIN_MEMORY_MIB || mib > ImageHeader.MAX_MEMORY_MIB) {
            throw input("--memory " + mib + " MiB is out of range (" + ImageHeader.MIN_MEMORY_MIB + " MiB to "
                    + (ImageHeader.MAX_MEMORY_MIB >> 20) + " TiB)");
        }
        memoryMib = mib;
        return this;
    }

    public ImageBuilder vcpuCount(int count) {
        if (count < 1 || count > ImageHeader.MAX_VCPUS) {
            throw input("--cpu-count " + count + " is out of range (1 to " + ImageHeader.MAX_VCPUS + ")");
        }
        vcpuCount = count;
        return this;
    }

    /** Records a build time; null leaves the image timestamp-free. */
    public ImageBuilder sourceDateEpoch(Long secondsSinceEpoch) {
        boolean representable = secondsSinceEpoch == null
                || (secondsSinceEpoch >= 0 && secondsSinceEpoch <= Instant.MAX.getEpochSecond());
        if (!representable) {
            throw input("SOURCE_DATE_EPOCH " + secondsSinceEpoch + " is negative or beyond the year 1000000000");
        }
        sourceDateEpoch = secondsSinceEpoch;
        return this;
    }

    /** Parses the SOURCE_DATE_EPOCH environment value (null or empty: not set). */
    public ImageBuilder sourceDateEpoch(String environmentValue) {
        if (environmentValue == null || environmentValue.isEmpty()) {
            return sourceDateEpoch((Long) null);
        }
        try {
            return sourceDateEpoch(Long.parseLong(environmentValue.trim()));
        } catch (NumberFormatException e) {
            throw input("SOURCE_DATE_EPOCH='" + environmentValue + "' is not a number of seconds since 1970");
        }
    }

    /** Builds the image and checks it as a reader would. */
    public EnclaveImage build() {
        byte[] bytes = toBytes();
        return EnclaveImage.parse(ByteBuffer.wrap(bytes), name + " (being built)");
    }

    public byte[] toBytes() {
        Plan plan = plan();
        return ImageWriter.toBytes(plan.header(), plan.contents());
    }

    /** Writes the image atomically to {@code output} and returns it as read back from the file. */
    public EnclaveImage writeTo(Path output) {
        Plan plan = plan();
        ImageWriter.writeAtomically(output, plan.header(), plan.contents());
        return EnclaveImage.open(output);
    }

    private record Plan(ImageHeader header, Map<SectionType, ByteBuffer> contents) {
    }

    private Plan plan() {
        if (runtime == null) {
            throw input("a runtime is required (--runtime ELF)");
        }
        if (kernel == null && (initrd != null || cmdline != null)) {
            throw input("--initrd and --cmdline need --kernel");
        }
        RuntimeElf elf = RuntimeElf.parse(ByteBuffer.wrap(runtime.bytes()), "--runtime " + runtime.fileName());
        List<Input> inputs = new ArrayList<>();
        inputs.add(runtime);
        if (kernel != null) {
            inputs.add(kernel);
        }
        if (cmdline != null) {
            inputs.add(new Input(SectionType.CMDLINE, null, cmdlineBytes(cmdline)));
        }
        if (initrd != null) {
            inputs.add(initrd);
        }
        Map<SectionType, ByteBuffer> contents = new EnumMap<>(SectionType.class);
        List<ImageHeader.Planned> planned = new ArrayList<>();
        List<ImageMetadata.BuildInput> recorded = new ArrayList<>();
        for (Input in : inputs) {
            Sha384 hash = Sha384.digest(in.bytes());
            contents.put(in.type(), ByteBuffer.wrap(in.bytes()));
            planned.add(new ImageHeader.Planned(in.type(), in.bytes().length, hash));
            recorded.add(new ImageMetadata.BuildInput(in.type().name(), in.fileName(), in.bytes().length, hash.hex()));
        }
        String buildTime = sourceDateEpoch == null ? null : Instant.ofEpochSecond(sourceDateEpoch).toString();
        byte[] metadata = new ImageMetadata(ImageMetadata.FORMAT, name, version, builder, sourceDateEpoch, buildTime,
                recorded).toJson();
        contents.put(SectionType.METADATA, ByteBuffer.wrap(metadata));
        planned.add(new ImageHeader.Planned(SectionType.METADATA, metadata.length, Sha384.digest(metadata)));

        long needed = elf.imageEnd() + EnclaveImage.STACK_PER_VCPU * vcpuCount;
        long neededMib = (needed + (1 << 20) - 1) >> 20;
        int memory;
        if (memoryMib == null) {
            memory = (int) Math.max(DEFAULT_MEMORY_MIB, (neededMib + 1) & ~1L);
        } else {
            long bytes = (long) memoryMib << 20;
            elf.requireFits(bytes, bytes - EnclaveImage.STACK_PER_VCPU * vcpuCount);
            memory = memoryMib;
        }
        if (memory > ImageHeader.MAX_MEMORY_MIB) {
            throw input("the runtime needs " + neededMib + " MiB, more than the format's limit");
        }
        ImageHeader header = ImageHeader.place(vcpuCount, memory, planned);
        if (header.imageSize() > EnclaveImage.MAX_IMAGE_SIZE) {
            throw input("the image would be " + header.imageSize() + " bytes; images of 2 GiB or more are not "
                    + "supported");
        }
        return new Plan(header, contents);
    }

    private static byte[] cmdlineBytes(String value) {
        if (value.isEmpty() || value.length() > MAX_CMDLINE) {
            throw input("--cmdline must be 1 to " + MAX_CMDLINE + " characters, not " + value.length());
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw input("--cmdline has character U+" + String.format("%04X", (int) c) + " at position " + i
                        + "; only printable ASCII is allowed");
            }
        }
        return value.getBytes(StandardCharsets.US_ASCII);
    }

    private static Input read(SectionType type, Path file, String option) {
        byte[] bytes;
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw input(option + " " + file + " is not a regular file");
        }
        try {
            if (Files.size(file) > EnclaveImage.MAX_IMAGE_SIZE) {
                throw input(option + " " + file + " is " + Files.size(file) + " bytes; 2 GiB or more is not supported");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw input(option + " " + file + ": no such file");
        } catch (IOException e) {
            throw input(option + " " + file + ": cannot read: " + IoReason.of(e));
        }
        if (bytes.length == 0) {
            throw input(option + " " + file + " is empty");
        }
        Path name = file.getFileName();
        return new Input(type, name == null ? file.toString() : name.toString(), bytes);
    }

    private static String requireText(String option, String value) {
        if (value == null || value.isBlank() || value.length() > 256) {
            throw input(option + " must be 1 to 256 characters and not blank");
        }
        return value;
    }

    private static EnclaveException input(String problem) {
        return new EnclaveException(ImageErrors.BAD_BUILD_INPUT, problem);
    }
}
