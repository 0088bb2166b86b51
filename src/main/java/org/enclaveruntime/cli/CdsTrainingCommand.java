package org.enclaveruntime.cli;

import org.enclaveruntime.image.ImageBuilder;
import org.enclaveruntime.linux.LibC;
import org.enclaveruntime.state.EnclaveState;
import org.enclaveruntime.state.RunDirectory;
import org.enclaveruntime.state.StateFile;
import org.enclaveruntime.state.StateRecord;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The build's training run for the class-data archive (target/enclavectl.jsa, docs/performance.md): runs
 * the short commands in this process and loads the classes the VMM needs, so that the JVM records them at
 * exit (-XX:ArchiveClassesAtExit). It needs neither root nor /dev/kvm: the build machine may have neither.
 * What it cannot run (a step that fails on this machine) it skips; the archive is then merely smaller.
 */
@Command(name = "cds-training", hidden = true,
        description = "Exercise the common code paths once so that the build can record a class-data archive.")
final class CdsTrainingCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "A scratch directory (run_dir and log_dir go there).")
    Path dir;

    @Option(names = "--runtime", paramLabel = "ELF",
            description = "An enclave runtime to build a scratch image of, which is then described and planned for.")
    Path runtime;

    @Override
    public Integer call() throws IOException {
        Files.createDirectories(dir);
        Path image = null;
        if (runtime != null && Files.isRegularFile(runtime)) {
            Path scratch = dir.resolve("image.bin");
            if (attempt(() -> new ImageBuilder().runtime(runtime).name("training").version("0").writeTo(scratch))) {
                image = scratch;
            }
        }
        Path run = dir.resolve("run");
        List<String> config = new ArrayList<>(List.of("[enclave]", "cpu_count = 1", "memory = 128M"));
        if (image != null) {
            config.add("image = " + image.toAbsolutePath());
        }
        config.addAll(List.of("[runtime]", "run_dir = " + run, "log_dir = " + dir.resolve("log"), "hugepages = off"));
        String conf = "--config=" + Files.write(dir.resolve("enclave.conf"), config);

        List<String[]> commands = new ArrayList<>(List.of(
                new String[] {"status", conf},
                new String[] {"status", "--output", "json", conf},
                new String[] {"config", "show", conf},
                new String[] {"config", "check", conf},
                new String[] {"explain", "E301"},
                new String[] {"start", "--dry-run", conf}));
        if (image != null) {
            commands.add(new String[] {"image", "describe", image.toString()});
        }
        PrintStream out = System.out;
        PrintStream err = System.err;
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        try {
            System.setOut(discard);
            System.setErr(discard);
            for (String[] command : commands) {
                EnclaveCtl.run(command); // failures are reported on the discarded stderr, as for a user
            }
            // The state file as a running VMM writes it, then `status` of it (CRASHED: no VMM holds the lock).
            if (attempt(() -> new StateFile(new RunDirectory(run).create()).write(new StateRecord(EnclaveState.RUNNING,
                    ProcessHandle.current().pid(), 16L, List.of(1), 128L, "4K", "image.bin", Map.of("pcr0", "00"),
                    null, null, "2026-01-01T00:00:00Z", null, List.of())))) {
                EnclaveCtl.run("status", conf);
                EnclaveCtl.run("status", "--output", "json", conf);
            }
            attempt(() -> {
                LogSetup.configure(dir.resolve("log"), false);
                LoggerFactory.getLogger(CdsTrainingCommand.class).info("class-data training run");
            });
            attempt(() -> LibC.INSTANCE.getpid()); // a lambda: LibC is initialised inside attempt
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        loadOwnClasses();
        return 0;
    }

    /** Runs one training step; a step this machine cannot run is skipped (its classes are not archived). */
    private static boolean attempt(Runnable step) {
        try {
            step.run();
            return true;
        } catch (RuntimeException | LinkageError skipped) {
            return false;
        }
    }

    /** Loads (without initialising) every class of this program, so that the VMM's are archived too. */
    private static void loadOwnClasses() throws IOException {
        Path jar;
        try {
            jar = Path.of(CdsTrainingCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        if (!Files.isRegularFile(jar)) {
            return;
        }
        ClassLoader loader = CdsTrainingCommand.class.getClassLoader();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.startsWith("org/enclaveruntime/") && name.endsWith(".class")) {
                    try {
                        Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                    } catch (ClassNotFoundException | LinkageError skipped) {
                        // not loadable here; it is simply not archived
                    }
                }
            }
        }
    }
}
