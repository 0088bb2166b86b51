package org.enclaveruntime.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** packaging/de_platform_service.service as systemd reads it. */
class SystemdUnitTest {
    @TempDir
    Path root;

    /**
     * `systemd-analyze verify` in a scratch root laid out as the RPM installs it (the unit, /usr/bin/enclavectl)
     * plus this host's system units for the dependencies. --man=no: the man pages are checked by the RPM test
     * (packaging/rpm), which installs them.
     */
    @Test
    void systemdAnalyzeVerifyIsClean() throws Exception {
        Path analyze = Stream.of("/usr/bin/systemd-analyze", "/bin/systemd-analyze").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(analyze != null, "systemd-analyze is not installed on this host (package systemd)");
        Path unit = root.resolve("usr/lib/systemd/system/de_platform_service.service");
        Path systemUnits = Path.of("/usr/lib/systemd/system");
        if (Files.isDirectory(systemUnits)) {
            copyTree(systemUnits, unit.getParent());
        }
        Files.createDirectories(unit.getParent());
        Files.copy(UnitFile.SERVICE, unit, StandardCopyOption.REPLACE_EXISTING);
        Path launcher = root.resolve("usr/bin/enclavectl");
        Files.createDirectories(launcher.getParent());
        Files.copy(UnitFile.SERVICE.resolveSibling("enclavectl"), launcher, StandardCopyOption.COPY_ATTRIBUTES);

        Process p = new ProcessBuilder(analyze.toString(), "verify", "--man=no", "--root=" + root, unit.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertEquals("", output.strip(), "systemd-analyze verify warns");
    }

    @Test
    void theServiceTellsSystemdWhenItIsReadyAndNeverSkipsSilently() {
        UnitFile unit = UnitFile.service();
        assertEquals("notify", unit.value("Type"));
        assertTrue(unit.value("ExecStart").endsWith(" start --foreground"));
        assertFalse(unit.sections().get("Unit").keySet().stream().anyMatch(k -> k.startsWith("Condition")),
                "a Condition makes a host without KVM skip the start silently instead of failing with E400");
        assertEquals("enclave", unit.value("RuntimeDirectory"));
        assertEquals("enclave", unit.value("LogsDirectory"));
        assertTrue(unit.value("DeviceAllow").startsWith("/dev/kvm"));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f) || Files.isSymbolicLink(f)) {
                    Files.copy(f, to.resolve(f.getFileName().toString()), StandardCopyOption.COPY_ATTRIBUTES,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
    }
}
