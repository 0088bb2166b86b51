package org.enclaveruntime.cli;

import org.enclaveruntime.config.ConfigKeys;
import org.enclaveruntime.config.ConfigLoader;
import org.enclaveruntime.config.ConfigOverrides;
import org.enclaveruntime.image.ImageBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/** `enclavectl image build`: the runtime ELF (and optional kernel parts) into one deterministic image. */
@Command(name = "build",
        description = {"Build an enclave image from the runtime ELF. The same inputs give the same bytes; a build "
                + "time is recorded only when SOURCE_DATE_EPOCH is set."},
        footer = {"", "Example: enclavectl image build --runtime target/guest/runtime.elf --name demo "
                + "--version 1.0 --out image.bin"})
final class ImageBuildCommand implements Runnable {
    // No standard --version here: it is the image's version, as the command line in docs/image-format.md has it.
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    // --version is the image's version here, so enclavectl's own version is -V alone.
    @Option(names = "-V", versionHelp = true, description = "Print version information and exit.")
    boolean versionHelp;

    @Option(names = "--runtime", required = true, paramLabel = "ELF",
            description = "The enclave runtime: a static ELF64 x86-64 executable linked at 1 MiB.")
    Path runtime;

    @Option(names = "--kernel", paramLabel = "FILE", description = "A Linux kernel (bzImage or vmlinux), for cloud hosts.")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "An initrd for --kernel.")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "TEXT", description = "The kernel command line (printable ASCII).")
    String cmdline;

    @Option(names = "--name", paramLabel = "NAME", description = "Name recorded in the metadata (default: enclave).")
    String name;

    @Option(names = "--version", paramLabel = "VERSION",
            description = "Version recorded in the metadata (default: unversioned).")
    String version;

    // Text, read by the configuration's rules for the same keys: `--memory 3M` is the same error (code, words,
    // exit status) here as on `start` and as `memory = 3M` in enclave.conf.
    @Option(names = ConfigOverrides.FLAG_MEMORY, paramLabel = "SIZE",
            description = "Default enclave memory, such as 256M or 1G (default: 64M, or what the runtime needs).")
    String memory;

    @Option(names = ConfigOverrides.FLAG_CPU_COUNT, paramLabel = "N", description = "Default vCPU count (default: 1).")
    String cpuCount;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "Where to write the image (replaced atomically).")
    Path out;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        ImageBuilder b = new ImageBuilder()
                .builder("enclavectl " + VersionProvider.version())
                .sourceDateEpoch(System.getenv("SOURCE_DATE_EPOCH"))
                .runtime(runtime);
        if (kernel != null) {
            b.kernel(kernel);
        }
        if (initrd != null) {
            b.initrd(initrd);
        }
        if (cmdline != null) {
            b.cmdline(cmdline);
        }
        if (name != null) {
            b.name(name);
        }
        if (version != null) {
            b.version(version);
        }
        if (cpuCount != null) {
            b.vcpuCount(Math.toIntExact(ConfigLoader.flagValue(ConfigKeys.CPU_COUNT, ConfigOverrides.FLAG_CPU_COUNT,
                    cpuCount)));
        }
        if (memory != null) {
            b.memoryMib(Math.toIntExact(ConfigLoader.flagValue(ConfigKeys.MEMORY, ConfigOverrides.FLAG_MEMORY,
                    memory) >> 20));
        }
        ImageResult result = ImageResult.of(b.writeTo(out));
        output.print(spec.commandLine().getOut(), result, () -> "wrote " + result.path() + " (" + result.size()
                + " bytes)\n" + result.measurementLines());
    }
}
