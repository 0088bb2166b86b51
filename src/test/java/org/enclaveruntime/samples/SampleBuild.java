package org.enclaveruntime.samples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * src/samples built with CMake from a clean directory against the SDK tree the build wrote
 * (target/enclave-sdk), as a user builds it: {@code cmake -B DIR && cmake --build DIR}. enclavectl is this test
 * run's own classes (a script running the test class path), so the tests need no jar from the package phase.
 */
public final class SampleBuild {
    public static final Path PROJECT = Path.of(System.getProperty("enclave.project.dir", "."));
    public static final Path SDK = Path.of(System.getProperty("enclave.build.dir", "target"), "enclave-sdk");
    public static final Path SAMPLES = PROJECT.resolve("src/samples");

    /** What a command printed (stdout and stderr apart) and its exit status. */
    public record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private SampleBuild() {
    }

    /** Whether this host can build the samples; the reason when not. */
    public static String missingTool() {
        for (String tool : List.of("cmake", "g++", "gcc")) {
            try {
                if (run(List.of(tool, "--version"), PROJECT, Map.of(), 30).exit() != 0) {
                    return tool + " does not run";
                }
            } catch (UncheckedIOException e) {
                return tool + " is not installed (bash .ci/setup installs it)";
            }
        }
        return null;
    }

    /**
     * An executable script that runs enclavectl from this JVM's class path, for CMake's ENCLAVECTL.
     */
    public static Path enclavectlScript(Path dir) {
        Path script = dir.resolve("enclavectl");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String body = "#!/bin/sh\nexec '" + java + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '"
                + System.getProperty("java.class.path") + "' org.enclaveruntime.cli.EnclaveCtl \"$@\"\n";
        try {
            Files.writeString(script, body);
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return script;
    }

    /**
     * The SDK's Java API as a jar of this build's classes: `mvn verify` runs the tests before the package phase
     * writes target/enclavectl.jar, which the SDK tree links to.
     */
    public static Path apiJar(Path dir) {
        Path classes = Path.of("target/classes").toAbsolutePath();
        Path jar = dir.resolve("enclavectl-api.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
             var files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString()));
                Files.copy(f, out);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /** Configures and builds {@code source} into {@code build}; fails with CMake's output. */
    public static Run cmake(Path source, Path build, Path enclavectl, String... extra) {
        List<String> configure = new ArrayList<>(List.of("cmake", "-S", source.toString(), "-B", build.toString(),
                "-DEnclaveSDK_DIR=" + SDK.resolve("lib/cmake/EnclaveSDK").toAbsolutePath(),
                "-DENCLAVECTL=" + enclavectl));
        configure.addAll(List.of(extra));
        Run c = run(configure, source, Map.of(), 120);
        if (c.exit() != 0) {
            return c;
        }
        Run b = run(List.of("cmake", "--build", build.toString()), source, Map.of(), 300);
        return new Run(b.exit(), c.out() + b.out(), c.err() + b.err());
    }

    public static Run run(List<String> command, Path dir, Map<String, String> env, int timeoutSeconds) {
        try {
            Path out = Files.createTempFile("sample-out", ".txt");
            Path err = Files.createTempFile("sample-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                    throw new AssertionError(command + " did not end within " + timeoutSeconds + " s; output:\n"
                            + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
                }
                return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
